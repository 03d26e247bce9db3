from types import SimpleNamespace

import pytest
import torch

from mmhvc.engine.hooks import NonFiniteGuardHook


def test_finite_losses_pass():
    hook = NonFiniteGuardHook()
    outputs = dict(loss=torch.tensor(-1.), loss_spatial=torch.tensor(-.5),
                   ema_momentum=torch.tensor(float('nan')))
    # Non-loss entries are not checked.
    hook.after_train_iter(SimpleNamespace(iter=3), 0, None, outputs)


def test_non_finite_loss_names_iteration_and_terms():
    hook = NonFiniteGuardHook()
    outputs = dict(loss=torch.tensor(float('nan')),
                   loss_spatial=torch.tensor(float('nan')),
                   loss_temporal=torch.tensor(-0.25))
    with pytest.raises(FloatingPointError) as err:
        hook.after_train_iter(SimpleNamespace(iter=6), 0, None, outputs)
    message = str(err.value)
    assert 'iteration 7' in message
    assert 'loss_spatial=nan' in message and 'loss_temporal=-0.25' in message


def test_non_finite_weights_are_not_saved():
    hook = NonFiniteGuardHook()
    state = dict(a=torch.ones(2), b=torch.tensor([1., float('inf')]),
                 steps=torch.tensor(3))
    with pytest.raises(FloatingPointError, match=r'1 tensors .*\(b\)'):
        hook.before_save_checkpoint(SimpleNamespace(iter=5),
                                    dict(state_dict=state))
    state['b'] = torch.zeros(2)
    hook.before_save_checkpoint(SimpleNamespace(iter=5),
                                dict(state_dict=state))
