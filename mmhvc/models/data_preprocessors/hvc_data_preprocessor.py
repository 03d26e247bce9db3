"""Batch the two crop views of every image, normalised, on the device."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from mmhvc.registry import MODELS

# Training normalisation of HVC, on 0-255 pixel values, RGB order.
HVC_TRAIN_MEAN = (0.4914 * 255, 0.4822 * 255, 0.4465 * 255)
HVC_TRAIN_STD = (0.2023 * 255, 0.1994 * 255, 0.2010 * 255)


@MODELS.register_module()
class HVCDataPreprocessor(BaseDataPreprocessor):
    """Stack view pairs into one batch, convert to float and normalise.

    Input (from the data loader with ``pseudo_collate``):
    ``dict(inputs=list of B torch.uint8 (2, 3, S_h, S_w) view pairs,
    data_samples=list of B data samples)``; a stacked
    (B, 2, 3, S_h, S_w) tensor is accepted too.

    Output: ``dict(inputs=torch.float32 (B, 2, 3, S_h, S_w),
    data_samples=...)`` on the model's device, where
    ``inputs = (pixels[, :, order] - mean) / std`` with ``order`` reversing
    the channels when ``bgr_to_rgb`` is True. The data samples (with their
    ``crop_boxes``) are moved to the same device.

    Args:
        mean: Per-channel mean in 0-255 units, in the output channel order
            (RGB when ``bgr_to_rgb`` is True).
        std: Per-channel standard deviation in 0-255 units, same order.
        bgr_to_rgb: Whether to reverse the channel order of the inputs.
        non_blocking: Whether to copy to the device without blocking.
    """

    def __init__(self,
                 mean: Sequence[float] = HVC_TRAIN_MEAN,
                 std: Sequence[float] = HVC_TRAIN_STD,
                 bgr_to_rgb: bool = True,
                 non_blocking: Optional[bool] = False) -> None:
        super().__init__(non_blocking)
        if len(mean) != 3 or len(std) != 3:
            raise ValueError('mean and std must have 3 values, got '
                             f'{len(mean)} and {len(std)}')
        if any(s <= 0 for s in std):
            raise ValueError(f'std must be positive, got {tuple(std)}')
        self.bgr_to_rgb = bgr_to_rgb
        self.register_buffer(
            'mean',
            torch.tensor(mean, dtype=torch.float32).view(1, 1, 3, 1, 1),
            persistent=False)
        self.register_buffer(
            'std',
            torch.tensor(std, dtype=torch.float32).view(1, 1, 3, 1, 1),
            persistent=False)

    def forward(self, data: dict, training: bool = False) -> dict:
        """Move to the device, stack, convert and normalise.

        Args:
            data: ``dict(inputs=..., data_samples=...)`` from the loader.
            training: Unused; the same processing applies in every mode.

        Returns:
            ``dict(inputs=Tensor (B, 2, 3, S_h, S_w), data_samples=...)``.
        """
        if 'inputs' not in data:
            raise KeyError('HVCDataPreprocessor needs the key "inputs"')
        data = self.cast_data(data)
        inputs = data['inputs']
        if not isinstance(inputs, torch.Tensor):
            shapes = {tuple(view_pair.shape) for view_pair in inputs}
            if len(shapes) != 1:
                raise ValueError('HVCDataPreprocessor needs view pairs of one '
                                 f'shape, got shapes {sorted(shapes)}')
            inputs = torch.stack(list(inputs))
        if inputs.dim() != 5 or inputs.shape[2] != 3:
            raise ValueError('HVCDataPreprocessor expects inputs of shape '
                             '(B, V, 3, S_h, S_w) (V = 2 views), got '
                             f'{tuple(inputs.shape)}')
        inputs = inputs.float()
        if self.bgr_to_rgb:
            inputs = inputs.flip(2)
        inputs = (inputs - self.mean) / self.std
        return dict(inputs=inputs, data_samples=data.get('data_samples'))
