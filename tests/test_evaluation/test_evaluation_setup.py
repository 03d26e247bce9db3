"""The settings tools/test.py adds for the data check and for --resume."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmhvc.evaluation.evaluation_run import (evaluation_fingerprint,
                                             metric_record_dir, record_path,
                                             write_record, write_run_file)
from mmhvc.utils import register_all_modules
from mmhvc.evaluation.evaluation_setup import setup_evaluation_run

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'propagation', 'demo_davis_r18.py')

register_all_modules()


@pytest.fixture
def cfg(tmp_path):
    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.default_hooks.visualization.out_dir = 'vis'
    return cfg


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / 'ckpt.pth'
    path.write_bytes(b'weights')
    return str(path)


def result_dir_hook(cfg):
    (hook, ) = [h for h in cfg.custom_hooks if h.type == 'ResultDirHook']
    return hook


def test_new_run_checks_files_and_stores_the_fingerprint(cfg, checkpoint):
    fingerprint = evaluation_fingerprint(cfg, checkpoint)
    assert setup_evaluation_run(cfg, checkpoint) is None
    assert cfg.test_dataloader.dataset.check_files is True
    assert 'filter_cfg' not in cfg.test_dataloader.dataset
    assert result_dir_hook(cfg).fingerprint == fingerprint
    assert 'run_dir' not in result_dir_hook(cfg)


def test_resume_without_a_run_starts_a_new_one(cfg, checkpoint):
    assert setup_evaluation_run(cfg, checkpoint, resume=True) is None
    assert 'filter_cfg' not in cfg.test_dataloader.dataset


def test_resume_skips_the_completed_sequences(cfg, checkpoint):
    run_dir = osp.join(cfg.work_dir, '20240101_000000')
    write_run_file(run_dir, evaluation_fingerprint(cfg, checkpoint), ['davis'],
                   ['s0', 's1', 's2'])
    for name in ('s2', 's0'):
        write_record(
            record_path(metric_record_dir(run_dir, 'davis'), name),
            dict(seq_name=name))
    assert setup_evaluation_run(cfg, checkpoint, resume=True) == run_dir
    dataset = cfg.test_dataloader.dataset
    assert dataset.filter_cfg == dict(skip_sequences=['s0', 's2'])
    assert 'serialize_data' not in dataset
    assert result_dir_hook(cfg).run_dir == run_dir
    assert cfg.default_hooks.visualization.out_dir == osp.join(run_dir, 'vis')


def test_resume_of_a_finished_run_propagates_nothing(cfg, checkpoint):
    run_dir = osp.join(cfg.work_dir, '20240101_000000')
    write_run_file(run_dir, evaluation_fingerprint(cfg, checkpoint), ['davis'],
                   ['s0'])
    write_record(
        record_path(metric_record_dir(run_dir, 'davis'), 's0'),
        dict(seq_name='s0'))
    setup_evaluation_run(cfg, checkpoint, resume=True)
    assert cfg.test_dataloader.dataset.filter_cfg.skip_sequences == ['s0']
    assert cfg.test_dataloader.dataset.serialize_data is False


def test_resume_of_another_config_is_refused(cfg, checkpoint):
    run_dir = osp.join(cfg.work_dir, '20240101_000000')
    write_run_file(run_dir, evaluation_fingerprint(cfg, checkpoint), ['davis'],
                   ['s0'])
    cfg.test_evaluator.bound_th = 0.01
    with pytest.raises(ValueError, match='it evaluated another config'):
        setup_evaluation_run(cfg, checkpoint, resume=True)


def test_resume_needs_the_result_dir_hook(cfg, checkpoint):
    cfg.custom_hooks = []
    assert setup_evaluation_run(cfg, checkpoint) is None
    with pytest.raises(ValueError, match='needs a ResultDirHook'):
        setup_evaluation_run(cfg, checkpoint, resume=True)
