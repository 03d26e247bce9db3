"""Pack the two crop views of one image into model inputs."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement

from mmhvc.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackCropPairInputs(BaseTransform):
    """Pack the output of ``RandomResizedCropPair`` for the data loader.

    Required keys:

    - img: np.uint8 (2, S_h, S_w, 3), the two views
    - crop_boxes: (2, 4) normalised crop boxes
    - every key of ``meta_keys``

    Returns ``dict(inputs, data_samples)``:

    - inputs: torch.uint8 (2, 3, S_h, S_w), channel order unchanged (BGR)
    - data_samples: :class:`BaseDataElement` with the data field
      ``crop_boxes`` (torch.float32 (2, 4)) and ``meta_keys`` as metainfo.

    Args:
        meta_keys: Keys of the result dict copied to the metainfo.
    """

    def __init__(
        self,
        meta_keys: Sequence[str] = ('img_path', 'ori_shape', 'img_shape')
    ) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        """Convert the views and boxes to tensors.

        Args:
            results: Result dict of the pipeline.

        Returns:
            ``dict(inputs=Tensor, data_samples=BaseDataElement)``.
        """
        for key in ('img', 'crop_boxes') + self.meta_keys:
            if key not in results:
                raise KeyError(f'PackCropPairInputs needs the key "{key}" '
                               f'(present: {sorted(results)})')
        img = results['img']
        if not isinstance(img, np.ndarray) or img.ndim != 4 \
                or img.shape[0] != 2 or img.shape[3] != 3:
            shape = getattr(img, 'shape', type(img))
            raise ValueError('PackCropPairInputs expects "img" of shape '
                             f'(2, S_h, S_w, 3), got {shape}')
        boxes = np.asarray(results['crop_boxes'], dtype=np.float32)
        if boxes.shape != (2, 4):
            raise ValueError('PackCropPairInputs expects "crop_boxes" of '
                             f'shape (2, 4), got {boxes.shape}')
        inputs = torch.from_numpy(
            np.ascontiguousarray(img.transpose(0, 3, 1, 2)))
        data_sample = BaseDataElement(
            metainfo={key: results[key]
                      for key in self.meta_keys},
            crop_boxes=torch.from_numpy(boxes))
        return dict(inputs=inputs, data_samples=data_sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
