import argparse
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config, DictAction
from mmengine.optim import OptimWrapper, build_optim_wrapper

from mmhvc.registry import DATA_SAMPLERS, DATASETS, TRANSFORMS
from mmhvc.utils import load_tool_config

CONFIG_DIR = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'hvc')
PAPER_CONFIGS = ['hvc_r18_coco.py', 'hvc_r50_coco.py', 'hvc_r18_ytvos.py']

# The override of docs/train.md that reproduces the released COCO script.
RELEASE_OPTIONS = ('optim_wrapper._delete_=True '
                   'optim_wrapper.type=OptimWrapper '
                   'optim_wrapper.optimizer.type=Adam '
                   'optim_wrapper.optimizer.lr=0.001 '
                   'train_dataloader.sampler.sampler.shuffle=False')


def load_config(name: str, options: str = '') -> Config:
    """A config of configs/hvc with ``--cfg-options`` as tools/train.py
    parses and merges them."""
    cfg_options = None
    if options:
        parser = argparse.ArgumentParser()
        parser.add_argument('--cfg-options', nargs='+', action=DictAction)
        cfg_options = parser.parse_args(['--cfg-options',
                                         *options.split()]).cfg_options
    return load_tool_config(
        osp.join(CONFIG_DIR, name), cfg_options=cfg_options)


def crop_pair_cfg(cfg: Config) -> dict:
    """The RandomResizedCropPair entry of the training pipeline."""
    dataset = cfg.train_dataloader.dataset
    while 'pipeline' not in dataset:
        dataset = dataset.dataset
    (crop, ) = [t for t in dataset.pipeline
                if t.type == 'RandomResizedCropPair']
    return crop


@pytest.mark.parametrize('name', PAPER_CONFIGS)
def test_paper_configs_resize_crops_with_pillow(name):
    crop = crop_pair_cfg(load_config(name))
    assert crop.backend == 'pillow'
    assert crop.get('interpolation', 'bilinear') == 'bilinear'
    assert TRANSFORMS.build(crop).backend == 'pillow'


def test_demo_config_keeps_opencv():
    # The README's demo table was measured with a model trained this way.
    assert crop_pair_cfg(load_config('hvc_r18_demo.py')).backend == 'cv2'


def test_default_is_the_paper_setting():
    cfg = load_config('hvc_r18_coco.py')
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.train_dataloader.sampler.sampler.shuffle is True


def test_release_override_trains_in_float32():
    cfg = load_config('hvc_r18_coco.py', RELEASE_OPTIONS)
    wrapper = build_optim_wrapper(nn.Linear(2, 2), cfg.optim_wrapper)
    assert type(wrapper) is OptimWrapper
    assert type(wrapper.optimizer) is torch.optim.Adam
    (group, ) = wrapper.optimizer.param_groups
    assert group['lr'] == 1e-3
    assert group['betas'] == (0.9, 0.999)
    assert group['weight_decay'] == 0


def epoch_orders(cfg: Config, data_root: str, epochs: int = 2) -> list:
    """Image file names in the order the training sampler yields them, for
    each epoch, with the dataset of ``cfg`` read from ``data_root``."""
    loader = cfg.train_dataloader
    loader.dataset.dataset.data_root = data_root
    dataset = DATASETS.build(loader.dataset)
    sampler = DATA_SAMPLERS.build(
        loader.sampler, default_args=dict(dataset=dataset, seed=0))
    orders = []
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        orders.append([
            osp.basename(dataset[key]['data_samples'].img_path)
            for key in sampler
        ])
    return orders


@pytest.fixture
def coco_root(tmp_path):
    """A train2017 folder of eight images, written out of name order."""
    names = [f'{i:012d}.jpg' for i in (7, 3, 12, 1, 9, 4, 30, 2)]
    folder = tmp_path / 'train2017'
    folder.mkdir()
    rng = np.random.RandomState(0)
    for name in names:
        cv2.imwrite(
            str(folder / name), rng.randint(0, 256, (12, 16, 3), np.uint8))
    return str(tmp_path), sorted(names)


def test_release_override_reads_images_in_sorted_order(coco_root):
    data_root, sorted_names = coco_root
    cfg = load_config('hvc_r18_coco.py', RELEASE_OPTIONS)
    assert epoch_orders(cfg, data_root) == [sorted_names, sorted_names]


def test_paper_config_shuffles_every_epoch(coco_root):
    data_root, sorted_names = coco_root
    first, second = epoch_orders(load_config('hvc_r18_coco.py'), data_root)
    assert sorted(first) == sorted(second) == sorted_names
    assert first != sorted_names and second != first
