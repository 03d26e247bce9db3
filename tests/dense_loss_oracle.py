"""Dense oracle of :class:`~mmhvc.models.losses.HybridCorrespondenceLoss`.

This is the straightforward formulation, as the HVC reference computes it:
the (N, L, L) distance matrix, positive mask and similarity matrices
(L = H * W) are all materialised. It is kept as the single reference that
the loss and head tests compare values and gradients against and that
``tools/analysis_tools/benchmark_train.py`` measures the memory-saving
implementation against. It is not part of the package and not registered
in ``MODELS``; training configs use :class:`HybridCorrespondenceLoss`.
"""
from typing import Tuple

import torch
from torch import Tensor

from mmhvc.models.losses import HybridCorrespondenceLoss


class DenseHybridCorrespondenceLoss(HybridCorrespondenceLoss):
    """:class:`HybridCorrespondenceLoss` with dense (N, L, L) intermediates.

    Same arguments as :class:`HybridCorrespondenceLoss` (``chunk_rows`` is
    ignored); same values and gradients, several times the peak memory.
    """

    def positive_pair_means(self, pred: Tensor, target: Tensor,
                            flow_fwd: Tensor, flow_bwd: Tensor,
                            boxes_pred: Tensor,
                            boxes_target: Tensor) -> Tuple[Tensor, Tensor]:
        """Per-sample mean similarities over the positive pairs.

        Shapes as in :meth:`HybridCorrespondenceLoss.positive_pair_means`.
        """
        n, _, h, w = pred.shape
        xs = torch.arange(
            0., float(w), dtype=boxes_pred.dtype,
            device=boxes_pred.device).view(1, 1, -1).repeat(1, h, 1)
        ys = torch.arange(
            0., float(h), dtype=boxes_pred.dtype,
            device=boxes_pred.device).view(1, -1, 1).repeat(1, 1, w)

        def centres(boxes: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
            bin_w = ((boxes[:, 2] - boxes[:, 0]) / w).view(-1, 1, 1)
            bin_h = ((boxes[:, 3] - boxes[:, 1]) / h).view(-1, 1, 1)
            cx = (xs + 0.5) * bin_w + boxes[:, 0].view(-1, 1, 1)
            cy = (ys + 0.5) * bin_h + boxes[:, 1].view(-1, 1, 1)
            return cx, cy, torch.sqrt(bin_w**2 + bin_h**2)

        cx_p, cy_p, diag_p = centres(boxes_pred)
        cx_t, cy_t, diag_t = centres(boxes_target)
        dist = torch.sqrt(
            (cx_p.view(n, -1, 1) - cx_t.view(n, 1, -1))**2 +
            (cy_p.view(n, -1, 1) - cy_t.view(n, 1, -1))**2) / torch.max(
                diag_p, diag_t)
        pos_mask = (dist < self.pos_radius).to(pred.dtype)
        count = pos_mask.sum(-1).sum(-1) + self.eps

        spatial_logit = torch.bmm(
            pred.flatten(2).transpose(1, 2), target.flatten(2))
        spatial = (spatial_logit * pos_mask).sum(-1).sum(-1) / count
        temporal_logit = torch.bmm(
            flow_fwd.flatten(2).transpose(1, 2), flow_bwd.flatten(2))
        temporal = (temporal_logit * pos_mask).sum(-1).sum(-1) / count
        return spatial, temporal
