"""A training run killed at any point resumes to the same weights.

One uninterrupted run of the tiny HVC (8 iterations, a checkpoint every 2,
one kept) is the reference. A second run in another work dir is killed
twice and resumed each time with ``tools/train.py --resume``:

1. by SIGKILL from the test, a seeded random delay after a seeded choice of
   checkpoint has appeared (mid-iteration);
2. by a SIGKILL that the process sends itself half-way through writing the
   next checkpoint (a torn write; the torn bytes stay on disk).

The final online weights, EMA target (and its step counter) and Adam state
must equal the reference's: on the CPU with one thread the training step is
deterministic, MMEngine restores model, optimizer and message hub, and on
resume replays the data loader for the iterations already done, so the
sampler and the crops' random numbers continue where they were.

An epoch-based loop resumes at the start of the epoch after the checkpoint
without replaying anything, so there the crops must not depend on history:
with ``SeededSampler`` and ``SeededDataset`` (each sample's random numbers
seeded by its epoch and position) a crashed and resumed run also ends with
the uninterrupted run's weights.
"""
import glob
import os.path as osp
import random
import signal
import subprocess
import time
import uuid

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from reliability_utils import (REPO, load_checkpoint, run_tool, tool_env,
                               train_cmd, write_train_wrapper)

from mmhvc.utils import find_resume_checkpoint, is_complete_checkpoint

MAX_ITERS = 8


def assert_same_training_state(ckpt, ref):
    assert ckpt['meta']['iter'] == ref['meta']['iter'] == MAX_ITERS
    state, ref_state = ckpt['state_dict'], ref['state_dict']
    assert state.keys() == ref_state.keys()
    assert any(k.startswith('target_net.') for k in state)
    assert int(state['target_net.steps']) == MAX_ITERS
    for key, value in ref_state.items():
        torch.testing.assert_close(
            state[key], value, rtol=1e-6, atol=1e-7, msg=key)
    adam, ref_adam = ckpt['optimizer']['state'], ref['optimizer']['state']
    assert adam.keys() == ref_adam.keys() and ref_adam
    for index, entries in ref_adam.items():
        for name, value in entries.items():
            torch.testing.assert_close(
                adam[index][name], value, rtol=1e-6, atol=1e-7,
                msg=f'optimizer state {index}.{name}')


def test_killed_twice_and_resumed_matches_uninterrupted(
        tiny_train_config, tmp_path):
    rng = random.Random(20240421)
    ref_dir = str(tmp_path / 'reference')
    run_tool(train_cmd(tiny_train_config, ref_dir))
    reference = load_checkpoint(osp.join(ref_dir, f'iter_{MAX_ITERS}.pth'))

    wrapper = write_train_wrapper(str(tmp_path))
    work_dir = str(tmp_path / 'interrupted')

    # 1. Killed from outside, mid-iteration, after checkpoint k appeared.
    k = rng.choice([2, 4])
    proc = subprocess.Popen(
        train_cmd(tiny_train_config, work_dir, wrapper=wrapper),
        cwd=REPO,
        env=tool_env(SLOW_ITER_S='0.25'),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 300
        while not osp.exists(osp.join(work_dir, f'iter_{k}.pth')):
            assert proc.poll() is None, 'training ended before the kill'
            assert time.time() < deadline
            time.sleep(0.02)
        time.sleep(rng.uniform(0., 0.2))
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    resume_from = find_resume_checkpoint(work_dir)
    step = int(osp.basename(resume_from)[len('iter_'):-len('.pth')])
    assert k <= step < MAX_ITERS

    # 2. Resumed, and killed half-way through writing the next checkpoint.
    torn_name = f'iter_{step + 2}.pth'
    torn = run_tool(
        train_cmd(
            tiny_train_config, work_dir, '--resume', wrapper=wrapper),
        check=False,
        TORN_CHECKPOINT=torn_name)
    assert torn.returncode == -signal.SIGKILL, torn.stderr[-3000:]
    partial = glob.glob(osp.join(work_dir, f'.{torn_name}.*.tmp'))
    assert len(partial) == 1 and not is_complete_checkpoint(partial[0])
    assert not osp.exists(osp.join(work_dir, torn_name))
    # The previous checkpoint was neither deleted nor replaced in
    # last_checkpoint before the new one was complete.
    assert find_resume_checkpoint(work_dir) == resume_from
    assert is_complete_checkpoint(resume_from)

    # 3. Resumed to the end.
    result = run_tool(train_cmd(tiny_train_config, work_dir, '--resume'))
    assert f'resumed epoch: 0, iter: {step}' in result.stdout + result.stderr
    assert not glob.glob(osp.join(work_dir, '.*.tmp'))
    final = load_checkpoint(osp.join(work_dir, f'iter_{MAX_ITERS}.pth'))
    assert_same_training_state(final, reference)
    # max_keep_ckpts=1: only the last checkpoint is left.
    assert sorted(glob.glob(osp.join(work_dir, 'iter_*.pth'))) == [
        osp.join(work_dir, f'iter_{MAX_ITERS}.pth')
    ]


class CrashAfterEpoch(Hook):
    """Raise once the checkpoint of ``epoch`` is written."""
    priority = 'LOWEST'

    def __init__(self, epoch):
        self.epoch = epoch

    def after_train_epoch(self, runner):
        if runner.epoch + 1 == self.epoch:
            raise KeyboardInterrupt


def epoch_based(config, work_dir, **options):
    """The tiny config as a 3-epoch run with per-sample seeded crops."""
    cfg = Config.fromfile(config)
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=3)
    cfg.train_dataloader.sampler = dict(
        type='SeededSampler', sampler=dict(type='DefaultSampler'))
    cfg.train_dataloader.dataset = dict(
        type='SeededDataset', dataset=cfg.train_dataloader.dataset)
    cfg.default_hooks.checkpoint.update(by_epoch=True, interval=1)
    cfg.work_dir = work_dir
    cfg.experiment_name = f'epoch_resume_{uuid.uuid4().hex}'
    cfg.merge_from_dict(options)
    return Runner.from_cfg(cfg)


def test_epoch_based_run_with_seeded_crops_resumes_exactly(
        tiny_train_config, tmp_path):
    torch.set_num_threads(1)
    reference = epoch_based(tiny_train_config, str(tmp_path / 'reference'))
    reference.train()
    work_dir = str(tmp_path / 'crashed')
    crashing = epoch_based(tiny_train_config, work_dir)
    crashing.register_hook(CrashAfterEpoch(2))
    with pytest.raises(KeyboardInterrupt):
        crashing.train()
    resumed = epoch_based(
        tiny_train_config,
        work_dir,
        resume=True,
        load_from=find_resume_checkpoint(work_dir))
    resumed.train()
    state = resumed.model.state_dict()
    assert int(state['target_net.steps']) == reference.iter == 9
    for key, value in reference.model.state_dict().items():
        torch.testing.assert_close(state[key], value, rtol=0, atol=0,
                                   msg=key)
