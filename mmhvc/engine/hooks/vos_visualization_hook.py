import os.path as osp
from contextlib import nullcontext
from typing import Optional, Sequence

import cv2
import mmcv
import numpy as np
from mmengine.hooks import Hook
from mmengine.utils import mkdir_or_exist

from mmhvc.registry import HOOKS
from mmhvc.fileio import atomic_path


def overlay_masks(frame: np.ndarray, mask: np.ndarray, palette: np.ndarray,
                  alpha: float = 0.5) -> np.ndarray:
    """Blend a label map over a frame.

    Args:
        frame: (H, W, 3) uint8 BGR image.
        mask: (H, W) integer label map; 0 is background and is left as it is,
            255 (void) too.
        palette: (256, 3) uint8 RGB colours indexed by label.
        alpha: Opacity of the label colours.

    Returns:
        (H, W, 3) uint8 BGR image with coloured objects and their contours.
    """
    out = frame.copy()
    colours = palette[:, ::-1]
    foreground = (mask > 0) & (mask < 255)
    blended = (1 - alpha) * frame + alpha * colours[mask]
    out[foreground] = blended[foreground].astype(np.uint8)
    for label in np.unique(mask[foreground]):
        contours, _ = cv2.findContours((mask == label).astype(np.uint8),
                                       cv2.RETR_EXTERNAL,
                                       cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1,
                         tuple(int(c) for c in colours[label]), 1)
    return out


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
            gt = sample.gt_masks.cpu().numpy() if 'gt_masks' in sample else None
            self._write_sequence(root, sample.metainfo, frames, pred, gt,
                                 np.asarray(palette, dtype=np.uint8))

    def _write_sequence(self, root: str, metainfo: dict, frames, pred, gt,
                        palette: np.ndarray) -> None:
        """Write the overlays of one sequence; every file appears complete
        (written under a temporary name, then renamed)."""
        seq_dir = osp.join(root, metainfo['seq_name'])
        mkdir_or_exist(seq_dir)
        frames = frames.permute(0, 2, 3, 1).cpu().numpy()
        video = atomic_path(f'{seq_dir}.mp4', keep_extension=True) \
            if self.write_video else nullcontext()
        with video as video_path:
            writer = None
            try:
                for t, name in enumerate(metainfo['frame_names']):
                    image = overlay_masks(frames[t], pred[t], palette,
                                          self.alpha)
                    if gt is not None:
                        image = np.concatenate([
                            image,
                            overlay_masks(frames[t], gt[t], palette,
                                          self.alpha)
                        ], axis=1)
                    with atomic_path(
                            osp.join(seq_dir, f'{name}.jpg'),
                            keep_extension=True) as image_path:
                        mmcv.imwrite(image, image_path)
                    if video_path is not None:
                        if writer is None:
                            writer = cv2.VideoWriter(
                                video_path, cv2.VideoWriter_fourcc(*'mp4v'),
                                self.fps, (image.shape[1], image.shape[0]))
                        writer.write(image)
            finally:
                if writer is not None:
                    writer.release()
