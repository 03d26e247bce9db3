"""One video on the web demo page: its frames, the masks painted or
uploaded for some of them, and the propagation runs, without the page.

The page keeps one :class:`VideoSession` per browser tab. Each
propagation goes through :class:`mmhvc.apis.MaskPropagation`, the runner
behind :func:`mmhvc.apis.propagate_masks`, so a run on the page gives the
masks that one call of the API gives for the session's annotations, start
frame, direction and settings (:meth:`VideoSession.api_arguments`).

Conventions: frames are ``np.uint8`` ``(H, W, 3)``, BGR for the model and
RGB for the page; masks are ``np.uint8`` ``(H, W)`` object ids; painted
layers are ``np.uint8`` ``(H, W, 4)`` RGBA.
"""
import os
import os.path as osp
import zipfile
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from torch import nn

from mmhvc.apis import MaskPropagation
from mmhvc.datasets import davis_palette, write_indexed_png
from mmhvc.fileio import write_video
from mmhvc.visualization import correspondence_heatmap, overlay_masks

#: Objects the brush offers, ids 1..NUM_OBJECTS in the DAVIS palette.
NUM_OBJECTS = 10
#: A painted pixel has at least this alpha (0-255) in its layer.
PAINT_ALPHA = 64


def brush_colours(num: int = NUM_OBJECTS) -> List[str]:
    """``'#rrggbb'`` colours of the brush: black paints the background,
    then object ids 1..num in the DAVIS palette."""
    return ['#%02x%02x%02x' % tuple(c) for c in davis_palette()[:num + 1]]


def layer_to_ids(layer: np.ndarray, num: int = NUM_OBJECTS) -> np.ndarray:
    """The ids painted on a layer with :func:`brush_colours`.

    A pixel whose alpha is at least :data:`PAINT_ALPHA` gets the id of the
    nearest brush colour (strokes are antialiased at their edges).

    Args:
        layer: ``(H, W, 4)`` uint8 RGBA.
        num: Number of object colours.

    Returns:
        ``(H, W)`` int16 ids, -1 where nothing is painted.
    """
    layer = np.asarray(layer)
    if layer.ndim != 3 or layer.shape[2] != 4:
        raise ValueError(f'a painted layer must be (H, W, 4) RGBA, got '
                         f'{layer.shape}')
    colours = davis_palette()[:num + 1].astype(np.int32)
    rgb = layer[..., :3].astype(np.int32)
    distance = ((rgb[..., None, :] - colours)**2).sum(-1)
    return np.where(layer[..., 3] >= PAINT_ALPHA, distance.argmin(-1),
                    -1).astype(np.int16)


def editor_mask(value: Optional[dict], base: np.ndarray) -> np.ndarray:
    """The label map of a frame after painting over ``base``.

    Args:
        value: ``{'background': ..., 'layers': [(H, W, 4), ...], ...}``
            as Gradio's ``ImageEditor`` gives it (numpy, RGBA), or None.
        base: ``(H, W)`` uint8 ids the frame had before painting.

    Returns:
        ``(H, W)`` uint8 ids: ``base`` with the painted pixels replaced
        (later layers over earlier ones).
    """
    mask = base.copy()
    for k, layer in enumerate((value or {}).get('layers') or []):
        if layer is None:
            continue
        if tuple(layer.shape[:2]) != base.shape:
            raise ValueError(
                f'painted layer {k + 1} is {layer.shape[1]}x'
                f'{layer.shape[0]} (WxH), the frame {base.shape[1]}x'
                f'{base.shape[0]}')
        painted = layer_to_ids(layer)
        mask = np.where(painted >= 0, painted, mask).astype(np.uint8)
    return mask


