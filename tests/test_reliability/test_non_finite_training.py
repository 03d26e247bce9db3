"""Training stops at non-finite numbers and never saves non-finite weights.

The tiny HVC is trained through tools/train.py (in this process; a
checkpoint every iteration, one kept) with a fault at iteration 3: a NaN
loss term, or a NaN weight after a step whose loss was finite.
"""
import os.path as osp
import runpy
import sys

import pytest
import torch
from mmengine.optim import OptimWrapper
from reliability_utils import REPO, load_checkpoint

from mmhvc.models.algorithms.hvc import HVC
from mmhvc.utils import find_resume_checkpoint

FAULT_AT = 3


def nan_loss_at_iteration_3(monkeypatch):
    loss, calls = HVC.loss, []

    def faulty(self, *args, **kwargs):
        losses = loss(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == FAULT_AT:
            losses['loss_temporal'] = losses['loss_temporal'] * float('nan')
        return losses

    monkeypatch.setattr(HVC, 'loss', faulty)


def nan_weight_at_iteration_3(monkeypatch):
    update_params, calls = OptimWrapper.update_params, []

    def faulty(self, *args, **kwargs):
        update_params(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == FAULT_AT:
            self.optimizer.param_groups[0]['params'][0].data.fill_(
                float('nan'))

    monkeypatch.setattr(OptimWrapper, 'update_params', faulty)


@pytest.mark.parametrize('inject, message', [
    (nan_loss_at_iteration_3,
     r'Non-finite loss at iteration 3: loss=nan, loss_spatial=-?[\d.]+, '
     r'loss_temporal=nan'),
    (nan_weight_at_iteration_3,
     r'Refusing to save a checkpoint at iteration 3: 1 tensors hold NaN '
     r'or Inf \(backbone\.conv1\.weight\)'),
])
def test_training_stops_without_saving_non_finite_weights(
        tiny_train_config, tmp_path, monkeypatch, inject, message):
    inject(monkeypatch)
    work_dir = str(tmp_path / 'work')
    monkeypatch.setenv('LOCAL_RANK', '0')
    monkeypatch.setattr(sys, 'argv', [
        'tools/train.py', tiny_train_config, '--work-dir', work_dir,
        '--cfg-options', 'default_hooks.checkpoint.interval=1'
    ])
    with pytest.raises(FloatingPointError, match=message):
        runpy.run_path(osp.join(REPO, 'tools', 'train.py'),
                       run_name='__main__')

    # Iteration 2 is the last checkpoint; it is finite and resumable.
    assert not osp.exists(osp.join(work_dir, 'iter_3.pth'))
    last = find_resume_checkpoint(work_dir)
    assert last == osp.join(work_dir, 'iter_2.pth')
    state = load_checkpoint(last)['state_dict']
    for key, value in state.items():
        if value.is_floating_point():
            assert torch.isfinite(value).all(), key
