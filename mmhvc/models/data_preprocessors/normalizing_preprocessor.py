"""Per-channel pixel normalisation shared by the data preprocessors."""
from typing import Optional, Sequence, Tuple

import torch
from mmengine.model import BaseDataPreprocessor
from torch import Tensor


class NormalizingPreprocessor(BaseDataPreprocessor):
    """Base of the data preprocessors that normalise 0-255 pixels.

    Holds ``mean`` and ``std`` as non-persistent buffers (they follow the
    model's device but are not saved in checkpoints), shaped to broadcast
    over tensors whose channels lie on axis ``CHANNEL_AXIS`` followed by
    the two spatial axes, e.g. ``(1, 1, 3, 1, 1)`` for
    ``(B, V, 3, H, W)`` inputs (``CHANNEL_AXIS = 2``).

    Subclasses set the class attributes:

    - ``MEAN`` and ``STD``: the statistics used when ``mean`` or ``std``
      is None, 0-255 units, RGB order.
    - ``CHANNEL_AXIS``: axis of the 3 channels in the tensors passed to
      :meth:`normalize`; the height and width axes follow it.

    Args:
        mean: Per-channel mean in 0-255 units, in the output channel order
            (RGB when ``bgr_to_rgb`` is True); None for ``MEAN``.
        std: Per-channel standard deviation in 0-255 units, same order;
            None for ``STD``.
        bgr_to_rgb: Whether the inputs are BGR and are flipped to RGB.
        non_blocking: Whether to copy to the device without blocking.
    """

    MEAN: Tuple[float, float, float]
    STD: Tuple[float, float, float]
    CHANNEL_AXIS: int

    def __init__(self,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 bgr_to_rgb: bool = True,
                 non_blocking: Optional[bool] = False) -> None:
        super().__init__(non_blocking)
        mean = self.MEAN if mean is None else mean
        std = self.STD if std is None else std
        if len(mean) != 3 or len(std) != 3:
            raise ValueError(f'mean and std need 3 values, got {mean} and '
                             f'{std}')
        if any(s <= 0 for s in std):
            raise ValueError(f'std must be positive, got {tuple(std)}')
        self.bgr_to_rgb = bgr_to_rgb
        shape = (1, ) * self.CHANNEL_AXIS + (3, 1, 1)
        self.register_buffer(
            'mean',
            torch.tensor(mean, dtype=torch.float32).view(shape),
            persistent=False)
        self.register_buffer(
            'std',
            torch.tensor(std, dtype=torch.float32).view(shape),
            persistent=False)

    def normalize(self, pixels: Tensor) -> Tensor:
        """0-255 pixels, channels on ``CHANNEL_AXIS`` (BGR when
        ``bgr_to_rgb``) -> float32 ``(rgb - mean) / std``, same shape."""
        x = pixels.to(self.mean.dtype)
        if self.bgr_to_rgb:
            x = x.flip(self.CHANNEL_AXIS)
        return (x - self.mean) / self.std
