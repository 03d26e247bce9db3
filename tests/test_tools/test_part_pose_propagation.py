"""VIP and JHMDB propagation configs run end to end by tools/test.py."""
import csv
import glob
import os
import os.path as osp
import runpy
import sys

import cv2
import numpy as np
import pytest
import torch
from PIL import Image
from scipy.io import savemat

import mmhvc.datasets.jhmdb  # noqa: F401
import mmhvc.datasets.transforms.part_annotations  # noqa: F401
import mmhvc.datasets.transforms.pose  # noqa: F401
import mmhvc.datasets.transforms.resize_video  # noqa: F401
import mmhvc.datasets.vip  # noqa: F401
import mmhvc.evaluation.metrics.pck_metric  # noqa: F401
import mmhvc.evaluation.metrics.vip_metric  # noqa: F401
import mmhvc.models.propagation  # noqa: F401
from mmhvc.models.backbones import HVCResNet

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
H, W = 24, 32


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    encoder = HVCResNet(
        depth=18, num_stages=3, strides=(1, 2, 1), out_indices=(2, ))
    path = str(tmp_path_factory.mktemp('ckpt') / 'backbone.pth')
    torch.save(encoder.state_dict(), path)
    return path


def frames(num, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (num, H, W, 3), dtype=np.uint8)


def run_test(config, checkpoint, work_dir, options):
    argv = sys.argv
    sys.argv = [
        'tools/test.py', config, checkpoint, '--work-dir', work_dir,
        '--cfg-options', 'test_dataloader.num_workers=0'
    ] + options
    try:
        runpy.run_path(osp.join(REPO, 'tools', 'test.py'), run_name='__main__')
    finally:
        sys.argv = argv
    results = glob.glob(osp.join(work_dir, '*', 'results'))
    assert len(results) == 1
    return results[0]


def read_csv(path):
    with open(path, newline='') as f:
        return list(csv.reader(f))


def test_vip_config(tmp_path, checkpoint):
    root = str(tmp_path / 'VIP_Fine')
    for video in ('videos1', 'videos2'):
        for folder in ('Images', 'Annotations/Category_ids'):
            os.makedirs(osp.join(root, folder, video))
        for t, frame in enumerate(frames(3, seed=len(video))):
            stem = f'{25 * t + 1:012d}'
            cv2.imwrite(osp.join(root, 'Images', video, stem + '.jpg'), frame)
            labels = np.zeros((H, W), np.uint8)
            labels[4:12, 8 + t:20 + t] = 13
            labels[12:20, 6:22] = 4
            Image.fromarray(labels).save(
                osp.join(root, 'Annotations/Category_ids', video,
                         stem + '.png'))
    os.makedirs(osp.join(root, 'lists'))
    with open(osp.join(root, 'lists', 'val_videos.txt'), 'w') as f:
        f.write('videos1\nvideos2\n')
    results = run_test(
        osp.join(REPO, 'configs', 'propagation',
                 'vip_val_crw_protocol_r18.py'), checkpoint,
        str(tmp_path / 'work'), [
            f'test_dataloader.dataset.data_root={root}',
            'test_dataloader.dataset.pipeline.2.scale=(16,16)'
        ])
    rows = read_csv(osp.join(results, 'global_results-val.csv'))
    assert rows[0] == ['mIoU'] and 0 <= float(rows[1][0]) <= 1
    rows = read_csv(osp.join(results, 'per-class_results-val.csv'))
    assert [r[0] for r in rows[1:]][13] == 'face'
    assert rows[1 + 5][1] == '-'  # 'dress' never occurs: not scored
    rows = read_csv(osp.join(results, 'per-sequence_results-val.csv'))
    assert [r[0] for r in rows[1:]] == ['videos1', 'videos2']


def test_jhmdb_config(tmp_path, checkpoint):
    root = str(tmp_path / 'JHMDB')
    for video in ('v1', 'v2'):
        folder = osp.join(root, 'Rename_Images', 'run', video)
        os.makedirs(folder)
        for t, frame in enumerate(frames(3, seed=len(video))):
            cv2.imwrite(osp.join(folder, f'{t + 1:05d}.png'), frame)
        pos = np.stack(
            np.meshgrid(
                np.linspace(3, 30, 15), np.ones(3) * 10, indexing='ij'))
        os.makedirs(osp.join(root, 'joint_positions', 'run', video))
        savemat(
            osp.join(root, 'joint_positions', 'run', video,
                     'joint_positions.mat'), dict(pos_img=pos))
    os.makedirs(osp.join(root, 'splits'))
    with open(osp.join(root, 'splits', 'run_test_split1.txt'), 'w') as f:
        f.write('v1.avi 2\nv2.avi 2\n')
    results = run_test(
        osp.join(REPO, 'configs', 'propagation', 'jhmdb_val_r18.py'),
        checkpoint, str(tmp_path / 'work'), [
            f'test_dataloader.dataset.data_root={root}',
            'test_dataloader.dataset.pipeline.2.scale=(32,32)'
        ])
    rows = read_csv(osp.join(results, 'global_results-split1.csv'))
    assert rows[0] == ['PCK@0.1', 'PCK@0.2']
    assert 0 <= float(rows[1][0]) <= float(rows[1][1]) <= 1
    rows = read_csv(osp.join(results, 'per-joint_results-split1.csv'))
    assert [r[0] for r in rows[1:3]] == ['neck', 'belly']
    assert len(rows) == 16
