"""End-to-end training through tools/train.py and tools/dist_train.sh."""
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
import torch
from tool_process import run_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(REPO, 'configs', 'hvc', 'hvc_r18_demo.py')


def write_images(root, num=6, size=(40, 56)):
    rng = np.random.default_rng(0)
    os.makedirs(root)
    for i in range(num):
        img = rng.integers(0, 256, size + (3, ), dtype=np.uint8)
        cv2.imwrite(osp.join(root, f'{i:03d}.jpg'), img)


def tiny_options(data_root, max_iters):
    return [
        f'train_dataloader.dataset.data_root={data_root}',
        'train_dataloader.dataset.data_prefix.img_path=images',
        'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'train_dataloader.dataset.pipeline.1.size=32',
        f'train_cfg.max_iters={max_iters}',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1',
        'model.neck.hid_channels=16', 'model.neck.out_channels=16',
        'model.head.predictor.in_channels=16',
        'model.head.predictor.hid_channels=16',
        'model.head.predictor.out_channels=16',
        'model.head.flow.in_channels=16', 'model.head.flow.hid_channels=8',
    ]


def load(path):
    # The default weights_only=True load path, as MMEngine's resume uses.
    import mmhvc  # noqa: F401
    return torch.load(path, map_location='cpu')


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('demo')
    write_images(str(root / 'images'))
    return str(root)


def test_train_then_resume_continues_at_saved_iteration(data_root, tmp_path):
    work_dir = str(tmp_path / 'work')
    run_tool([sys.executable, 'tools/train.py', DEMO_CONFIG, '--work-dir',
              work_dir, '--cfg-options'] + tiny_options(data_root, 2))
    first = load(osp.join(work_dir, 'iter_2.pth'))
    assert first['meta']['iter'] == 2
    assert int(first['state_dict']['target_net.steps']) == 2
    assert first['optimizer']['state']

    log = run_tool([sys.executable, 'tools/train.py', DEMO_CONFIG,
                    '--work-dir', work_dir, '--resume', '--cfg-options'] +
                   tiny_options(data_root, 4))
    assert 'resumed' in log.lower()
    second = load(osp.join(work_dir, 'iter_4.pth'))
    assert second['meta']['iter'] == 4
    # The EMA counter continues from the checkpoint instead of restarting.
    assert int(second['state_dict']['target_net.steps']) == 4
    # Adam's step counter continues too.
    steps = [float(s['step']) for s in second['optimizer']['state'].values()]
    assert steps and all(s == 4 for s in steps)
    for key, value in second['state_dict'].items():
        if value.is_floating_point():
            assert torch.isfinite(value).all(), key


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU gloo path')
def test_dist_train_two_cpu_processes_then_resume_single(data_root, tmp_path):
    work_dir = str(tmp_path / 'dist')
    run_tool(['bash', 'tools/dist_train.sh', DEMO_CONFIG, '2', '--work-dir',
              work_dir, '--cfg-options'] + tiny_options(data_root, 2),
             PORT='29617')
    ckpt = load(osp.join(work_dir, 'iter_2.pth'))
    assert ckpt['meta']['iter'] == 2
    # DDP's gradient all-reduce keeps both ranks identical; rank 0 saved.
    assert not any(k.startswith('module.') for k in ckpt['state_dict'])

    run_tool([sys.executable, 'tools/train.py', DEMO_CONFIG, '--work-dir',
              work_dir, '--resume', '--cfg-options'] +
             tiny_options(data_root, 3))
    resumed = load(osp.join(work_dir, 'iter_3.pth'))
    assert resumed['meta']['iter'] == 3
    assert int(resumed['state_dict']['target_net.steps']) == 3