class VideoSession:
    """A video, its annotated masks and its propagation runs.

    The first annotated frame is the start frame; every later annotation
    is a correction (see :class:`mmhvc.apis.MaskPropagation`).

    Args:
        model: A model from :func:`mmhvc.apis.init_model`.
        frames: T BGR frames.
        names: T frame names (mask file names in the downloads).
        label: What the video is, for messages.
        frames_per_second: Measured speed of propagation.
        folder: Where the results of the runs go.
    """

    def __init__(self, model: nn.Module, frames: Sequence[np.ndarray],
                 names: Sequence[str], label: str, frames_per_second: float,
                 folder: str) -> None:
        self.model = model
        self.frames = list(frames)
        self.rgb = [np.ascontiguousarray(f[..., ::-1]) for f in frames]
        self.names = list(names)
        self.label = label
        self.frames_per_second = frames_per_second
        self.size = tuple(self.frames[0].shape[:2])
        self.folder = folder
        self.num_runs = 0
        self.annotations: Dict[int, np.ndarray] = {}
        self.start: Optional[int] = None
        self.direction = 'forward'
        self.runner: Optional[MaskPropagation] = None
        self._runner_key: Optional[tuple] = None

    @property
    def masks(self) -> np.ndarray:
        """``(T, H, W)`` uint8 results of the last run (0 before one)."""
        if self.runner is None:
            return np.zeros((len(self.frames), *self.size), np.uint8)
        return self.runner.masks

    def shown_mask(self, t: int) -> np.ndarray:
        """The mask the page shows for frame ``t``: its annotation, else
        its last result."""
        if t in self.annotations:
            return self.annotations[t]
        return self.masks[t]

    def annotate(self, t: int, mask: np.ndarray) -> bool:
        """Take ``mask`` as frame ``t``'s annotation when it differs from
        :meth:`shown_mask` (so an untouched frame is no annotation); the
        first annotation sets the start frame.

        Returns:
            Whether the annotations changed.
        """
        if not 0 <= t < len(self.frames):
            raise ValueError(f'frame {t} is outside the video '
                             f'(0-{len(self.frames) - 1})')
        if mask.shape != self.size:
            raise ValueError(f'the mask of frame {t} is {mask.shape}, the '
                             f'frames {self.size}')
        if np.array_equal(mask, self.shown_mask(t)):
            return False
        if self.start is None:
            self.start = t
        self.annotations[t] = mask.astype(np.uint8)
        return True

    def clear(self) -> None:
        """Forget the annotations and results."""
        self.annotations = {}
        self.start = None
        self.runner = None
        self._runner_key = None

    def api_arguments(self, settings: dict,
                      short_side: Optional[int]) -> dict:
        """The keyword arguments of :func:`mmhvc.apis.propagate_masks`
        (besides the model and frames) that give this session's run."""
        return dict(
            annotations=dict(self.annotations),
            direction=self.direction,
            start=self.start,
            settings=dict(settings),
            short_side=short_side)

    def frames_to_run(self, direction: str) -> int:
        """Frames a run from scratch propagates (for the duration
        estimate)."""
        if self.start is None:
            return 0
        forward = len(self.frames) - self.start
        backward = self.start + 1
        return dict(
            forward=forward, backward=backward,
            both=forward + backward)[direction]

    def iter_run(self, direction: str, settings: dict,
                 short_side: Optional[int]) -> Iterator[int]:
        """Propagate the annotations, yielding each frame index as its mask
        is ready; the runner is kept while the settings stay the same, so
        a run after a correction restarts from the corrected frame."""
        if self.start is None:
            raise ValueError('no annotation yet: paint the objects of a '
                             'frame or upload its mask, then propagate')
        key = (tuple(sorted(settings.items())), short_side)
        if key != self._runner_key:
            self.runner = MaskPropagation(self.model, self.frames, settings,
                                          short_side)
            self._runner_key = key
        self.direction = direction
        return self.runner.iter_run(self.annotations, direction, self.start)

    def overlay(self, t: int) -> np.ndarray:
        """RGB frame ``t`` with its shown mask drawn over it."""
        return overlay_masks(self.rgb[t], self.shown_mask(t), davis_palette())

    def heatmap(self, t: int, target: int, point: Tuple[float, float],
                temperature: float) -> np.ndarray:
        """RGB drawing of where pixel ``point`` ``(x, y)`` of frame ``t``
        goes in frame ``target``
        (:func:`mmhvc.visualization.correspondence_heatmap`)."""
        for frame in (t, target):
            if not 0 <= frame < len(self.frames):
                raise ValueError(f'frame {frame} is outside the video '
                                 f'(0-{len(self.frames) - 1})')
        return correspondence_heatmap(self.model, self.rgb[t],
                                      self.rgb[target], point, temperature)

    def write_results(self, fps: float) -> Dict[str, str]:
        """Write the results of the last run into a new folder
        ``run<k>`` of :attr:`folder`.

        Returns:
            Paths of ``masks`` (a zip of indexed PNGs ``<name>.png``),
            ``mp4`` and ``webm`` (the overlay video).
        """
        palette = davis_palette()
        masks = self.masks
        self.num_runs += 1
        folder = osp.join(self.folder, f'run{self.num_runs}')
        os.makedirs(folder, exist_ok=True)
        paths = dict(
            masks=osp.join(folder, 'masks.zip'),
            mp4=osp.join(folder, 'overlay.mp4'),
            webm=osp.join(folder, 'overlay.webm'))
        overlays = [
            overlay_masks(rgb, mask, palette)
            for rgb, mask in zip(self.rgb, masks)
        ]
        write_video(overlays, paths['mp4'], fps)
        write_video(overlays, paths['webm'], fps)
        mask_dir = osp.join(folder, 'masks')
        with zipfile.ZipFile(paths['masks'], 'w',
                             zipfile.ZIP_STORED) as archive:
            for name, mask in zip(self.names, masks):
                path = osp.join(mask_dir, f'{name}.png')
                write_indexed_png(path, mask, palette)
                archive.write(path, f'{name}.png')
        return paths
