import os
import os.path as osp
import uuid

import pytest
import torch
from mmengine.fileio.backends.local_backend import LocalBackend
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

from mmhvc.engine.hooks import AtomicCheckpointHook
from mmhvc.registry import HOOKS
from mmhvc.utils import find_resume_checkpoint, is_complete_checkpoint


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(torch.stack(inputs))
        return dict(loss=out.pow(2).mean()) if mode == 'loss' else out


class ToyDataset(Dataset):
    metainfo = dict()

    def __len__(self):
        return 4

    def __getitem__(self, index):
        return dict(inputs=torch.full((2, ), float(index)))


def make_runner(work_dir, max_iters=4, max_keep_ckpts=1):
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type='InfiniteSampler', shuffle=False),
            batch_size=2,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=dict(
                type='AtomicCheckpointHook',
                by_epoch=False,
                interval=1,
                max_keep_ckpts=max_keep_ckpts)),
        default_scope='mmhvc',
        experiment_name=f'atomic_ckpt_{uuid.uuid4().hex}')


def names(folder):
    return sorted(n for n in os.listdir(folder) if n.endswith(('.pth',
                                                               '.tmp')))


def test_registered():
    assert HOOKS.get('AtomicCheckpointHook') is AtomicCheckpointHook


def test_previous_checkpoint_outlives_the_write_of_the_next(tmp_path,
                                                            monkeypatch):
    """While checkpoint N is written, the final name does not exist yet and
    checkpoint N - 1 is still there and named in last_checkpoint."""
    seen = []
    put = LocalBackend.put

    def spy_put(self, obj, filepath):
        seen.append((osp.basename(filepath), names(tmp_path),
                     find_resume_checkpoint(str(tmp_path))))
        return put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', spy_put)
    make_runner(tmp_path).train()

    assert len(seen) == 4
    for step, (written, present, pointer) in enumerate(seen, 1):
        assert written == f'.iter_{step}.pth.{os.getpid()}.tmp'
        expected = [] if step == 1 else [f'iter_{step - 1}.pth']
        assert present == expected
        assert pointer == (None if step == 1 else osp.join(
            str(tmp_path), f'iter_{step - 1}.pth'))
    assert names(tmp_path) == ['iter_4.pth']
    with open(tmp_path / 'last_checkpoint') as f:
        assert f.read() == osp.join(str(tmp_path), 'iter_4.pth')
    assert is_complete_checkpoint(str(tmp_path / 'iter_4.pth'))


def test_failed_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    put = LocalBackend.put

    def disk_full_at_3(self, obj, filepath):
        if '.iter_3.pth' in filepath:
            with open(filepath, 'wb') as f:
                f.write(obj[:10])
            raise OSError(28, 'No space left on device')
        return put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', disk_full_at_3)
    with pytest.raises(OSError, match='No space'):
        make_runner(tmp_path).train()
    # The partial file is removed, iter_2 is kept and still named.
    assert names(tmp_path) == ['iter_2.pth']
    assert find_resume_checkpoint(str(tmp_path)) == osp.join(
        str(tmp_path), 'iter_2.pth')


def test_stale_temp_files_are_removed_when_training_starts(tmp_path):
    stale = tmp_path / '.iter_6.pth.12345.tmp'
    other = tmp_path / '.notes.12345.tmp'
    stale.write_bytes(b'torn')
    other.write_bytes(b'not ours')
    make_runner(tmp_path, max_iters=1).train()
    assert not stale.exists() and other.exists()
    assert names(tmp_path) == ['.notes.12345.tmp', 'iter_1.pth']


def test_keeps_max_keep_ckpts(tmp_path):
    make_runner(tmp_path, max_iters=4, max_keep_ckpts=2).train()
    assert names(tmp_path) == ['iter_3.pth', 'iter_4.pth']


class StopAfterEpoch(Hook):
    """Raise after the checkpoint of an epoch is saved (a crash)."""
    priority = 'LOWEST'

    def __init__(self, epoch):
        self.epoch = epoch

    def after_train_epoch(self, runner):
        if runner.epoch + 1 == self.epoch:
            raise KeyboardInterrupt


def epoch_runner(work_dir, **kwargs):
    torch.manual_seed(0)
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_size=2,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=0.1)),
        train_cfg=dict(by_epoch=True, max_epochs=3),
        default_hooks=dict(
            checkpoint=dict(
                type='AtomicCheckpointHook', interval=1, max_keep_ckpts=1)),
        randomness=dict(seed=0),
        default_scope='mmhvc',
        experiment_name=f'atomic_ckpt_{uuid.uuid4().hex}',
        **kwargs)


def test_epoch_checkpoints_resume_to_the_same_weights(tmp_path):
    reference = epoch_runner(tmp_path / 'reference')
    reference.train()

    work_dir = tmp_path / 'crashed'
    with pytest.raises(KeyboardInterrupt):
        epoch_runner(work_dir, custom_hooks=[StopAfterEpoch(2)]).train()
    assert names(work_dir) == ['epoch_2.pth']
    resumed = epoch_runner(
        work_dir,
        resume=True,
        load_from=find_resume_checkpoint(str(work_dir)))
    resumed.train()
    assert resumed.epoch == 3 and resumed.iter == reference.iter == 6
    for key, value in reference.model.state_dict().items():
        torch.testing.assert_close(
            resumed.model.state_dict()[key], value, rtol=0, atol=0)
