"""Resizing of whole videos before encoding (VIP, JHMDB protocols)."""
from typing import Optional, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmhvc.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ResizeVideo(BaseTransform):
    """Resize every frame of a video, and its given masks, to one size.

    The size is either fixed (``scale``, e.g. ``(320, 320)`` for JHMDB) or
    set by the short side with the aspect ratio kept (``short_side``, e.g.
    560 for VIP; the long side is rounded to the nearest pixel). Frames are
    resized bilinearly and given masks with nearest-neighbour
    interpolation. Annotations used for evaluation are left as they are:
    ``gt_masks`` keep the annotation's resolution and keypoints stay in the
    original pixel coordinates; ``ori_shape`` keeps the original size and
    ``img_shape`` records the new one.

    A given object that loses all its pixels is dropped from
    ``given_object_ids`` and ``object_ids``; a given frame left without
    objects is dropped from ``given_frames`` and ``given_masks``.

    Required keys: ``img`` (np.uint8 ``(T, H, W, 3)``).
    Optional keys: ``given_masks`` (np.uint8 ``(K, H, W)``),
    ``given_frames``, ``given_object_ids``, ``object_ids``.

    Modified keys: ``img``, ``given_masks``, ``given_frames``,
    ``given_object_ids``, ``object_ids``.
    Added keys: ``img_shape`` (``(H', W')``), ``scale_factor``
    (``(W' / W, H' / H)``).

    Args:
        scale: Output ``(width, height)``.
        short_side: Output length of the shorter side.
    """

    def __init__(self,
                 scale: Optional[Tuple[int, int]] = None,
                 short_side: Optional[int] = None) -> None:
        if (scale is None) == (short_side is None):
            raise ValueError('ResizeVideo needs exactly one of scale and '
                             f'short_side, got {scale} and {short_side}')
        if scale is not None and (len(scale) != 2 or min(scale) < 1):
            raise ValueError(f'scale must be (width, height) >= 1, got '
                             f'{scale}')
        if short_side is not None and short_side < 1:
            raise ValueError(f'short_side must be >= 1, got {short_side}')
        self.scale = None if scale is None else tuple(int(s) for s in scale)
        self.short_side = short_side

    def _output_size(self, height: int, width: int) -> Tuple[int, int]:
        """``(width, height)`` after resizing."""
        if self.scale is not None:
            return self.scale
        ratio = self.short_side / min(height, width)
        return int(width * ratio + 0.5), int(height * ratio + 0.5)

    def transform(self, results: dict) -> dict:
        video = results.get('img')
        if not isinstance(video, np.ndarray) or video.ndim != 4:
            raise KeyError('ResizeVideo needs "img", an np.uint8 '
                           '(T, H, W, 3) array from LoadVideoFrames')
        height, width = video.shape[1:3]
        out_w, out_h = self._output_size(height, width)
        if (out_h, out_w) != (height, width):
            results['img'] = np.stack([
                cv2.resize(
                    frame, (out_w, out_h), interpolation=cv2.INTER_LINEAR)
                for frame in video
            ])
            if 'given_masks' in results:
                self._resize_given(results, (out_w, out_h))
        results['img_shape'] = (out_h, out_w)
        results['scale_factor'] = (out_w / width, out_h / height)
        return results

    @staticmethod
    def _resize_given(results: dict, size: Tuple[int, int]) -> None:
        """Resize the given masks and drop objects that vanish."""
        masks = np.stack([
            cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
            for mask in results['given_masks']
        ])
        if 'given_object_ids' not in results:
            results['given_masks'] = masks
            return
        keep, kept_ids = [], []
        for k, ids in enumerate(results['given_object_ids']):
            present = set(np.unique(masks[k]).tolist())
            ids = [int(i) for i in ids if int(i) in present]
            if ids:
                keep.append(k)
                kept_ids.append(ids)
        if not keep:
            raise ValueError(
                f'Sequence "{results.get("seq_name")}": every given object '
                f'vanishes when its masks are resized to {size[0]}x{size[1]}')
        results['given_masks'] = masks[keep]
        results['given_object_ids'] = kept_ids
        if 'given_frames' in results:
            results['given_frames'] = [
                results['given_frames'][k] for k in keep
            ]
        results['object_ids'] = sorted(set().union(*kept_ids))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'short_side={self.short_side})')
