"""The fingerprint and the run folders behind ``tools/test.py --resume``
(the resumed runs themselves: tests/test_reliability)."""
import hashlib
import json
import os
import os.path as osp

import pytest
from mmengine.config import Config

from mmhvc.engine.runner import (check_fingerprint, evaluation_fingerprint,
                                 find_latest_run)
from mmhvc.registry import LOOPS


def config(**dataset):
    return Config(
        dict(
            model=dict(type='LabelPropagationSegmentor', topk=15),
            test_dataloader=dict(
                num_workers=2,
                dataset=dict(type='DAVISDataset', data_root='data',
                             **dataset)),
            test_evaluator=dict(type='DAVISMetric'),
            test_cfg=dict(type='VideoTestLoop'),
            work_dir='work'))


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / 'a.pth'
    path.write_bytes(b'weights')
    return str(path)


def write_run(run_dir, fingerprint):
    os.makedirs(run_dir)
    with open(osp.join(run_dir, 'evaluation_run.json'), 'w') as f:
        json.dump(dict(fingerprint=fingerprint), f)


def test_fingerprint_covers_what_is_evaluated(tmp_path, checkpoint):
    base = evaluation_fingerprint(config(), checkpoint)
    assert base['checkpoint'] == hashlib.sha256(b'weights').hexdigest()
    assert base['checkpoint_file'] == checkpoint

    other = config()
    other.work_dir = 'elsewhere'
    other.test_dataloader.num_workers = 0
    assert evaluation_fingerprint(other, checkpoint) == base
    other.model.topk = 10
    assert evaluation_fingerprint(other, checkpoint)['config'] != \
        base['config']
    assert evaluation_fingerprint(config(split='train'),
                                  checkpoint)['config'] != base['config']
    (tmp_path / 'b.pth').write_bytes(b'other weights')
    assert evaluation_fingerprint(config(), str(
        tmp_path / 'b.pth'))['checkpoint'] != base['checkpoint']


def test_check_fingerprint_names_both_checkpoints(tmp_path, checkpoint):
    fingerprint = evaluation_fingerprint(config(), checkpoint)
    run_dir = str(tmp_path / 'run')
    write_run(run_dir, fingerprint)
    check_fingerprint(run_dir, fingerprint)

    (tmp_path / 'b.pth').write_bytes(b'other weights')
    other = evaluation_fingerprint(config(), str(tmp_path / 'b.pth'))
    with pytest.raises(ValueError) as error:
        check_fingerprint(run_dir, other)
    message = str(error.value)
    assert message.startswith(f'Cannot resume {run_dir}: it evaluated '
                              f'another checkpoint {checkpoint}')
    assert str(tmp_path / 'b.pth') in message
    assert 'another config' not in message
    changed = evaluation_fingerprint(config(split='train'), checkpoint)
    with pytest.raises(ValueError, match='another config'):
        check_fingerprint(run_dir, changed)

    unstarted = str(tmp_path / 'unstarted')
    write_run(unstarted, None)
    with pytest.raises(ValueError, match='not started by tools/test.py'):
        check_fingerprint(unstarted, fingerprint)
    with open(osp.join(unstarted, 'evaluation_run.json'), 'w') as f:
        f.write('{"fingerprint": ')
    with pytest.raises(ValueError, match='is not an evaluation run file'):
        check_fingerprint(unstarted, fingerprint)


def test_latest_run_is_the_last_with_a_run_file(tmp_path):
    work_dir = str(tmp_path)
    assert find_latest_run(work_dir) is None
    for name in ('20240101_000000', '20240301_000000'):
        write_run(osp.join(work_dir, name), None)
    # A later folder without a run file (a resumed run's own log folder).
    os.makedirs(osp.join(work_dir, '20240401_000000'))
    assert find_latest_run(work_dir) == osp.join(work_dir, '20240301_000000')


def test_registered():
    assert LOOPS.get('VideoTestLoop').__name__ == 'VideoTestLoop'
