"""HVC: the self-supervised training model (online and EMA target branch)."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from torch import Tensor

from mmhvc.registry import MODELS
from ..utils import CosineEMA


@MODELS.register_module()
class HVC(BaseModel):
    """Hybrid Visual Correspondence (Pei et al., arXiv 2404.13505).

    Online branch: backbone -> neck (projector) -> head (predictor, flow
    layer, loss). Target branch: :class:`CosineEMA` copy of
    ``nn.Sequential(backbone, neck)``, updated at every training step before
    its forward pass, with target momentum
    ``m_t = 1 - (1 - base_momentum) * (cos(pi * t / T) + 1) / 2``
    (T = the runner's ``max_iters``). The target copy and its ``steps``
    counter are submodule state (``target_net.*``), so checkpoints and
    resumed runs keep them.

    Args:
        backbone: Config of the encoder (e.g. ``HVCResNet``).
        neck: Config of the projector (e.g. ``HVCProjector``).
        head: Config of the head (e.g. ``HVCHead``).
        base_momentum: Target momentum m_0 at step 0 (the weight of the
            *target* parameters, 0.99 in HVC); it rises to 1 at step T.
        data_preprocessor: Config or module of the data preprocessor (e.g.
            ``HVCDataPreprocessor``); None for MMEngine's
            ``BaseDataPreprocessor``.
        init_cfg: MMEngine init config of the whole model.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 base_momentum: float = 0.99,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        if not 0. < base_momentum < 1.:
            raise ValueError(
                f'HVC: base_momentum is the target momentum m_0 and must be '
                f'in (0, 1) (HVC uses 0.99), got {base_momentum}.')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck)
        self.head = MODELS.build(head)
        self.target_net = CosineEMA(
            nn.Sequential(self.backbone, self.neck),
            momentum=1. - base_momentum)

    def extract_feat(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        """Backbone features.

        Args:
            inputs: Normalised images, (B, 3, S, S), or view pairs
                (B, 2, 3, S, S), which are encoded as a batch of 2B images
                (sample-major: ``[b0v0, b0v1, b1v0, ...]``).

        Returns:
            The backbone's tuple of (B or 2B, C_i, S / s_i, S / s_i) maps.
        """
        if inputs.dim() == 5:
            inputs = inputs.flatten(0, 1)
        return self.backbone(inputs)

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], Tuple]:
        """Dispatch to :meth:`loss` (``'loss'``), :meth:`extract_feat`
        (``'tensor'``) or :meth:`predict` (``'predict'``)."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            return self.extract_feat(inputs)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise RuntimeError(
            f'HVC: invalid mode "{mode}"; use "loss", "tensor" or "predict".')

    def predict(self, inputs: Tensor,
                data_samples: Optional[List[BaseDataElement]] = None) -> None:
        """Not available: HVC only trains the encoder."""
        raise NotImplementedError(
            'HVC is the self-supervised training model and has no predict '
            'mode. To segment videos, build the label propagation model '
            '(mmhvc.models.propagation, configs/propagation/) and load this '
            "checkpoint's `backbone.*` weights into its encoder.")

    @staticmethod
    def _crop_boxes(data_samples: Optional[Sequence[BaseDataElement]],
                    inputs: Tensor) -> Tensor:
        """Stack the samples' ``crop_boxes`` into a (B, 2, 4) tensor."""
        batch = inputs.size(0)
        if data_samples is None or len(data_samples) != batch:
            raise ValueError(
                f'HVC.loss needs one data sample with `crop_boxes` per input '
                f'(batch {batch}), got '
                f'{None if data_samples is None else len(data_samples)}.')
        boxes = []
        for i, sample in enumerate(data_samples):
            if 'crop_boxes' not in sample:
                raise KeyError(
                    f'HVC.loss: data sample {i} has no `crop_boxes` field '
                    '(written by RandomResizedCropPair, packed by '
                    'PackCropPairInputs).')
            box = torch.as_tensor(sample.crop_boxes)
            if box.shape != (2, 4):
                raise ValueError(
                    f'HVC.loss: `crop_boxes` of data sample {i} must be '
                    f'(2, 4), got {tuple(box.shape)}.')
            boxes.append(box)
        return torch.stack(boxes).to(inputs.device, torch.float32)

    def loss(self, inputs: Tensor,
             data_samples: List[BaseDataElement]) -> Dict[str, Tensor]:
        """Hybrid correspondence loss of a batch of view pairs.

        Args:
            inputs: (B, 2, 3, S, S) normalised view pairs.
            data_samples: B samples whose ``crop_boxes`` field is a (2, 4)
                tensor of the views' crop boxes in normalised original-image
                coordinates ``(x1, y1, x2, y2)``.

        Returns:
            ``dict(loss_spatial, loss_temporal, ema_momentum)``: the two loss
            terms (summed by MMEngine's ``parse_losses``) and the target
            momentum m_t used at this step (logged only: its key has no
            ``loss``).
        """
        if inputs.dim() != 5 or inputs.size(1) != 2:
            raise ValueError(
                f'HVC.loss expects view pairs (B, 2, 3, S, S), got '
                f'{tuple(inputs.shape)}.')
        boxes = self._crop_boxes(data_samples, inputs)
        view_1, view_2 = inputs[:, 0], inputs[:, 1]
        online_1 = self.neck(self.backbone(view_1))[0]
        online_2 = self.neck(self.backbone(view_2))[0]

        with torch.no_grad():
            step = int(self.target_net.steps)
            momentum = 1. - self.target_net.source_weight(step)
            self.target_net.update_parameters(
                nn.Sequential(self.backbone, self.neck))
            target_1 = self.target_net(view_1)[0]
            target_2 = self.target_net(view_2)[0]

        losses = self.head.loss(online_1, online_2, target_1, target_2, boxes)
        losses['ema_momentum'] = inputs.new_tensor(momentum)
        return losses
