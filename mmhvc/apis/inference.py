"""Build a propagation model and propagate masks through a user's own
video."""
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch import nn

from mmhvc.checkpoint import load_model_weights
from mmhvc.fileio import iter_frames, list_frames
from mmhvc.registry import MODELS
from .mask_propagation import MaskPropagation


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None) -> nn.Module:
    """Build a propagation model from its config and load a checkpoint.

    Args:
        config: A propagation config (e.g.
            ``configs/propagation/davis2017_val_r18.py``) or its path.
        checkpoint: An mmhvc training checkpoint or a backbone-only file.
            None keeps the random initialisation.
        device: Where the model runs, e.g. ``'cpu'`` or ``'cuda:0'``.
        cfg_options: Overrides merged into the config.

    Returns:
        The model in eval mode on ``device``: ``extract_feat(frame)`` maps a
        ``(3, H, W)`` 0-255 frame to ``(C, h, w)`` L2-normalised features,
        ``propagate_video`` propagates the given labels of a video.

    Raises:
        KeyError: The config has no ``model``.
        TypeError: The model is not a test-time propagation model.
    """
    if isinstance(config, str):
        config = Config.fromfile(config)
    if cfg_options:
        config.merge_from_dict(cfg_options)
    init_default_scope(config.get('default_scope', 'mmhvc'))
    if 'model' not in config:
        raise KeyError(f'{config.filename}: the config has no "model"')
    model = MODELS.build(config.model)
    if not hasattr(model, 'propagate_video'):
        raise TypeError(
            f'{config.filename}: model type "{config.model.get("type")}" is '
            'not a propagation model; use a config from configs/propagation/')
    if checkpoint is None:
        model.init_weights()
    else:
        load_model_weights(model, checkpoint)
    return model.to(device).eval()


def read_video(path: str) -> Tuple[List[np.ndarray], List[str]]:
    """Read all frames of a video file or of a folder of frame images.

    Args:
        path: A video file (mp4, avi, ... through OpenCV) or a folder whose
            images, sorted by name, are the frames.

    Returns:
        ``(frames, names)``: (H, W, 3) uint8 BGR frames and one name per
        frame (the file stem, or a zero-padded index for a video file).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: No frame can be decoded, or the frames differ in size.
    """
    frames = list(iter_frames(path))
    if not frames:
        raise ValueError(f'cannot read any frame from {path}: not a video '
                         'OpenCV can decode')
    if osp.isdir(path):
        names = [osp.splitext(osp.basename(p))[0] for p in list_frames(path)]
    else:
        names = [f'{i:05d}' for i in range(len(frames))]
    shapes = {frame.shape for frame in frames}
    if len(shapes) > 1:
        raise ValueError(f'frames of {path} differ in size: {sorted(shapes)}')
    return frames, names


@torch.no_grad()
def propagate_masks(model: nn.Module,
                    frames: Sequence[np.ndarray],
                    annotations: Dict[int, np.ndarray],
                    direction: str = 'forward',
                    start: Optional[int] = None,
                    settings: Optional[dict] = None,
                    short_side: Optional[int] = None,
                    progress: Optional[Callable[[int], None]] = None
                    ) -> np.ndarray:
    """Propagate the masks annotated in some frames to the other frames.

    Propagation goes from the ``start`` frame forward to the last frame
    and/or backward to frame 0. Each other annotated frame corrects the
    result there: its mask replaces it, and the frame becomes a long-term
    frame of the context (every later query compares with it in full, as
    with the start frame). See :class:`MaskPropagation`, which the web demo
    drives run after run with the same results.

    Args:
        model: A model from :func:`init_model`.
        frames: T frames, (H, W, 3) uint8 BGR.
        annotations: Frame index -> (H, W) uint8 object ids (0 background,
            255 void, which is treated as background).
        direction: ``'forward'``, ``'backward'`` or ``'both'``.
        start: The annotated frame to start from; None: the first annotated
            frame (the last one for ``'backward'``).
        settings: Overrides of the propagator's ``context_size``, ``topk``,
            ``radius`` and ``temperature``.
        short_side: Encode frames resized to this short side (never
            enlarged); None: at their size.
        progress: Called with each frame index as its mask is ready.

    Returns:
        (T, H, W) uint8 object ids; 0 in the frames no pass reaches.
    """
    runner = MaskPropagation(model, frames, settings, short_side)
    return runner.run(annotations, direction, start, progress)


def propagate_mask(model: nn.Module, frames: Sequence[np.ndarray],
                   first_mask: np.ndarray) -> np.ndarray:
    """Propagate the object masks of the first frame to all frames.

    Args:
        model: A model from :func:`init_model`.
        frames: T frames, (H, W, 3) uint8 BGR.
        first_mask: (H, W) uint8 object ids of frame 0 (0 background, 255
            void, which is treated as background).

    Returns:
        (T, H, W) uint8 object ids; frame 0 is ``first_mask``.
    """
    height, width = frames[0].shape[:2]
    if first_mask.shape != (height, width):
        raise ValueError(
            f'the first-frame mask is {first_mask.shape[1]}x'
            f'{first_mask.shape[0]} (WxH) but the frames are {width}x{height}')
    if not np.any((first_mask > 0) & (first_mask < 255)):
        raise ValueError('the first-frame mask is empty: no object to track')
    return propagate_masks(model, frames, {0: first_mask})


def read_first_mask(path: str, size: Optional[Tuple[int, int]] = None
                    ) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Read a first-frame mask.

    An indexed ('P') PNG gives object ids and its palette; a grey image is
    read as ids too, except that a 0/255 binary mask becomes one object.

    Args:
        path: The mask image.
        size: ``(H, W)`` to resize it to with nearest-neighbour
            interpolation; None keeps it as it is.

    Returns:
        ``(mask, palette)``: (H, W) uint8 ids and the (256, 3) palette, or
        None when the file has none.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'first-frame mask not found: {path}')
    from PIL import Image
    try:
        image = Image.open(path)
        image.load()
    except Exception as e:
        raise ValueError(f'cannot decode the mask {path}: {e}') from e
    palette = None
    if image.mode == 'P':
        mask = np.asarray(image, dtype=np.uint8)
        palette = np.zeros((256, 3), np.uint8)
        colours = np.asarray(image.getpalette() or [], np.uint8)
        colours = colours[:colours.size // 3 * 3].reshape(-1, 3)[:256]
        palette[:len(colours)] = colours
    elif image.mode in ('L', '1'):
        mask = np.asarray(image.convert('L'), dtype=np.uint8)
        if set(np.unique(mask)) <= {0, 255}:
            mask = (mask == 255).astype(np.uint8)
    else:
        raise ValueError(
            f'{path} is a "{image.mode}" image; the mask must be an indexed '
            '(palette) PNG of object ids or a grey-level id map')
    if size is not None and mask.shape != tuple(size):
        mask = mmcv.imresize(
            mask, (size[1], size[0]), interpolation='nearest')
    return mask, palette
