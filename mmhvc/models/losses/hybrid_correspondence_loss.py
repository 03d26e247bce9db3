"""HVC's hybrid (static + dynamic) correspondence loss.

Coordinates: each view's crop box is ``(x1, y1, x2, y2)`` in normalised
original-image coordinates (``x / (W_img - 1)``, ``y / (H_img - 1)``). A
feature map of size (H, W) splits its box into H x W bins; bin (r, c) of a
view has its centre at ``x1 + (c + 0.5) * (x2 - x1) / W``,
``y1 + (r + 0.5) * (y2 - y1) / H``. Positions are flattened row-major,
``i = r * W + c``.

Positive pairs: position i of view 1 and j of view 2 are positive when the
distance between their bin centres, divided by the larger of the two views'
bin diagonals, is below ``pos_radius``.

The pair sums ``sum_ij M_ij <x_i, y_j>`` over the positive mask M are
computed a few feature rows at a time, and the backward pass recomputes the
mask chunks from the boxes instead of storing it, so neither the (N, L, L)
mask nor the (N, L, L) similarity matrices (L = H * W) are ever held in
memory.

Precision: the loss runs in float32 (float64 inputs stay float64) whatever
autocast is active, on every device. Narrower inputs (float16, bfloat16) are
cast up and autocast is disabled for the inputs' device type; in float16 the
per-sample factor ``1 / (|M_n| + eps)`` of a sample without positive pairs
overflows (``1 / 1e-6`` > 65504) and its gradient turns into ``inf * 0``.
"""
from typing import List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmhvc.registry import MODELS
from mmhvc.validation import check_at_least, check_positive


def crop_bin_centres(
        boxes: Tensor,
        feat_size: Tuple[int, int]) -> Tuple[Tensor, Tensor, Tensor]:
    """Bin centres and bin diagonals of feature maps laid over crop boxes.

    Args:
        boxes: (N, 4) crop boxes ``(x1, y1, x2, y2)``, normalised
            original-image coordinates.
        feat_size: ``(H, W)`` of the feature map.

    Returns:
        ``(cx, cy, diag)``: (N, W) column centres, (N, H) row centres and
        (N,) bin diagonals, all in normalised original-image coordinates.
    """
    if boxes.dim() != 2 or boxes.size(1) != 4:
        raise ValueError(
            f'crop boxes must be (N, 4), got {tuple(boxes.shape)}.')
    h, w = feat_size
    bin_w = (boxes[:, 2] - boxes[:, 0]) / w
    bin_h = (boxes[:, 3] - boxes[:, 1]) / h
    cols = torch.arange(w, dtype=boxes.dtype, device=boxes.device)
    rows = torch.arange(h, dtype=boxes.dtype, device=boxes.device)
    cx = (cols + 0.5) * bin_w[:, None] + boxes[:, 0:1]
    cy = (rows + 0.5) * bin_h[:, None] + boxes[:, 1:2]
    diag = torch.sqrt(bin_w**2 + bin_h**2)
    return cx, cy, diag


