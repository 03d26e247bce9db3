"""Videos on the model's device, normalised one frame at a time."""
from torch import Tensor

from mmhvc.registry import MODELS
from .normalizing_preprocessor import NormalizingPreprocessor

# ImageNet normalisation of the test-time encoders, 0-255 units, RGB order.
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


@MODELS.register_module()
class VideoDataPreprocessor(NormalizingPreprocessor):
    """Move whole videos to the device and normalise their frames on demand.

    A video of a few hundred full-resolution frames as float32 would take
    gigabytes, so :meth:`forward` only moves the data to the model's device
    and keeps the frames as they are (torch.uint8 ``(T, 3, H, W)``, 0-255);
    the propagation model calls :meth:`normalize_frame` on each frame right
    before encoding it.

    The arguments (``mean``, ``std``, ``bgr_to_rgb``, ``non_blocking``) are
    those of :class:`NormalizingPreprocessor`; ``mean`` and ``std`` default
    to the ImageNet statistics, ``IMAGENET_MEAN`` and ``IMAGENET_STD``.
    """

    MEAN = IMAGENET_MEAN
    STD = IMAGENET_STD
    CHANNEL_AXIS = 0

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
        return self.normalize(frame)[None]
