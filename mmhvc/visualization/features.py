"""Dense features as colour images: their first principal components.

The principal axes come from an exact eigendecomposition of the feature
covariance (float64), so the result depends on nothing but the features.
An axis is only defined up to its sign; the sign is fixed so that the
loading of largest magnitude of every axis is positive (the first one on
ties). Each component is mapped to one colour channel (R = 1st, G = 2nd,
B = 3rd) by a linear stretch between its ``clip`` and ``1 - clip``
quantiles over the fitted positions, clipped to [0, 255]. A projection
fitted once and applied to every frame of a video keeps the colours
comparable over time.
"""
from typing import NamedTuple, Sequence, Union

import numpy as np
import torch
from torch import Tensor

#: Most positions whose projections are used to estimate the quantiles.
_MAX_QUANTILE_SAMPLES = 1 << 20


class FeaturePCA(NamedTuple):
    """A fitted projection of C-channel features onto K colour channels.

    Attributes:
        mean: ``(C,)`` float64 mean feature.
        components: ``(K, C)`` float64 unit principal axes, by decreasing
            variance, sign-fixed.
        variances: ``(K,)`` float64 variances along the axes.
        low: ``(K,)`` projection value drawn as 0.
        high: ``(K,)`` projection value drawn as 255.
    """
    mean: Tensor
    components: Tensor
    variances: Tensor
    low: Tensor
    high: Tensor


def _positions(features: Union[Tensor, Sequence[Tensor]]) -> Tensor:
    """``(M, C)`` float64 rows of ``(C, h, w)`` maps or ``(N, C, h, w)``
    stacks."""
    if isinstance(features, Tensor):
        features = [features]
    rows = []
    channels = None
    for k, feat in enumerate(features):
        if feat.dim() == 3:
            feat = feat[None]
        if feat.dim() != 4:
            raise ValueError(f'feature map {k} must be (C, h, w) or '
                             f'(N, C, h, w), got {tuple(feat.shape)}')
        if channels is not None and feat.size(1) != channels:
            raise ValueError(f'feature map {k} has {feat.size(1)} channels, '
                             f'the first one {channels}')
        channels = feat.size(1)
        rows.append(feat.detach().double().cpu().permute(0, 2, 3,
                                                         1).flatten(0, 2))
    if not rows:
        raise ValueError('no feature maps to fit')
    return torch.cat(rows)


def fit_feature_pca(features: Union[Tensor, Sequence[Tensor]],
                    num_components: int = 3,
                    clip: float = 0.01) -> FeaturePCA:
    """Fit the principal axes of a set of feature maps.

    Args:
        features: ``(C, h, w)`` or ``(N, C, h, w)`` maps, or a sequence of
            them (grids may differ), all with the same C.
        num_components: K, at most C; 3 for an RGB image.
        clip: Quantile cut at each end of a component's colour range.

    Returns:
        The fitted :class:`FeaturePCA`.
    """
    data = _positions(features)
    num, channels = data.shape
    if not 1 <= num_components <= channels:
        raise ValueError(f'num_components must be in [1, {channels}] for '
                         f'{channels} channels, got {num_components}')
    if num < 2:
        raise ValueError('fitting principal axes needs at least 2 positions')
    if not 0 <= clip < 0.5:
        raise ValueError(f'clip must be in [0, 0.5), got {clip}')
    if not torch.isfinite(data).all():
        raise ValueError('the features have non-finite values')
    mean = data.mean(dim=0)
    centred = data - mean
    cov = centred.t() @ centred / (num - 1)
    eigvals, eigvecs = torch.linalg.eigh(cov)
    order = torch.arange(channels - 1, channels - 1 - num_components, -1)
    components = eigvecs[:, order].t().contiguous()
    largest = components.abs().argmax(dim=1)
    signs = components.gather(1, largest[:, None]).sign()
    components = components * torch.where(signs == 0, 1., signs)
    step = max(1, num // _MAX_QUANTILE_SAMPLES)
    projected = centred[::step] @ components.t()
    low = torch.quantile(projected, clip, dim=0)
    high = torch.quantile(projected, 1 - clip, dim=0)
    return FeaturePCA(mean, components, eigvals[order].clamp(min=0), low, high)


def pca_to_rgb(features: Tensor, pca: FeaturePCA) -> np.ndarray:
    """Project feature maps with a fitted :class:`FeaturePCA`.

    Args:
        features: ``(C, h, w)`` or ``(N, C, h, w)``.
        pca: Fitted projection with K = 3 (K < 3 leaves the remaining
            channels at 0).

    Returns:
        ``(h, w, 3)`` or ``(N, h, w, 3)`` uint8 RGB, one pixel per cell.
    """
    single = features.dim() == 3
    feats = features[None] if single else features
    if feats.dim() != 4 or feats.size(1) != pca.mean.numel():
        raise ValueError(f'expected features with {pca.mean.numel()} '
                         f'channels, got {tuple(features.shape)}')
    num, _, h, w = feats.shape
    data = feats.detach().double().cpu().permute(0, 2, 3, 1).flatten(0, 2)
    projected = (data - pca.mean) @ pca.components.t()
    span = (pca.high - pca.low).clamp(min=1e-12)
    scaled = ((projected - pca.low) / span).clamp(0, 1) * 255
    rgb = np.zeros((num * h * w, 3), dtype=np.uint8)
    rgb[:, :scaled.size(1)] = scaled.round().numpy().astype(np.uint8)
    rgb = rgb.reshape(num, h, w, 3)
    return rgb[0] if single else rgb
