"""Exponential moving average whose momentum follows a cosine schedule."""
from math import cos, pi
from typing import Optional

import torch
import torch.nn as nn
from mmengine.logging import MessageHub
from mmengine.model import ExponentialMovingAverage

from mmhvc.registry import MODELS


@MODELS.register_module()
class CosineEMA(ExponentialMovingAverage):
    r"""EMA model with a cosine-annealed update weight (BYOL-style target).

    MMEngine's convention is kept: ``momentum`` is the weight of the
    *source* (online) parameters, so every update is

    .. math::

        \theta_{avg} \leftarrow (1 - w_t) \theta_{avg} + w_t \theta,\quad
        w_t = w_{end} + (w_0 - w_{end}) \frac{\cos(\pi t / T) + 1}{2}

    with :math:`w_0` = ``momentum`` and :math:`w_{end}` = ``end_momentum``.
    In the usual BYOL/HVC notation the target momentum is
    :math:`m_t = 1 - w_t`; HVC uses :math:`w_0 = 1 - 0.99` and
    :math:`w_{end} = 0`, i.e. :math:`m_t` rises from 0.99 to 1.

    ``t`` is the number of updates done so far (the ``steps`` buffer, which
    is saved in checkpoints); the first update (t = 0) copies the source.
    ``T`` is ``max_iters`` when given, otherwise the ``max_iters`` the
    runner publishes in the message hub before training (MMEngine's
    ``RuntimeInfoHook`` does so for both ``IterBasedTrainLoop`` and
    ``EpochBasedTrainLoop``).

    Args:
        model: The model to average (copied; the copy gets no gradients).
        momentum: Weight ``w_0`` of the source parameters at t = 0.
        end_momentum: Weight ``w_end`` of the source parameters at t = T.
        max_iters: Total number of updates T; None to read it from the
            message hub.
        interval: Update every ``interval`` calls.
        device: Device of the averaged copy; None keeps the model's.
        update_buffers: Average the buffers too instead of copying them.
    """

    def __init__(self,
                 model: nn.Module,
                 momentum: float = 0.01,
                 end_momentum: float = 0.,
                 max_iters: Optional[int] = None,
                 interval: int = 1,
                 device: Optional[torch.device] = None,
                 update_buffers: bool = False) -> None:
        super().__init__(
            model=model,
            momentum=momentum,
            interval=interval,
            device=device,
            update_buffers=update_buffers)
        if not 0. <= end_momentum < 1.:
            raise ValueError(
                f'CosineEMA: end_momentum must be in [0, 1), got '
                f'{end_momentum}.')
        if max_iters is not None and max_iters < 1:
            raise ValueError(
                f'CosineEMA: max_iters must be >= 1, got {max_iters}.')
        self.end_momentum = end_momentum
        self.max_iters = max_iters

    def total_steps(self) -> int:
        """The schedule length T (see the class docstring)."""
        if self.max_iters is not None:
            return self.max_iters
        max_iters = MessageHub.get_current_instance().get_info('max_iters')
        if not max_iters:
            raise RuntimeError(
                'CosineEMA needs the total number of training steps: pass '
                '`max_iters` to CosineEMA, or train with an MMEngine Runner, '
                'whose RuntimeInfoHook puts `max_iters` into the message '
                'hub before training (found none).')
        return int(max_iters)

    def source_weight(self, steps: int) -> float:
        """Weight ``w_t`` of the source parameters at update ``steps``."""
        annealing = (cos(pi * steps / self.total_steps()) + 1) / 2
        return self.end_momentum + (self.momentum -
                                    self.end_momentum) * annealing

    def avg_func(self, averaged_param: torch.Tensor,
                 source_param: torch.Tensor, steps: int) -> None:
        """In place: ``averaged = (1 - w_t) * averaged + w_t * source``."""
        weight = self.source_weight(int(steps))
        averaged_param.mul_(1 - weight).add_(source_param, alpha=weight)
