"""Batch the two crop views of every image, normalised, on the device."""
import torch

from mmhvc.registry import MODELS
from .normalizing_preprocessor import NormalizingPreprocessor

# Training normalisation of HVC, on 0-255 pixel values, RGB order.
HVC_TRAIN_MEAN = (0.4914 * 255, 0.4822 * 255, 0.4465 * 255)
HVC_TRAIN_STD = (0.2023 * 255, 0.1994 * 255, 0.2010 * 255)


@MODELS.register_module()
class HVCDataPreprocessor(NormalizingPreprocessor):
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

    The arguments (``mean``, ``std``, ``bgr_to_rgb``, ``non_blocking``) are
    those of :class:`NormalizingPreprocessor`; ``mean`` and ``std`` default
    to HVC's training statistics, ``HVC_TRAIN_MEAN`` and ``HVC_TRAIN_STD``.
    """

    MEAN = HVC_TRAIN_MEAN
    STD = HVC_TRAIN_STD
    CHANNEL_AXIS = 2

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
        return dict(
            inputs=self.normalize(inputs),
            data_samples=data.get('data_samples'))