def _at_least_float32(x: Tensor) -> Tensor:
    """``x`` cast to float32 if its floating dtype is narrower, else ``x``."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


class _PairGeometry(NamedTuple):
    """Squared bin-centre offsets between two views, one axis at a time.

    Attributes:
        dx2: (N, W, W), ``[n, c, c']`` = (x-centre of column c of view 1 -
            x-centre of column c' of view 2) ** 2.
        dy2: (N, H, H), the same for rows and y-centres.
        scale: (N, 1, 1, 1, 1) larger of the two views' bin diagonals.
    """
    dx2: Tensor
    dy2: Tensor
    scale: Tensor


def _pair_geometry(boxes_1: Tensor, boxes_2: Tensor,
                   feat_size: Tuple[int, int]) -> _PairGeometry:
    """Per-axis offsets and distance scale of two views' bin centres."""
    cx1, cy1, diag1 = crop_bin_centres(boxes_1, feat_size)
    cx2, cy2, diag2 = crop_bin_centres(boxes_2, feat_size)
    return _PairGeometry(
        dx2=(cx1[:, :, None] - cx2[:, None, :])**2,
        dy2=(cy1[:, :, None] - cy2[:, None, :])**2,
        scale=torch.max(diag1, diag2).view(-1, 1, 1, 1, 1))


def _mask_rows(geometry: _PairGeometry, rows: slice,
               pos_radius: float) -> Tensor:
    """Bool (N, R * W, H * W) positive mask of the view-1 rows ``rows``."""
    dy2 = geometry.dy2[:, rows]
    n, num_rows, _ = dy2.shape
    # The squared distance of (r, c) and (r', c') is dy2[r, r'] + dx2[c, c'].
    dist = geometry.dx2[:, None, :, None, :] + dy2[:, :, None, :, None]
    dist.sqrt_().div_(geometry.scale)
    return (dist < pos_radius).view(n, num_rows * geometry.dx2.size(1), -1)


def coord_positive_mask(boxes_1: Tensor,
                        boxes_2: Tensor,
                        feat_size: Tuple[int, int],
                        pos_radius: float,
                        rows: Optional[slice] = None) -> Tensor:
    """Positive-pair mask between the positions of two views.

    Args:
        boxes_1: (N, 4) crop boxes of view 1 (see the module docstring).
        boxes_2: (N, 4) crop boxes of view 2.
        feat_size: ``(H, W)`` of both views' feature maps.
        pos_radius: Threshold on centre distance / max bin diagonal.
        rows: Feature rows of view 1 to return (a slice with step 1);
            None for all rows.

    Returns:
        Bool (N, R * W, H * W), R the number of selected rows: entry
        ``[n, i, j]`` tells whether position i (row-major, counted from the
        first selected row) of view 1 and position j of view 2 of sample n
        are positive.
    """
    geometry = _pair_geometry(boxes_1, boxes_2, feat_size)
    return _mask_rows(geometry, slice(None) if rows is None else rows,
                      pos_radius)


class _PositivePairSums(torch.autograd.Function):
    """Per-sample ``sum_ij M_ij <x_i, y_j>`` for several (x, y) pairs.

    Inputs after the static arguments are the flattened maps
    ``x_1, y_1, x_2, y_2, ...``, each (N, L, C_k). Outputs are the (N,)
    positive counts (not differentiable) followed by one (N,) sum per pair.
    Forward and backward run in the maps' dtype with autocast disabled for
    their device (:func:`positive_pair_sums` casts them to float32 first),
    also when the backward pass is called inside an autocast region.
    """

    @staticmethod
    def forward(ctx, boxes_1: Tensor, boxes_2: Tensor,
                feat_size: Tuple[int, int], pos_radius: float,
                chunk_rows: int, *maps: Tensor) -> Tuple[Tensor, ...]:
        ctx.feat_size = feat_size
        ctx.pos_radius = pos_radius
        ctx.chunk_rows = chunk_rows
        ctx.save_for_backward(boxes_1, boxes_2, *maps)
        n = boxes_1.size(0)
        w = feat_size[1]
        counts = boxes_1.new_zeros(n, dtype=torch.long)
        sums = [maps[2 * k].new_zeros(n) for k in range(len(maps) // 2)]
        with torch.autocast(device_type=boxes_1.device.type, enabled=False):
            geometry = _pair_geometry(boxes_1, boxes_2, feat_size)
            for start in range(0, feat_size[0], chunk_rows):
                rows = slice(start, min(start + chunk_rows, feat_size[0]))
                mask = _mask_rows(geometry, rows, pos_radius)
                counts += mask.sum((1, 2))
                positions = slice(rows.start * w, rows.stop * w)
                for k, total in enumerate(sums):
                    x, y = maps[2 * k], maps[2 * k + 1]
                    mask = mask.to(y.dtype)
                    total += (x[:, positions] * torch.bmm(mask, y)).sum((1, 2))
        ctx.mark_non_differentiable(counts)
        return (counts, *sums)

    @staticmethod
    def backward(ctx, grad_counts: Tensor,
                 *grad_sums: Tensor) -> Tuple[Optional[Tensor], ...]:
        boxes_1, boxes_2, *maps = ctx.saved_tensors
        needs = ctx.needs_input_grad[5:]
        # gradients accumulate in (N, C, L) layout: the y-gradient update
        # is then one batched product with the (N, R * W, L) mask chunk
        grads: List[Optional[Tensor]] = [
            m.new_zeros(m.size(0), m.size(2), m.size(1)) if need else None
            for m, need in zip(maps, needs)
        ]
        h, w = ctx.feat_size
        with torch.autocast(device_type=boxes_1.device.type, enabled=False):
            geometry = _pair_geometry(boxes_1, boxes_2, ctx.feat_size)
            for start in range(0, h, ctx.chunk_rows):
                rows = slice(start, min(start + ctx.chunk_rows, h))
                mask = _mask_rows(geometry, rows, ctx.pos_radius)
                positions = slice(rows.start * w, rows.stop * w)
                for k, grad_sum in enumerate(grad_sums):
                    x, y = maps[2 * k], maps[2 * k + 1]
                    mask = mask.to(x.dtype)
                    scale = grad_sum.view(-1, 1, 1)
                    if grads[2 * k] is not None:
                        grads[2 * k][:, :, positions] = (
                            scale * torch.bmm(mask, y)).transpose(1, 2)
                    if grads[2 * k + 1] is not None:
                        grads[2 * k + 1].baddbmm_(
                            scale * x[:, positions].transpose(1, 2), mask)
        grads = [None if g is None else g.transpose(1, 2) for g in grads]
        return (None, None, None, None, None, *grads)


def positive_pair_sums(
        boxes_1: Tensor,
        boxes_2: Tensor,
        pairs: Sequence[Tuple[Tensor, Tensor]],
        pos_radius: float,
        chunk_rows: int = 4) -> Tuple[Tensor, List[Tensor]]:
    """Sum feature dot products over the positive pairs of two views.

    For every ``(x, y)`` in ``pairs`` this is ``sum_ij M_ij <x_i, y_j>`` per
    sample, M the :func:`coord_positive_mask` of the boxes, computed
    ``chunk_rows`` feature rows of view 1 at a time (also in the backward
    pass), so the memory stays O(N * chunk_rows * W * H * W) on top of the
    inputs and gradients.

    Args:
        boxes_1: (N, 4) crop boxes of the view of every ``x``.
        boxes_2: (N, 4) crop boxes of the view of every ``y``.
        pairs: ``(x, y)`` maps, each (N, C_k, H, W) on the same grid.
        pos_radius: Positive radius (see :func:`coord_positive_mask`).
        chunk_rows: Feature rows of view 1 per chunk.

    Returns:
        ``(counts, sums)``: (N,) number of positive pairs (int64) and one
        (N,) sum per pair, computed in float32 (float64 for float64 maps)
        with autocast disabled, whatever the maps' dtype.
    """
    if not pairs:
        raise ValueError('positive_pair_sums needs at least one (x, y) pair.')
    check_at_least('chunk_rows', chunk_rows, 1)
    n, _, h, w = pairs[0][0].shape
    maps = []
    for x, y in pairs:
        if x.dim() != 4 or x.shape != y.shape or x.shape[0] != n or \
                x.shape[2:] != (h, w):
            raise ValueError(
                'every (x, y) pair must hold two (N, C, H, W) maps with the '
                f'same N={n}, H={h}, W={w}; got {tuple(x.shape)} and '
                f'{tuple(y.shape)}.')
        maps += [
            _at_least_float32(m).flatten(2).transpose(1, 2) for m in (x, y)
        ]
    if boxes_1.shape != (n, 4) or boxes_2.shape != (n, 4):
        raise ValueError(
            f'crop boxes must be ({n}, 4) for {n} samples, got '
            f'{tuple(boxes_1.shape)} and {tuple(boxes_2.shape)}.')
    counts, *sums = _PositivePairSums.apply(
        _at_least_float32(boxes_1), _at_least_float32(boxes_2), (h, w),
        pos_radius, chunk_rows, *maps)
    return counts, sums


@MODELS.register_module()
class HybridCorrespondenceLoss(nn.Module):
    """HVC's hybrid correspondence loss for one direction (view a -> view b).

    With p the predictor output of view a, z the target projection of view
    b, f = flow(p, z) and b = flow(z, p) (all L2-normalised per position),
    and the positive pairs M of the two crops (:func:`coord_positive_mask`):

    - spatial_n = sum_ij M_ij <p_i, z_j> / (|M_n| + eps)
    - temporal_n = sum_ij M_ij <f_i, b_j> / (|M_n| + eps)

    and the loss is ``-loss_weight * (mean_n spatial_n, mean_n temporal_n)``,
    returned as two terms. The symmetric HVC loss adds the loss of the other
    direction.

    Args:
        pos_radius: Positive radius, relative to the larger bin diagonal.
        loss_weight: Factor of both terms (2 in HVC, as in BYOL's
            ``2 - 2 cos``).
        eps: Added to the positive count of every sample.
        chunk_rows: Feature rows per chunk of the positive-pair sums; lower
            uses less memory.
    """

    def __init__(self,
                 pos_radius: float = 0.1,
                 loss_weight: float = 2.0,
                 eps: float = 1e-6,
                 chunk_rows: int = 4) -> None:
        super().__init__()
        self.pos_radius = check_positive('pos_radius', pos_radius)
        self.loss_weight = loss_weight
        self.eps = eps
        self.chunk_rows = check_at_least('chunk_rows', chunk_rows, 1)

    def positive_pair_means(self, pred: Tensor, target: Tensor,
                            flow_fwd: Tensor, flow_bwd: Tensor,
                            boxes_pred: Tensor,
                            boxes_target: Tensor) -> Tuple[Tensor, Tensor]:
        """Per-sample mean similarities over the positive pairs.

        Args:
            pred: (N, C, H, W) L2-normalised online predictions (view a).
            target: (N, C, H, W) L2-normalised target projections (view b).
            flow_fwd: (N, 2, H, W) L2-normalised forward field.
            flow_bwd: (N, 2, H, W) L2-normalised backward field.
            boxes_pred: (N, 4) crop boxes of view a.
            boxes_target: (N, 4) crop boxes of view b.

        Returns:
            ``(spatial, temporal)``, each (N,).
        """
        counts, (spatial, temporal) = positive_pair_sums(
            boxes_pred,
            boxes_target, [(pred, target), (flow_fwd, flow_bwd)],
            self.pos_radius,
            chunk_rows=self.chunk_rows)
        denom = counts.to(spatial.dtype) + self.eps
        return spatial / denom, temporal / denom

    def forward(self, pred: Tensor, target: Tensor, flow_fwd: Tensor,
                flow_bwd: Tensor, boxes_pred: Tensor,
                boxes_target: Tensor) -> Tuple[Tensor, Tensor]:
        """Loss terms of one direction.

        Args:
            pred: (N, C, H, W) online predictions of view a.
            target: (N, C, H, W) target projections of view b.
            flow_fwd: (N, 2, H, W) forward pseudo-motion field.
            flow_bwd: (N, 2, H, W) backward pseudo-motion field.
            boxes_pred: (N, 4) crop boxes of view a (normalised
                original-image coordinates).
            boxes_target: (N, 4) crop boxes of view b.

        All maps are cast to float32 (float64 stays float64) and
        L2-normalised along channels here, with autocast disabled.

        Returns:
            ``(loss_spatial, loss_temporal)``, two float32 (or float64)
            scalars.
        """
        with torch.autocast(device_type=pred.device.type, enabled=False):
            maps = [
                F.normalize(_at_least_float32(m), dim=1)
                for m in (pred, target, flow_fwd, flow_bwd)
            ]
            spatial, temporal = self.positive_pair_means(
                *maps, boxes_pred, boxes_target)
        return (-self.loss_weight * spatial.mean(),
                -self.loss_weight * temporal.mean())
