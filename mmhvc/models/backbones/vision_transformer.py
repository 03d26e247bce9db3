"""Vision Transformer encoder that returns its patch tokens as a feature map.

The parameter names are those of the DINO and DINOv2 releases (and of
timm's ``vision_transformer``), so their backbone files load as they are:
``cls_token``, ``pos_embed``, ``register_tokens``, ``patch_embed.proj``,
``blocks.{i}.{norm1,attn.qkv,attn.proj,ls1.gamma,norm2,mlp.fc1,mlp.fc2,
ls2.gamma}`` and ``norm``.
"""
from typing import Dict, Optional, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from torch import Tensor, nn

from mmhvc.registry import MODELS


class LayerScale(nn.Module):
    """Per-channel scale of a residual branch (DINOv2's ``ls1``/``ls2``)."""

    def __init__(self, dims: int, init_value: float) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((dims, ), init_value))

    def forward(self, x: Tensor) -> Tensor:
        """``(B, N, C)`` -> ``(B, N, C)`` scaled per channel."""
        return x * self.gamma


class Attention(nn.Module):
    """Multi-head self-attention with one ``qkv`` projection."""

    def __init__(self, dims: int, num_heads: int) -> None:
        super().__init__()
        if dims % num_heads:
            raise ValueError(f'VisionTransformer: embed_dims {dims} is not a '
                             f'multiple of num_heads {num_heads}')
        self.num_heads = num_heads
        self.qkv = nn.Linear(dims, dims * 3)
        self.proj = nn.Linear(dims, dims)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, N, C)`` tokens -> ``(B, N, C)``."""
        batch, num, dims = x.shape
        q, k, v = self.qkv(x).view(batch, num, 3, self.num_heads,
                                   dims // self.num_heads).permute(
                                       2, 0, 3, 1, 4)
        x = F.scaled_dot_product_attention(q, k, v)
        return self.proj(x.transpose(1, 2).reshape(batch, num, dims))


class Mlp(nn.Module):
    """``fc1`` -> GELU -> ``fc2``."""

    def __init__(self, dims: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dims, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dims)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, N, C)`` -> ``(B, N, C)``."""
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm transformer block, with LayerScale when
    ``layer_scale`` is set."""

    def __init__(self, dims: int, num_heads: int, mlp_ratio: float,
                 layer_scale: Optional[float]) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dims, eps=1e-6)
        self.attn = Attention(dims, num_heads)
        self.norm2 = nn.LayerNorm(dims, eps=1e-6)
        self.mlp = Mlp(dims, int(dims * mlp_ratio))
        if layer_scale is None:
            self.ls1 = self.ls2 = nn.Identity()
        else:
            self.ls1 = LayerScale(dims, layer_scale)
            self.ls2 = LayerScale(dims, layer_scale)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, N, C)`` -> ``(B, N, C)``."""
        x = x + self.ls1(self.attn(self.norm1(x)))
        return x + self.ls2(self.mlp(self.norm2(x)))


