"""The feature-merge configs: the plain benchmark config plus MoCo-v1."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmhvc.registry import MODELS
from mmhvc.utils import register_all_modules

CONFIGS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'propagation')
BENCHMARKS = ('davis2016_val', 'davis2017_val', 'davis2017_testdev',
              'ytvos2018_val', 'ytvos2019_val', 'vost_val')

register_all_modules()


def load(name):
    return Config.fromfile(osp.join(CONFIGS, f'{name}.py'))


@pytest.mark.parametrize('benchmark', BENCHMARKS)
def test_merge_config_is_plain_config_with_moco(benchmark):
    merge = load(f'{benchmark}_r18_moco_merge')
    plain = load(f'{benchmark}_r18')
    assert merge.test_dataloader.to_dict() == \
        plain.test_dataloader.to_dict()
    assert merge.test_evaluator.to_dict() == plain.test_evaluator.to_dict()
    model = merge.model.to_dict()
    assert model.pop('merge_weight') == 1.05
    assert model.pop('extra_checkpoint') == \
        'checkpoints/moco_v1_200ep_r50_backbone.pth'
    assert model.pop('extra_backbone') == dict(
        type='HVCResNet',
        depth=50,
        num_stages=3,
        strides=(1, 2, 1),
        out_indices=(2, ))
    assert model == plain.model.to_dict()


def test_moco_encoder_gives_1024_channels_at_stride_8():
    extra = load('davis2016_val_r18_moco_merge').model.extra_backbone
    encoder = MODELS.build(extra).eval()
    with torch.no_grad():
        (feat, ) = encoder(torch.zeros(1, 3, 64, 48))
    assert feat.shape == (1, 1024, 8, 6)
