import math
import uuid

import pytest
import torch
import torch.nn as nn
from mmengine.logging import MessageHub

from mmhvc.models import CosineEMA

torch.set_num_threads(1)


def target_momentum(t, total, base=0.99):
    """m_t = 1 - (1 - base) * (cos(pi * t / T) + 1) / 2."""
    return 1 - (1 - base) * (math.cos(math.pi * t / total) + 1) / 2


def test_schedule_at_start_middle_and_end():
    ema = CosineEMA(nn.Linear(2, 2), momentum=1 - 0.99, max_iters=100)
    for t, expected in [(0, 0.99), (50, 0.995), (100, 1.0)]:
        m = 1 - ema.source_weight(t)
        assert m == pytest.approx(expected, abs=1e-12)
        assert m == pytest.approx(target_momentum(t, 100), abs=1e-12)


def test_update_rule():
    torch.manual_seed(0)
    online = nn.Linear(3, 2)
    ema = CosineEMA(online, momentum=0.01, max_iters=4)
    assert all(not p.requires_grad for p in ema.parameters())
    # the first update copies the online parameters
    with torch.no_grad():
        online.weight.add_(1.)
    ema.update_parameters(online)
    assert torch.equal(ema.module.weight, online.weight)
    assert int(ema.steps) == 1
    for t in (1, 2, 3):
        before = ema.module.weight.clone()
        with torch.no_grad():
            online.weight.normal_()
        ema.update_parameters(online)
        m = target_momentum(t, 4)
        torch.testing.assert_close(
            ema.module.weight, m * before + (1 - m) * online.weight,
            rtol=1e-6, atol=1e-7)
    assert int(ema.steps) == 4


def test_total_steps_from_message_hub():
    hub = MessageHub.get_instance(f'test_cosine_ema_{uuid.uuid4()}')
    hub.update_info('max_iters', 10)
    ema = CosineEMA(nn.Linear(2, 2), momentum=0.01)
    assert ema.total_steps() == 10
    assert 1 - ema.source_weight(5) == pytest.approx(target_momentum(5, 10))
    MessageHub.get_instance(f'test_cosine_ema_empty_{uuid.uuid4()}')
    with pytest.raises(RuntimeError, match='max_iters'):
        ema.total_steps()


def test_steps_in_state_dict():
    online = nn.Linear(2, 2)
    ema = CosineEMA(online, max_iters=5)
    ema.update_parameters(online)
    ema.update_parameters(online)
    state = ema.state_dict()
    assert int(state['steps']) == 2 and 'module.weight' in state
    restored = CosineEMA(nn.Linear(2, 2), max_iters=5)
    restored.load_state_dict(state)
    assert int(restored.steps) == 2
    assert torch.equal(restored.module.weight, ema.module.weight)


def test_bad_arguments():
    with pytest.raises(ValueError, match='max_iters'):
        CosineEMA(nn.Linear(2, 2), max_iters=0)
    with pytest.raises(ValueError, match='end_momentum'):
        CosineEMA(nn.Linear(2, 2), end_momentum=1.)
