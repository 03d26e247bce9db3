"""The PASCAL VOC and MSRA10k training configs: the COCO config with other
images."""
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from mmhvc.registry import DATASETS, MODELS
from mmhvc.utils import register_all_modules

CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'hvc')
# config -> the image dataset's settings that differ from the COCO config.
DATA = {
    'hvc_r18_voc.py':
    dict(
        data_root='data/VOCdevkit/VOC2012',
        data_prefix=dict(img_path='JPEGImages')),
    'hvc_r18_msra10k.py':
    dict(
        data_root='data/MSRA10K_Imgs_GT',
        data_prefix=dict(img_path='Imgs'),
        extensions=('.jpg', )),
}

register_all_modules()


def load(name):
    return Config.fromfile(osp.join(CONFIG_DIR, name)).to_dict()


def image_dataset(cfg):
    return cfg['train_dataloader']['dataset']['dataset']


@pytest.mark.parametrize('name', sorted(DATA))
def test_only_the_images_differ_from_coco(name):
    cfg, coco = load(name), load('hvc_r18_coco.py')
    dataset = image_dataset(cfg)
    for key, value in DATA[name].items():
        assert dataset.pop(key) == value
    coco_dataset = image_dataset(coco)
    coco_dataset.pop('data_root')
    coco_dataset.pop('data_prefix')
    cfg.pop('data_root')
    coco.pop('data_root')
    assert cfg == coco


@pytest.mark.parametrize('name', sorted(DATA))
def test_config_builds_and_reads_photographs_only(name, tmp_path):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, name))
    folder = tmp_path / cfg.train_dataloader.dataset.dataset.data_prefix[
        'img_path']
    folder.mkdir()
    rng = np.random.RandomState(0)
    for stem in ('a', 'b'):
        image = rng.randint(0, 256, (20, 24, 3), np.uint8)
        cv2.imwrite(str(folder / f'{stem}.jpg'), image)
        # MSRA10k keeps a saliency mask beside each photograph.
        cv2.imwrite(str(folder / f'{stem}.png'), image[..., 0])
    cfg.train_dataloader.dataset.dataset.data_root = str(tmp_path)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    expected = 2 if 'extensions' in DATA[name] else 4
    assert len(dataset) == expected
    assert dataset[0]['inputs'].shape[-2:] == (256, 256)
    MODELS.build(cfg.model)
