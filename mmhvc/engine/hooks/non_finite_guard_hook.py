import math
from typing import Optional, Sequence, Union

import torch
from mmengine.hooks import Hook

from mmhvc.registry import HOOKS


@HOOKS.register_module()
class NonFiniteGuardHook(Hook):
    """Stop training at the first non-finite loss; refuse non-finite saves.

    After every training iteration the logged loss terms are checked; a NaN
    or infinite value raises ``FloatingPointError`` naming the iteration and
    every loss term, before any later hook (checkpointing among them) runs.
    Independently, a checkpoint whose state dict holds a non-finite floating
    point tensor is never written: ``before_save_checkpoint`` raises and names
    the offending parameters.

    Args:
        check_checkpoint: Whether to check the weights before each save.
    """

    priority = 'VERY_HIGH'

    def __init__(self, check_checkpoint: bool = True) -> None:
        self.check_checkpoint = check_checkpoint

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[Union[dict, tuple, list]] = None,
                         outputs: Optional[dict] = None) -> None:
        if not outputs:
            return
        terms = {
            key: float(value) for key, value in outputs.items()
            if 'loss' in key
        }
        if all(math.isfinite(v) for v in terms.values()):
            return
        listed = ', '.join(f'{k}={v}' for k, v in terms.items())
        raise FloatingPointError(
            f'Non-finite loss at iteration {runner.iter + 1}: {listed}. '
            'Training stopped; no checkpoint of this iteration was written. '
            'Resume from the last checkpoint with a lower learning rate, or '
            'check the data of this iteration.')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if not self.check_checkpoint:
            return
        bad = non_finite_tensors(checkpoint.get('state_dict', {}).items())
        if bad:
            shown = ', '.join(bad[:10]) + (' ...' if len(bad) > 10 else '')
            # The checkpoint's own count: during an iteration-based save
            # runner.iter has not been advanced yet.
            step = checkpoint.get('meta', {}).get('iter', runner.iter)
            raise FloatingPointError(
                f'Refusing to save a checkpoint at iteration {step}: '
                f'{len(bad)} tensors hold NaN or Inf ({shown}).')


def non_finite_tensors(items: Sequence) -> list:
    """Names of the floating point tensors that hold NaN or Inf."""
    return [
        name for name, value in items
        if isinstance(value, torch.Tensor) and value.is_floating_point()
        and not torch.isfinite(value).all()
    ]
