"""Loading the ground truth of a video annotated on some of its frames."""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmhvc.registry import TRANSFORMS
from .video import VOID_ID, read_sized_annotation


@TRANSFORMS.register_module()
class LoadSparseAnnotations(BaseTransform):
    """Read the annotations of the annotated frames of a video (VOST).

    The annotations are indexed PNGs (0 background, 1..254 objects, 255
    void). They are placed at their frames in ``(T, H, W)`` label maps
    whose other frames are void (255), so ``gt_masks`` lines up with the
    frames as for densely annotated datasets, and ``gt_frames`` says which
    frames are annotated.

    Required keys: ``ori_shape`` ((H, W), from ``LoadVideoFrames``),
    ``frame_paths`` (T paths), ``gt_frames`` (K sorted frame indices),
    ``gt_frame_ann_paths`` (K paths).

    Added keys: ``gt_masks`` (np.uint8 (T, H, W), void 255 kept, 255 on
    the frames without annotation).

    Args:
        backend_args: Arguments of the MMEngine file backend.
    """

    def __init__(self, backend_args: Optional[dict] = None) -> None:
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        if 'ori_shape' not in results:
            raise KeyError('LoadSparseAnnotations needs "ori_shape": put '
                           'LoadVideoFrames before it in the pipeline')
        frames = [int(t) for t in results['gt_frames']]
        paths = results['gt_frame_ann_paths']
        num_frames = len(results['frame_paths'])
        name = results.get('seq_name')
        if len(frames) != len(paths):
            raise ValueError(f'{len(paths)} annotations for {len(frames)} '
                             f'gt_frames of sequence "{name}"')
        if frames != sorted(set(frames)) or not all(
                0 <= t < num_frames for t in frames):
            raise ValueError(
                f'gt_frames {frames} of sequence "{name}" must be sorted, '
                f'distinct indices of its {num_frames} frames')
        shape = tuple(results['ori_shape'])
        gt_masks = np.full((num_frames, ) + shape, VOID_ID, dtype=np.uint8)
        for t, path in zip(frames, paths):
            gt_masks[t] = read_sized_annotation(path, shape,
                                                self.backend_args)[0]
        results['gt_masks'] = gt_masks
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'backend_args={self.backend_args})')
