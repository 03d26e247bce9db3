"""Head of HVC: predictor, pseudo-motion layer and hybrid loss."""
from typing import Dict, List, Optional, Tuple, Union

import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmhvc.registry import MODELS


@MODELS.register_module()
class HVCHead(BaseModule):
    """Turn online and target projections of two views into HVC's losses.

    For each direction (view a -> view b): ``p`` = L2-normalised predictor
    output of view a's online projection, ``z`` = L2-normalised target
    projection of view b; the flow layer sees exactly these two maps,
    ``f = flow(p, z)`` and ``b = flow(z, p)``, as in the reference
    implementation (its ``hybrid_loss(q, k)`` is called with
    ``q = normalize(predictor(online_proj_a))`` and
    ``k = normalize(target_proj_b)`` and applies the flow layer to
    ``(q, k)`` and ``(k, q)``). Gradients reach the flow layer, the
    predictor and the online branch through ``p``; ``z`` comes from the
    target branch and is detached. The loss module gives the spatial and
    temporal terms of one direction; both directions are summed.

    Args:
        predictor: Config of the predictor (e.g. an ``HVCProjector``).
        loss: Config of the loss of one direction (e.g.
            ``HybridCorrespondenceLoss``).
        flow: Config of the pseudo-motion layer; None for an
            ``HVCFlowLayer`` with 256 input channels per view, 256 hidden
            and 2 output channels.
        init_cfg: MMEngine init config of the head.
    """

    def __init__(self,
                 predictor: dict,
                 loss: dict,
                 flow: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if flow is None:
            flow = dict(
                type='HVCFlowLayer',
                in_channels=256,
                hid_channels=256,
                out_channels=2)
        self.predictor = MODELS.build(predictor)
        self.flow = MODELS.build(flow)
        self.loss_module = MODELS.build(loss)

    def _one_direction(self, pred: Tensor, target: Tensor, boxes_pred: Tensor,
                       boxes_target: Tensor) -> Tuple[Tensor, Tensor]:
        """Spatial and temporal loss terms of one direction."""
        flow_fwd = self.flow(pred, target)
        flow_bwd = self.flow(target, pred)
        return self.loss_module(pred, target, flow_fwd, flow_bwd, boxes_pred,
                                boxes_target)

    def loss(self, online_proj_1: Tensor, online_proj_2: Tensor,
             target_proj_1: Tensor, target_proj_2: Tensor,
             boxes: Tensor) -> Dict[str, Tensor]:
        """Symmetric hybrid correspondence loss.

        Args:
            online_proj_1: (B, C, H, W) online projection of view 1.
            online_proj_2: (B, C, H, W) online projection of view 2.
            target_proj_1: (B, C', H, W) target projection of view 1.
            target_proj_2: (B, C', H, W) target projection of view 2.
            boxes: (B, 2, 4) crop boxes of the two views, normalised
                original-image coordinates ``(x1, y1, x2, y2)``.

        Returns:
            ``dict(loss_spatial, loss_temporal)``, scalars whose sum is the
            symmetric HVC loss ``L(p1, z2) + L(p2, z1)``.
        """
        if boxes.dim() != 3 or boxes.shape[1:] != (2, 4) or \
                boxes.size(0) != online_proj_1.size(0):
            raise ValueError(
                f'HVCHead.loss: boxes must be ({online_proj_1.size(0)}, 2, '
                f'4), got {tuple(boxes.shape)}.')
        pred_1 = F.normalize(self.predictor(online_proj_1)[0], dim=1)
        pred_2 = F.normalize(self.predictor(online_proj_2)[0], dim=1)
        target_1 = F.normalize(target_proj_1.detach(), dim=1)
        target_2 = F.normalize(target_proj_2.detach(), dim=1)
        spatial_12, temporal_12 = self._one_direction(pred_1, target_2,
                                                      boxes[:, 0], boxes[:, 1])
        spatial_21, temporal_21 = self._one_direction(pred_2, target_1,
                                                      boxes[:, 1], boxes[:, 0])
        return dict(
            loss_spatial=spatial_12 + spatial_21,
            loss_temporal=temporal_12 + temporal_21)