class PatchEmbed(nn.Module):
    """Non-overlapping ``patch_size`` patches, linearly embedded."""

    def __init__(self, patch_size: int, in_channels: int, dims: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(
            in_channels, dims, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, 3, H, W)`` -> ``(B, C, H / p, W / p)``."""
        return self.proj(x)


@MODELS.register_module()
class VisionTransformer(BaseModule):
    """ViT whose output is the grid of its patch tokens.

    The frames are cut into ``patch_size`` patches; the class token (and the
    register tokens, DINOv2 ``*_reg4``) are prepended, the learned position
    embeddings of the pretraining grid are resized to the frame's patch
    grid, and after the blocks and the final LayerNorm the patch tokens are
    returned as a feature map, the features DINO's and DINOv2's video
    segmentation evaluations propagate labels with.

    The position embeddings are resized as DINO and DINOv2 do: bicubic
    interpolation of the ``(g, g)`` pretraining grid by the scale factors
    ``((h + offset) / g, (w + offset) / g)``, ``offset`` 0.1, which rounds
    the output down to ``(h, w)`` and is used as given (not recomputed from
    the sizes). At the pretraining grid itself they are used unchanged.

    Encoder contract of the propagation model: ``out_stride`` (the patch
    size, pixels per feature cell) and ``size_divisor`` (the frame sides
    must be multiples of the patch size; the propagation model resizes
    frames that are not).

    Args:
        arch: ``'tiny'`` (192 channels, 12 blocks, 3 heads), ``'small'``
            (384, 12, 6), ``'base'`` (768, 12, 12), ``'large'``
            (1024, 24, 16), or a dict with ``embed_dims``, ``num_layers`` and
            ``num_heads``.
        patch_size: Pixels per patch side: 8 or 16 (DINO), 14 (DINOv2).
        img_size: Side of the square pretraining images; the position
            embeddings cover a ``(img_size // patch_size)`` square grid
            (DINO: 224; DINOv2: 518).
        in_channels: Channels of the input image.
        mlp_ratio: Hidden width of the MLPs relative to ``embed_dims``.
        layer_scale: Initial value of LayerScale (DINOv2: 1e-5); None
            builds none (DINO).
        num_register_tokens: Register tokens after the class token (DINOv2
            ``*_reg4``: 4).
        interpolate_offset: Offset added to the grid size when the position
            embeddings are resized.
        init_cfg: Initialisation config; None: truncated normal (std 0.02)
            for the linear layers and the tokens.
    """

    arch_settings: Dict[str, Dict[str, int]] = {
        'tiny': dict(embed_dims=192, num_layers=12, num_heads=3),
        'small': dict(embed_dims=384, num_layers=12, num_heads=6),
        'base': dict(embed_dims=768, num_layers=12, num_heads=12),
        'large': dict(embed_dims=1024, num_layers=24, num_heads=16),
    }

    def __init__(self,
                 arch: Union[str, dict] = 'small',
                 patch_size: int = 16,
                 img_size: int = 224,
                 in_channels: int = 3,
                 mlp_ratio: float = 4.,
                 layer_scale: Optional[float] = None,
                 num_register_tokens: int = 0,
                 interpolate_offset: float = 0.1,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(arch, str):
            if arch not in self.arch_settings:
                raise KeyError(
                    f'VisionTransformer: unknown arch "{arch}"; choose one '
                    f'of {sorted(self.arch_settings)} or give a dict')
            arch = self.arch_settings[arch]
        missing = {'embed_dims', 'num_layers', 'num_heads'} - set(arch)
        if missing:
            raise KeyError(f'VisionTransformer: arch needs {sorted(missing)}')
        if patch_size < 1 or img_size < patch_size:
            raise ValueError(
                f'VisionTransformer: patch_size {patch_size} must be >= 1 '
                f'and at most img_size {img_size}')
        dims = arch['embed_dims']
        self.embed_dims = dims
        self.patch_size = patch_size
        self.pos_grid = img_size // patch_size
        self.interpolate_offset = interpolate_offset
        self.num_register_tokens = num_register_tokens
        self.patch_embed = PatchEmbed(patch_size, in_channels, dims)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dims))
        self.pos_embed = nn.Parameter(
            torch.zeros(1, 1 + self.pos_grid**2, dims))
        if num_register_tokens:
            self.register_tokens = nn.Parameter(
                torch.zeros(1, num_register_tokens, dims))
        self.blocks = nn.ModuleList([
            Block(dims, arch['num_heads'], mlp_ratio, layer_scale)
            for _ in range(arch['num_layers'])
        ])
        self.norm = nn.LayerNorm(dims, eps=1e-6)

    @property
    def out_stride(self) -> int:
        """Pixels per feature cell: the patch size."""
        return self.patch_size

    @property
    def size_divisor(self) -> int:
        """The frame sides must be multiples of the patch size."""
        return self.patch_size

    def init_weights(self) -> None:
        """Truncated normal tokens and linear layers, unless ``init_cfg``
        says otherwise."""
        if self.init_cfg is not None:
            super().init_weights()
            return
        for param in (self.cls_token, self.pos_embed,
                      getattr(self, 'register_tokens', None)):
            if param is not None:
                trunc_normal_(param, std=.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=.02)
                nn.init.zeros_(m.bias)

    def position_embedding(self, height: int, width: int) -> Tensor:
        """``(1, 1 + h * w, C)`` embeddings of the class token and of an
        ``h x w`` patch grid (see the class docstring)."""
        if height == width == self.pos_grid:
            return self.pos_embed
        grid = self.pos_grid
        patch = self.pos_embed[:, 1:].float().reshape(1, grid, grid,
                                                     -1).permute(0, 3, 1, 2)
        patch = F.interpolate(
            patch,
            scale_factor=((height + self.interpolate_offset) / grid,
                          (width + self.interpolate_offset) / grid),
            mode='bicubic')
        if patch.shape[2:] != (height, width):
            raise RuntimeError(
                f'VisionTransformer: the position grid {grid}x{grid} resized '
                f'to {tuple(patch.shape[2:])} instead of {height}x{width}; '
                'use a smaller interpolate_offset')
        patch = patch.to(self.pos_embed.dtype).flatten(2).transpose(1, 2)
        return torch.cat([self.pos_embed[:, :1], patch], dim=1)

    def forward(self, x: Tensor) -> Tensor:
        """Encode frames into their patch-token grid.

        Args:
            x: ``(B, 3, H, W)`` normalised frames, ``H`` and ``W`` multiples
                of ``patch_size``.

        Returns:
            ``(B, C, H / p, W / p)`` patch tokens after the final norm.
        """
        height, width = x.shape[2:]
        if height % self.patch_size or width % self.patch_size:
            raise ValueError(
                f'VisionTransformer: a {height}x{width} input is not a '
                f'multiple of the patch size {self.patch_size}; resize the '
                f'frames to multiples of {self.size_divisor}')
        patches = self.patch_embed(x)
        grid_h, grid_w = patches.shape[2:]
        tokens = torch.cat([
            self.cls_token.expand(len(x), -1, -1),
            patches.flatten(2).transpose(1, 2)
        ], dim=1) + self.position_embedding(grid_h, grid_w)
        if self.num_register_tokens:
            tokens = torch.cat([
                tokens[:, :1],
                self.register_tokens.expand(len(x), -1, -1), tokens[:, 1:]
            ], dim=1)
        for block in self.blocks:
            tokens = block(tokens)
        tokens = self.norm(tokens)[:, 1 + self.num_register_tokens:]
        return tokens.transpose(1, 2).reshape(len(x), -1, grid_h, grid_w)

