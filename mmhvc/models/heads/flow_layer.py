"""The pseudo-motion ("flow") layer of HVC's dynamic correspondence."""
from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule

from mmhvc.registry import MODELS


@MODELS.register_module()
class HVCFlowLayer(BaseModule):
    """Map a pair of feature maps to a 2-channel pseudo-motion field.

    ``concat(q, k)`` -> 1x1 conv -> BN -> ReLU -> 1x1 conv -> BN. The order
    of the two inputs matters: ``flow(q, k)`` is the forward and
    ``flow(k, q)`` the backward field.

    Args:
        in_channels: Channels of each of the two inputs (the convolution
            sees ``2 * in_channels``).
        hid_channels: Channels after the first convolution.
        out_channels: Channels of the field (2: a displacement-like vector
            per position).
        norm_cfg: Config of both normalisation layers.
        init_cfg: MMEngine init config; None keeps PyTorch's default
            initialisation, as the reference does.
    """

    def __init__(self,
                 in_channels: int = 256,
                 hid_channels: int = 256,
                 out_channels: int = 2,
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.conv1 = nn.Conv2d(2 * in_channels, hid_channels, kernel_size=1)
        self.bn1 = build_norm_layer(norm_cfg, hid_channels)[1]
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(hid_channels, out_channels, kernel_size=1)
        self.bn2 = build_norm_layer(norm_cfg, out_channels)[1]

    def forward(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        """Field from ``q`` towards ``k``.

        Args:
            q: (B, in_channels, H, W).
            k: (B, in_channels, H, W), same grid as ``q``.

        Returns:
            (B, out_channels, H, W), not normalised.
        """
        if q.shape != k.shape or q.dim() != 4 or q.size(1) != self.in_channels:
            raise ValueError(
                f'HVCFlowLayer expects two (B, {self.in_channels}, H, W) maps '
                f'of the same shape, got {tuple(q.shape)} and '
                f'{tuple(k.shape)}.')
        x = self.relu(self.bn1(self.conv1(torch.cat((q, k), dim=1))))
        return self.bn2(self.conv2(x))
