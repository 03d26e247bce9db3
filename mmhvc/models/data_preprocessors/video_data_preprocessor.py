"""Videos on the model's device, normalised one frame at a time."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor
from torch import Tensor

from mmhvc.registry import MODELS

# ImageNet normalisation of the test-time encoders, 0-255 units, RGB order.
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


@MODELS.register_module()
class VideoDataPreprocessor(BaseDataPreprocessor):
    """Move whole videos to the device and normalise their frames on demand.

    A video of a few hundred full-resolution frames as float32 would take
    gigabytes, so :meth:`forward` only moves the data to the model's device
    and keeps the frames as they are (torch.uint8 ``(T, 3, H, W)``, 0-255);
    the propagation model calls :meth:`normalize_frame` on each frame right
    before encoding it.

    Args:
        mean: Per-channel mean in 0-255 units, in the output channel order
            (RGB when ``bgr_to_rgb`` is True).
        std: Per-channel standard deviation in 0-255 units, same order.
        bgr_to_rgb: Whether the frames are BGR and are flipped to RGB.
        non_blocking: Whether to copy to the device without blocking.
    """

    def __init__(self,
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD,
                 bgr_to_rgb: bool = True,
                 non_blocking: Optional[bool] = False) -> None:
        super().__init__(non_blocking)
        if len(mean) != 3 or len(std) != 3:
            raise ValueError(f'mean and std need 3 values, got {mean} and '
                             f'{std}')
        if any(s <= 0 for s in std):
            raise ValueError(f'std must be positive, got {tuple(std)}')
        self.bgr_to_rgb = bgr_to_rgb
        self.register_buffer(
            'mean',
            torch.tensor(mean, dtype=torch.float32).view(3, 1, 1),
            persistent=False)
        self.register_buffer(
            'std',
            torch.tensor(std, dtype=torch.float32).view(3, 1, 1),
            persistent=False)

    def forward(self, data: dict, training: bool = False) -> dict:
        """Move ``dict(inputs=videos, data_samples=...)`` to the device.

        Args:
            data: From the loader with ``pseudo_collate``: ``inputs`` a list
                of torch.uint8 ``(T, 3, H, W)`` videos (or a
                ``(B, T, 3, H, W)`` tensor), ``data_samples`` one per video.
            training: Unused; test-time propagation only.

        Returns:
            The same dict on the model's device, frames unchanged.
        """
        return self.cast_data(data)

    def normalize_frame(self, frame: Tensor) -> Tensor:
        """``(3, H, W)`` frame (0-255, BGR when ``bgr_to_rgb``) ->
        float32 ``(1, 3, H, W)`` ``(rgb - mean) / std``."""
        x = frame.to(self.mean.dtype)
        if self.bgr_to_rgb:
            x = x.flip(0)
        return ((x - self.mean) / self.std)[None]
