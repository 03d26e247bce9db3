import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmengine.hooks import Hook
from mmengine.utils import mkdir_or_exist

from mmhvc.fileio import atomic_path, write_image, write_video
from mmhvc.registry import HOOKS
from mmhvc.visualization import overlay_masks


@HOOKS.register_module()
class VOSVisualizationHook(Hook):
    """Write overlays of the propagated masks during testing.

    For every sequence, frame ``t`` is written to
    ``<log_dir>/<out_dir>/<seq>/<frame>.jpg`` (the prediction, side by side
    with the ground truth when the dataset has it), and the frames are also
    joined into ``<log_dir>/<out_dir>/<seq>.mp4``.

    Args:
        draw: Whether to write anything; off unless ``--show-dir`` is given.
        out_dir: Folder, relative to the run's log dir unless absolute.
        alpha: Opacity of the mask colours.
        fps: Frame rate of the written videos.
        write_video: Whether to write one mp4 per sequence.
    """

    priority = 'NORMAL'

    def __init__(self,
                 draw: bool = False,
                 out_dir: str = 'vis',
                 alpha: float = 0.5,
                 fps: int = 10,
                 write_video: bool = True) -> None:
        self.draw = draw
        self.out_dir = out_dir
        self.alpha = alpha
        self.fps = fps
        self.write_video = write_video

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch: Optional[dict] = None,
                        outputs: Optional[Sequence] = None) -> None:
        if not self.draw or outputs is None:
            return
        from mmhvc.datasets.palette import davis_palette
        root = osp.join(runner.log_dir, self.out_dir)
        for frames, sample in zip(data_batch['inputs'], outputs):
            palette = sample.metainfo.get('palette')
            palette = davis_palette() if palette is None else palette
            pred = sample.pred_masks.cpu().numpy()
            gt = (sample.gt_masks.cpu().numpy()
                  if 'gt_masks' in sample else None)
            self._write_sequence(root, sample.metainfo, frames, pred, gt,
                                 np.asarray(palette, dtype=np.uint8))

    def _write_sequence(self, root: str, metainfo: dict, frames, pred, gt,
                        palette: np.ndarray) -> None:
        """Write the overlays of one sequence; every file appears complete
        (written under a temporary name, then renamed).

        Args:
            root: Output folder.
            metainfo: The sample's ``seq_name`` and ``frame_names``.
            frames: ``(T, 3, H, W)`` uint8 BGR tensor.
            pred: ``(T, H, W)`` predicted ids.
            gt: ``(T, H, W)`` ground-truth ids, or None.
            palette: ``(256, 3)`` uint8 RGB colours of the ids.
        """
        seq_dir = osp.join(root, metainfo['seq_name'])
        mkdir_or_exist(seq_dir)
        frames = np.ascontiguousarray(
            frames.permute(0, 2, 3, 1).cpu().numpy()[..., ::-1])
        overlays = []
        for t, name in enumerate(metainfo['frame_names']):
            image = overlay_masks(frames[t], pred[t], palette, self.alpha)
            if gt is not None:
                image = np.concatenate([
                    image,
                    overlay_masks(frames[t], gt[t], palette, self.alpha)
                ], axis=1)
            with atomic_path(
                    osp.join(seq_dir, f'{name}.jpg'),
                    keep_extension=True) as image_path:
                write_image(image, image_path)
            overlays.append(image)
        if self.write_video:
            write_video(overlays, f'{seq_dir}.mp4', self.fps)
