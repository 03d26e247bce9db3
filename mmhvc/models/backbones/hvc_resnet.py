"""ResNet encoder with torchvision parameter names and configurable strides.

HVC trains a ResNet whose layer3 and layer4 run at stride 1, so a 256x256
crop yields a 32x32 feature map (output stride 8). The parameter names are
the torchvision ones (``conv1``, ``bn1``, ``layer{i}.{j}.conv1`` ...,
``layer{i}.0.downsample.0/1``), so torchvision checkpoints and the official
HVC encoder weights load without renaming.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple, Type, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

from mmhvc.registry import MODELS


def _conv3x3(in_channels: int, out_channels: int, stride: int,
             dilation: int) -> nn.Conv2d:
    """3x3 convolution whose padding keeps the size at stride 1."""
    return nn.Conv2d(
        in_channels,
        out_channels,
        kernel_size=3,
        stride=stride,
        padding=dilation,
        dilation=dilation,
        bias=False)


class ResidualBlock(nn.Module):
    """A residual block: ``relu(residual(x) + shortcut(x))``.

    The shortcut is ``downsample`` (a projection), or the identity when it
    is None. Subclasses build the layers of the residual branch in
    :meth:`build_residual`, compute it in :meth:`residual` and name, in
    ``LAST_NORM``, the normalisation layer that ends it.

    Args:
        in_channels: Channels of the block input.
        planes: Channels of the inner convolutions; the block outputs
            ``planes * expansion``.
        stride: Stride of the block's strided convolution and of the
            shortcut.
        dilation: Dilation of the 3x3 convolutions.
        downsample: Shortcut projection, or None for the identity.
        norm_cfg: Config of the normalisation layers.
    """

    expansion: int
    LAST_NORM: str

    def __init__(self, in_channels: int, planes: int, stride: int,
                 dilation: int, downsample: Optional[nn.Module],
                 norm_cfg: dict) -> None:
        super().__init__()
        self.build_residual(in_channels, planes, stride, dilation, norm_cfg)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    @property
    def last_norm(self) -> nn.Module:
        """The normalisation layer just before the residual addition."""
        return getattr(self, self.LAST_NORM)

    def build_residual(self, in_channels: int, planes: int, stride: int,
                       dilation: int, norm_cfg: dict) -> None:
        """Add the convolution and normalisation layers of the residual
        branch (the arguments are those of the constructor)."""
        raise NotImplementedError

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """The residual branch, before the addition and the last ReLU."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in_channels, H, W) -> (B, planes * expansion, H / stride,
        W / stride)."""
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(self.residual(x) + identity)


class BasicBlock(ResidualBlock):
    """Two 3x3 convolutions, the first one strided (``expansion`` is 1);
    see :class:`ResidualBlock` for the arguments."""

    expansion = 1
    LAST_NORM = 'bn2'

    def build_residual(self, in_channels: int, planes: int, stride: int,
                       dilation: int, norm_cfg: dict) -> None:
        self.conv1 = _conv3x3(in_channels, planes, stride, dilation)
        self.bn1 = build_norm_layer(norm_cfg, planes)[1]
        self.conv2 = _conv3x3(planes, planes, 1, dilation)
        self.bn2 = build_norm_layer(norm_cfg, planes)[1]

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """3x3 conv -> norm -> ReLU -> 3x3 conv -> norm."""
        out = self.relu(self.bn1(self.conv1(x)))
        return self.bn2(self.conv2(out))


class Bottleneck(ResidualBlock):
    """1x1 -> 3x3 -> 1x1 bottleneck, stride on the 3x3 (torchvision v1.5),
    ``expansion`` 4; see :class:`ResidualBlock` for the arguments."""

    expansion = 4
    LAST_NORM = 'bn3'

    def build_residual(self, in_channels: int, planes: int, stride: int,
                       dilation: int, norm_cfg: dict) -> None:
        out_channels = planes * self.expansion
        self.conv1 = nn.Conv2d(in_channels, planes, kernel_size=1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, planes)[1]
        self.conv2 = _conv3x3(planes, planes, stride, dilation)
        self.bn2 = build_norm_layer(norm_cfg, planes)[1]
        self.conv3 = nn.Conv2d(planes, out_channels, kernel_size=1, bias=False)
        self.bn3 = build_norm_layer(norm_cfg, out_channels)[1]

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """1x1 conv -> norm -> ReLU -> 3x3 conv -> norm -> ReLU -> 1x1
        conv -> norm."""
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.bn3(self.conv3(out))


Block = Type[ResidualBlock]


@MODELS.register_module()
class HVCResNet(BaseModule):
    """ResNet backbone of HVC (torchvision layout, configurable strides).

    The stem (7x7 convolution at stride 2, then 3x3 max pooling at stride 2)
    always reduces the input by 4; ``strides`` then set the stride of each
    stage. The HVC default ``(1, 2, 1, 1)`` gives an output stride of 8 for
    every stage from layer2 on.

    Args:
        depth: 18, 34, 50, 101 or 152.
        in_channels: Channels of the input image.
        num_stages: Number of residual stages that are built (1 to 4);
            stages beyond it do not exist, e.g. ``num_stages=3`` drops layer4
            for label propagation.
        strides: Stride of the first block of each stage. Either one value
            per built stage or four values (of which the first
            ``num_stages`` are used).
        dilations: Dilation of the 3x3 convolutions of each stage, same
            length rules as ``strides``.
        out_indices: Stages (0-based, ``< num_stages``) whose outputs are
            returned, in this order.
        frozen_stages: Stages whose parameters are frozen and whose norm
            layers stay in eval mode; -1 freezes nothing, 0 the stem, ``i``
            the stem and layer1..layer``i``.
        norm_cfg: Config of the normalisation layers (mmcv's
            ``build_norm_layer``).
        norm_eval: Keep every BatchNorm in eval mode (frozen running
            statistics) while the model trains.
        zero_init_residual: Zero the weight of the last norm layer of every
            residual block, so that each block starts as the identity. Not
            applied when ``init_cfg`` is or contains a ``Pretrained`` config.
        init_cfg: None for HVC's initialisation (conv weights
            ``normal(0, sqrt(2 / (k * k * out_channels)))``, norm weight 1 and
            bias 0), or any MMEngine init config, e.g.
            ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.
    """

    arch_settings: Dict[int, Tuple[Block, Tuple[int, int, int, int]]] = {
        18: (BasicBlock, (2, 2, 2, 2)),
        34: (BasicBlock, (3, 4, 6, 3)),
        50: (Bottleneck, (3, 4, 6, 3)),
        101: (Bottleneck, (3, 4, 23, 3)),
        152: (Bottleneck, (3, 8, 36, 3)),
    }
    stage_planes = (64, 128, 256, 512)
    stem_channels = 64

    def __init__(self,
                 depth: int = 18,
                 in_channels: int = 3,
                 num_stages: int = 4,
                 strides: Sequence[int] = (1, 2, 1, 1),
                 dilations: Sequence[int] = (1, 1, 1, 1),
                 out_indices: Sequence[int] = (3, ),
                 frozen_stages: int = -1,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 norm_eval: bool = False,
                 zero_init_residual: bool = True,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        if depth not in self.arch_settings:
            raise KeyError(f'HVCResNet: invalid depth {depth}; choose one of '
                           f'{sorted(self.arch_settings)}.')
        if not 1 <= num_stages <= 4:
            raise ValueError(
                f'HVCResNet: num_stages must be in 1..4, got {num_stages}.')
        strides = self._per_stage('strides', strides, num_stages)
        dilations = self._per_stage('dilations', dilations, num_stages)
        out_indices = tuple(out_indices)
        if not out_indices or any(not 0 <= i < num_stages
                                  for i in out_indices):
            raise ValueError(
                f'HVCResNet: out_indices {out_indices} must be non-empty and '
                f'within 0..{num_stages - 1} (num_stages={num_stages}).')
        if not -1 <= frozen_stages <= num_stages:
            raise ValueError(
                f'HVCResNet: frozen_stages must be in -1..{num_stages}, got '
                f'{frozen_stages}.')
        init_cfgs = init_cfg if isinstance(init_cfg, list) else [init_cfg]
        self.pretrained = any(
            isinstance(cfg, dict) and cfg.get('type') == 'Pretrained'
            for cfg in init_cfgs)
        if init_cfg is None:
            init_cfg = [
                dict(
                    type='Kaiming',
                    layer='Conv2d',
                    mode='fan_out',
                    nonlinearity='relu',
                    distribution='normal'),
                dict(type='Constant', val=1, bias=0, layer='_BatchNorm'),
                dict(type='Constant', val=1, bias=0, layer='GroupNorm'),
            ]
        super().__init__(init_cfg=init_cfg)

        self.depth = depth
        self.num_stages = num_stages
        self.strides = strides
        self.dilations = dilations
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.zero_init_residual = zero_init_residual

        block, stage_blocks = self.arch_settings[depth]
        self.conv1 = nn.Conv2d(
            in_channels,
            self.stem_channels,
            kernel_size=7,
            stride=2,
            padding=3,
            bias=False)
        self.bn1 = build_norm_layer(norm_cfg, self.stem_channels)[1]
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

        channels = self.stem_channels
        self.out_channels: List[int] = []
        for i in range(num_stages):
            layer = self._make_layer(block, channels, self.stage_planes[i],
                                     stage_blocks[i], strides[i],
                                     dilations[i], norm_cfg)
            channels = self.stage_planes[i] * block.expansion
            self.out_channels.append(channels)
            self.add_module(f'layer{i + 1}', layer)
        self._freeze_stages()

    @property
    def out_stride(self) -> int:
        """Pixels per cell of the last returned map (the one the
        propagation model uses): 4 (the stem) times the strides of the
        stages up to it."""
        return 4 * math.prod(self.strides[:self.out_indices[-1] + 1])

    @property
    def size_divisor(self) -> int:
        """Any frame size is accepted (odd sizes round up)."""
        return 1

    @staticmethod
    def _per_stage(name: str, values: Sequence[int],
                   num_stages: int) -> Tuple[int, ...]:
        """Check a per-stage setting and keep the values of built stages."""
        values = tuple(int(v) for v in values)
        if len(values) not in (num_stages, 4):
            raise ValueError(
                f'HVCResNet: {name} needs {num_stages} or 4 values '
                f'(num_stages={num_stages}), got {values}.')
        if any(v < 1 for v in values):
            raise ValueError(f'HVCResNet: {name} must be >= 1, got {values}.')
        return values[:num_stages]

    @staticmethod
    def _make_layer(block: Block, in_channels: int, planes: int,
                    num_blocks: int, stride: int, dilation: int,
                    norm_cfg: dict) -> nn.Sequential:
        """One stage: the first block carries the stride and projection."""
        out_channels = planes * block.expansion
        downsample = None
        if stride != 1 or in_channels != out_channels:
            downsample = nn.Sequential(
                nn.Conv2d(
                    in_channels,
                    out_channels,
                    kernel_size=1,
                    stride=stride,
                    bias=False),
                build_norm_layer(norm_cfg, out_channels)[1])
        blocks = [
            block(in_channels, planes, stride, dilation, downsample, norm_cfg)
        ]
        blocks += [
            block(out_channels, planes, 1, dilation, None, norm_cfg)
            for _ in range(1, num_blocks)
        ]
        return nn.Sequential(*blocks)

    def init_weights(self) -> None:
        """Initialise from ``init_cfg``, then zero the residual norms."""
        super().init_weights()
        if self.zero_init_residual and not self.pretrained:
            for m in self.modules():
                if isinstance(m, ResidualBlock):
                    nn.init.zeros_(m.last_norm.weight)

    def _freeze_stages(self) -> None:
        """Fix the parameters and norm statistics of the frozen stages."""
        if self.frozen_stages < 0:
            return
        frozen = [self.conv1, self.bn1]
        frozen += [
            getattr(self, f'layer{i}')
            for i in range(1, self.frozen_stages + 1)
        ]
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'HVCResNet':
        """Switch the mode, keeping frozen stages and (optionally) every
        BatchNorm in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Encode images.

        Args:
            x: Normalised images, (B, in_channels, H, W).

        Returns:
            One map per entry of ``out_indices``, stage ``i`` giving
            (B, out_channels[i], H / s_i, W / s_i) with s_i = 4 times the
            product of ``strides[:i + 1]`` (rounded up for odd sizes).
        """
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        outs = {}
        for i in range(self.num_stages):
            x = getattr(self, f'layer{i + 1}')(x)
            if i in self.out_indices:
                outs[i] = x
        return tuple(outs[i] for i in self.out_indices)
