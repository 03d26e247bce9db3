"""Packing of a loaded video into the model's input format."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement

from mmhvc.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackVideoInputs(BaseTransform):
    """Pack a whole video, its masks and its meta information.

    Required keys: ``img`` (np.uint8 (T, H, W, 3), BGR).
    Optional keys: ``given_masks`` (np.uint8 (K, H, W)), ``gt_masks``
    (np.uint8 (T, H, W)) and the ``meta_keys``.

    Returns:
        dict: ``inputs``, torch.uint8 (T, 3, H, W) BGR frames at full
        resolution, and ``data_samples``, a
        :class:`mmengine.structures.BaseDataElement` whose data fields are
        ``given_masks`` and ``gt_masks`` (torch.uint8, those present in the
        results) and whose metainfo holds the ``meta_keys`` present in the
        results.

    Args:
        meta_keys: Keys of the results copied into the metainfo.
    """

    def __init__(
        self,
        meta_keys: Sequence[str] = (
            'seq_name', 'frame_names', 'frame_paths', 'ori_shape',
            'object_ids', 'given_frames', 'given_object_ids', 'palette',
            'single_object', 'split', 'year', 'resolution', 'eval_frames',
            'object_categories')
    ) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        video = results.get('img')
        if not isinstance(video, np.ndarray) or video.ndim != 4 or \
                video.shape[-1] != 3:
            raise KeyError('PackVideoInputs needs "img", an np.uint8 '
                           '(T, H, W, 3) array from LoadVideoFrames')
        inputs = torch.from_numpy(
            np.ascontiguousarray(video.transpose(0, 3, 1, 2)))
        data_sample = BaseDataElement(metainfo={
            key: results[key]
            for key in self.meta_keys if key in results
        })
        for key in ('given_masks', 'gt_masks'):
            if key in results:
                data_sample.set_data({
                    key:
                    torch.from_numpy(np.ascontiguousarray(results[key]))
                })
        return dict(inputs=inputs, data_samples=data_sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
