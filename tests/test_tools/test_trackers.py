"""Experiment trackers switched on as docs/train.md shows."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmengine.registry import VISUALIZERS
from tensorboard.backend.event_processing.event_accumulator import \
    EventAccumulator

from mmhvc.utils import load_tool_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(REPO, 'configs', 'hvc', 'hvc_r18_demo.py')

# A tiny model and data set: three iterations take a few seconds.
TINY_OPTIONS = [
    'train_dataloader.dataset.data_prefix.img_path=images',
    'train_dataloader.batch_size=2',
    'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'train_dataloader.dataset.pipeline.1.size=32',
    'train_cfg.max_iters=3',
    'default_hooks.checkpoint.interval=3',
    'default_hooks.logger.interval=1',
    # Training pictures at every iteration, to see them reach the tracker.
    'custom_hooks.0.interval=1',
    'model.neck.hid_channels=16', 'model.neck.out_channels=16',
    'model.head.predictor.in_channels=16',
    'model.head.predictor.hid_channels=16',
    'model.head.predictor.out_channels=16',
    'model.head.flow.in_channels=16', 'model.head.flow.hid_channels=8',
]


def read_events(run_dir):
    events = glob.glob(osp.join(run_dir, 'vis_data', 'events.out.tfevents.*'))
    assert len(events) == 1, os.listdir(osp.join(run_dir, 'vis_data'))
    accumulator = EventAccumulator(
        events[0], size_guidance={'scalars': 0, 'images': 0})
    accumulator.Reload()
    return accumulator


def test_tensorboard_next_to_local_backend_during_training(tmp_path):
    data_root = tmp_path / 'data'
    (data_root / 'images').mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(4):
        cv2.imwrite(str(data_root / 'images' / f'{i}.jpg'),
                    rng.integers(0, 256, (40, 48, 3), dtype=np.uint8))
    # The child config of docs/train.md: both backends.
    config = tmp_path / 'hvc_r18_demo_tensorboard.py'
    config.write_text(
        f'_base_ = {DEMO_CONFIG!r}\n'
        'visualizer = dict(vis_backends=[\n'
        "    dict(type='LocalVisBackend'),\n"
        "    dict(type='TensorboardVisBackend'),\n"
        '])\n')
    work_dir = tmp_path / 'work'
    env = dict(os.environ, OMP_NUM_THREADS='1')
    result = subprocess.run(
        [sys.executable, 'tools/train.py',
         str(config), '--work-dir',
         str(work_dir), '--cfg-options',
         f'train_dataloader.dataset.data_root={data_root}'] + TINY_OPTIONS,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]

    (run_dir, ) = [
        p for p in glob.glob(str(work_dir / '*')) if osp.isdir(p)
    ]
    with open(osp.join(run_dir, 'vis_data', 'scalars.json')) as f:
        logged = [json.loads(line) for line in f]
    assert [entry['step'] for entry in logged] == [1, 2, 3]

    events = read_events(run_dir)
    tags = events.Tags()
    for name in ('loss', 'loss_spatial', 'loss_temporal', 'lr',
                 'ema_momentum'):
        assert name in tags['scalars'], tags['scalars']
    loss = events.Scalars('loss')
    assert [e.step for e in loss] == [1, 2, 3]
    # TensorBoard stores float32: the logged values up to its precision.
    np.testing.assert_allclose([e.value for e in loss],
                               [entry['loss'] for entry in logged],
                               rtol=1e-6)
    assert {'train_crop_pairs', 'train_pseudo_flow'} <= set(tags['images'])
    assert [e.step for e in events.Images('train_crop_pairs')] == [1, 2, 3]


def test_command_line_switch_to_tensorboard(tmp_path):
    cfg = load_tool_config(
        DEMO_CONFIG,
        cfg_options={
            'visualizer.vis_backends.0.type': 'TensorboardVisBackend'
        },
        work_dir=str(tmp_path))
    assert cfg.visualizer.vis_backends == [dict(type='TensorboardVisBackend')]
    visualizer = VISUALIZERS.build(
        dict(cfg.visualizer, name='tracker_test', save_dir=str(tmp_path)))
    visualizer.add_scalars({'loss': -1.5}, step=7)
    visualizer.close()
    (scalar, ) = read_events(str(tmp_path)).Scalars('loss')
    assert (scalar.step, scalar.value) == (7, -1.5)
    assert not osp.exists(osp.join(str(tmp_path), 'vis_data', 'scalars.json'))


@pytest.mark.parametrize('options, expected', [
    ({
        'visualizer.vis_backends.0.type': 'WandbVisBackend',
        'visualizer.vis_backends.0.init_kwargs.project': 'hvc',
        'visualizer.vis_backends.0.init_kwargs.name': 'hvc_r18_coco',
    },
     dict(
         type='WandbVisBackend',
         init_kwargs=dict(project='hvc', name='hvc_r18_coco'))),
    ({
        'visualizer.vis_backends.0.type': 'MLflowVisBackend',
        'visualizer.vis_backends.0.exp_name': 'hvc',
    }, dict(type='MLflowVisBackend', exp_name='hvc')),
])
def test_command_line_switch_to_wandb_and_mlflow(options, expected):
    cfg = load_tool_config(DEMO_CONFIG, cfg_options=options)
    assert cfg.visualizer.vis_backends == [expected]
