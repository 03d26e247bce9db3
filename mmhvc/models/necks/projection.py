"""The dense projection block HVC uses as projector and as predictor."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule

from mmhvc.registry import MODELS


@MODELS.register_module()
class HVCProjector(BaseModule):
    """Per-position (1x1 convolution) residual MLP.

    ``r = LeakyReLU(BN(conv1(x)))``; ``y = LeakyReLU(BN(conv2(r) + r))``;
    output ``conv3(y)``. The same block is the projector after the encoder
    and the predictor of the online branch.

    Args:
        in_channels: Channels of the input map.
        hid_channels: Channels of ``r`` and ``y``.
        out_channels: Channels of the output map.
        norm_cfg: Config of both normalisation layers.
        negative_slope: Slope of the LeakyReLU for negative inputs.
        init_cfg: MMEngine init config; None keeps PyTorch's default
            initialisation, as the reference does.
    """

    def __init__(self,
                 in_channels: int = 256,
                 hid_channels: int = 256,
                 out_channels: int = 256,
                 norm_cfg: dict = dict(type='BN'),
                 negative_slope: float = 0.01,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.conv1 = nn.Conv2d(in_channels, hid_channels, kernel_size=1)
        self.bn1 = build_norm_layer(norm_cfg, hid_channels)[1]
        self.conv2 = nn.Conv2d(hid_channels, hid_channels, kernel_size=1)
        self.bn2 = build_norm_layer(norm_cfg, hid_channels)[1]
        self.conv3 = nn.Conv2d(hid_channels, out_channels, kernel_size=1)
        self.act = nn.LeakyReLU(negative_slope, inplace=True)

    def forward(
        self, x: Union[torch.Tensor, Sequence[torch.Tensor]]
    ) -> Tuple[torch.Tensor]:
        """Project a feature map.

        Args:
            x: (B, in_channels, H, W), or a tuple of maps (neck convention,
                e.g. the backbone output) of which the last one is used.

        Returns:
            A one-element tuple holding the (B, out_channels, H, W)
            projection, so that ``nn.Sequential(backbone, neck)`` and other
            necks see the same tuple convention.
        """
        if not isinstance(x, torch.Tensor):
            x = x[-1]
        if x.dim() != 4 or x.size(1) != self.in_channels:
            raise ValueError(
                f'HVCProjector expects (B, {self.in_channels}, H, W) input, '
                f'got {tuple(x.shape)}.')
        r = self.act(self.bn1(self.conv1(x)))
        y = self.act(self.bn2(self.conv2(r) + r))
        return (self.conv3(y), )
