import datetime
import hashlib
import os
import pickle
from argparse import Namespace

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

import mmhvc  # noqa: F401  (registers the allow-list)
from mmhvc.checkpoint import (CheckpointConversionError,
                              checkpoint_safe_globals, find_state_dict,
                              history_buffer_getattr, load_checkpoint_file,
                              save_checkpoint_atomic)


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


WEIGHTS = {'conv1.weight': torch.arange(4.).reshape(2, 2)}


def test_find_state_dict():
    assert find_state_dict(WEIGHTS) == (WEIGHTS, '')
    assert find_state_dict(dict(model=WEIGHTS, epoch=3))[1] == 'model'
    assert find_state_dict(dict(state_dict=WEIGHTS, meta={}))[1] == \
        'state_dict'
    with pytest.raises(CheckpointConversionError, match='ckpt.pth'):
        find_state_dict(dict(epoch=3, args='x'), 'ckpt.pth')
    with pytest.raises(CheckpointConversionError, match='got list'):
        find_state_dict([WEIGHTS], 'list.pth')


def test_load_checkpoint_file(tmp_path):
    path = str(tmp_path / 'official.pth')
    buffer = HistoryBuffer()
    buffer.update(0.5)
    torch.save(
        dict(
            model=WEIGHTS,
            args=Namespace(arch='resnet18'),
            message_hub=dict(log_scalars={'train/loss': buffer})), path)
    loaded = load_checkpoint_file(path)
    assert loaded['args'].arch == 'resnet18'
    assert loaded['message_hub']['log_scalars']['train/loss'].current() == 0.5
    assert torch.equal(loaded['model']['conv1.weight'], WEIGHTS['conv1.weight'])


def test_load_checkpoint_file_refusals(tmp_path):
    with pytest.raises(FileNotFoundError, match='absent.pth'):
        load_checkpoint_file(str(tmp_path / 'absent.pth'))
    garbage = tmp_path / 'garbage.pth'
    garbage.write_bytes(b'not a checkpoint')
    with pytest.raises(CheckpointConversionError, match='garbage.pth'):
        load_checkpoint_file(str(garbage))
    dated = str(tmp_path / 'dated.pth')
    torch.save(dict(created=datetime.date(2024, 4, 21)), dated)
    with pytest.raises(CheckpointConversionError, match='--trust-pickle'):
        load_checkpoint_file(dated)
    assert load_checkpoint_file(dated, trust_pickle=True)['created'].year == \
        2024


def test_save_checkpoint_atomic_leaves_no_partial_file(tmp_path):
    path = str(tmp_path / 'x.pth')

    class Unpicklable:

        def __reduce__(self):
            raise RuntimeError('cannot pickle')

    with pytest.raises(RuntimeError, match='cannot pickle'):
        save_checkpoint_atomic({'a': Unpicklable()}, path)
    assert os.listdir(tmp_path) == []
    assert save_checkpoint_atomic({'a': torch.ones(1)}, path) == path
    assert os.listdir(tmp_path) == ['x.pth']


@pytest.mark.parametrize('name', ['hvc_r18.pth', 'hvc_r18'])
def test_save_checkpoint_atomic_hash_suffix(name, tmp_path):
    path = save_checkpoint_atomic(
        WEIGHTS, str(tmp_path / 'out' / name), hash_suffix=True)
    (written, ) = os.listdir(tmp_path / 'out')
    with open(tmp_path / 'out' / written, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    assert written == f'hvc_r18-{digest[:8]}.pth'
    assert path == str(tmp_path / 'out' / written)
    assert torch.equal(
        torch.load(path)['conv1.weight'], WEIGHTS['conv1.weight'])
