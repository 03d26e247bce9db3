import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

import mmhvc  # noqa: F401  (registers the allow-list)
from mmhvc.utils import checkpoint_safe_globals
from mmhvc.utils.checkpoint import history_buffer_getattr


class _Untrusted:
    """A class no allow-list names."""

    def __init__(self) -> None:
        self.value = 1


class _GetattrPayload:
    """Pickles as ``getattr(HistoryBuffer, '__init__')``: the first step of
    walking from an allowed class to its function globals."""

    def __reduce__(self):
        return getattr, (HistoryBuffer, '__init__')


def test_runner_checkpoint_types_load_with_weights_only(tmp_path):
    buffer = HistoryBuffer()
    buffer.update(0.5)
    buffer.update(np.float64(0.25))
    ckpt = dict(
        state_dict={'w': torch.ones(2)},
        message_hub=dict(log_scalars={'train/loss': buffer}),
        meta=dict(seed=np.int64(3), shape=np.zeros((2, 2), np.float32)))
    path = tmp_path / 'ckpt.pth'
    torch.save(ckpt, path)

    loaded = torch.load(path, weights_only=True)

    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))
    restored = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(restored, HistoryBuffer)
    assert restored.mean() == pytest.approx(0.375)
    assert restored.statistics('max') == pytest.approx(0.5)
    assert loaded['meta']['seed'] == 3
    assert loaded['meta']['shape'].shape == (2, 2)


def test_other_types_are_still_refused(tmp_path):
    path = tmp_path / 'untrusted.pth'
    torch.save({'obj': _Untrusted()}, path)
    assert _Untrusted not in checkpoint_safe_globals()
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)


def test_getattr_is_limited_to_history_buffer_statistics(tmp_path):
    assert history_buffer_getattr(HistoryBuffer, 'mean') is HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError):
        history_buffer_getattr(HistoryBuffer, '__init__')
    path = tmp_path / 'hostile.pth'
    torch.save({'obj': _GetattrPayload()}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
