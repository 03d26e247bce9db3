import os.path as osp

import pytest
import torch
from mmengine.config import Config
from torch import nn

from mmhvc.checkpoint import (load_encoder_weights, load_model_weights,
                              load_state_dict_checked)
from mmhvc.models import HVCResNet
from mmhvc.registry import MODELS

CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    '_base_', 'models', 'propagation_r18.py')


@pytest.fixture(scope='module')
def model_cfg():
    return Config.fromfile(CONFIG).model


def test_matching_checkpoint_loads_every_weight(model_cfg, tmp_path):
    torch.manual_seed(0)
    source = MODELS.build(model_cfg)
    path = str(tmp_path / 'hvc.pth')
    # An mmhvc training checkpoint: backbone.* plus training-only entries.
    state = {f'module.{k}': v for k, v in source.state_dict().items()}
    state['module.target_net.module.0.conv1.weight'] = torch.zeros(1)
    torch.save(dict(state_dict=state), path)
    torch.manual_seed(1)
    target = MODELS.build(model_cfg)
    load_model_weights(target, path)
    for key, value in source.state_dict().items():
        torch.testing.assert_close(target.state_dict()[key], value, msg=key)


def test_resnet50_checkpoint_does_not_load_into_resnet18(
        model_cfg, tmp_path):
    r50 = MODELS.build(dict(model_cfg.backbone, depth=50))
    path = str(tmp_path / 'hvc_r50.pth')
    torch.save(
        dict(state_dict={f'backbone.{k}': v
                         for k, v in r50.state_dict().items()}), path)
    with pytest.raises(RuntimeError) as info:
        load_model_weights(MODELS.build(model_cfg), path)
    message = str(info.value)
    assert 'hvc_r50.pth does not fit the model LabelPropagationSegmentor' \
        in message
    assert 'size mismatch for backbone.layer1.0.conv1.weight' in message


def test_checkpoint_without_backbone_weights(model_cfg, tmp_path):
    path = str(tmp_path / 'neck_only.pth')
    torch.save(dict(state_dict={'neck.conv.weight': torch.zeros(2)}), path)
    with pytest.raises(KeyError, match=r'neck_only\.pth.*backbone'):
        load_model_weights(MODELS.build(model_cfg), path)


def test_missing_and_unexpected_keys_are_listed(tmp_path):
    path = str(tmp_path / 'linear.pth')
    torch.save({'weight': torch.zeros(1, 2), 'scale': torch.ones(1)}, path)
    with pytest.raises(KeyError) as info:
        load_model_weights(nn.Linear(2, 1), path)
    message = str(info.value)
    assert "linear.pth does not fit the model Linear: 1 missing keys " \
        "['bias'], 1 unexpected keys ['scale']" in message


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='absent.pth'):
        load_model_weights(nn.Linear(2, 1), str(tmp_path / 'absent.pth'))


def test_load_state_dict_checked_reports_what_does_not_fit():
    module = nn.BatchNorm1d(2)
    missing, unexpected = load_state_dict_checked(
        module, {
            'weight': torch.tensor([2., 3.]),
            'extra': torch.zeros(1)
        }, 'bn.pth')
    # num_batches_tracked is optional and not reported.
    assert missing == ['bias', 'running_mean', 'running_var']
    assert unexpected == ['extra']
    assert module.weight.tolist() == [2., 3.]
    with pytest.raises(RuntimeError, match='bn.pth does not fit the model '
                       'BatchNorm1d'):
        load_state_dict_checked(module, {'weight': torch.zeros(3)}, 'bn.pth')


@pytest.fixture(scope='module')
def encoder_weights():
    torch.manual_seed(2)
    return HVCResNet(depth=18, num_stages=3, out_indices=(2, )).state_dict()


def test_load_encoder_weights_under_a_prefix(encoder_weights, tmp_path):
    path = str(tmp_path / 'moco.pth')
    state = {f'module.encoder_q.{k}': v for k, v in encoder_weights.items()}
    # Not ResNet keys, or not under the prefix: ignored.
    state['module.encoder_q.fc.weight'] = torch.zeros(3)
    state['module.encoder_k.conv1.weight'] = torch.zeros(1)
    torch.save(dict(state_dict=state), path)
    module = HVCResNet(depth=18, num_stages=2, out_indices=(1, ))
    load_encoder_weights(module, path, prefix='module.encoder_q.')
    for key, value in module.state_dict().items():
        assert torch.equal(value, encoder_weights[key]), key


def test_load_encoder_weights_refusals(encoder_weights, tmp_path):
    path = str(tmp_path / 'encoder.pth')
    torch.save(
        {k: v
         for k, v in encoder_weights.items() if k != 'layer1.0.bn1.bias'},
        path)
    module = HVCResNet(depth=18, num_stages=3, out_indices=(2, ))
    with pytest.raises(KeyError) as info:
        load_encoder_weights(module, path)
    assert ('encoder.pth: no weights under the prefix "" for 1 encoder '
            "parameters, e.g. ['layer1.0.bn1.bias']") in info.value.args[0]
    with pytest.raises(KeyError, match='under the prefix "encoder."'):
        load_encoder_weights(module, path, prefix='encoder.')
    r50 = str(tmp_path / 'r50.pth')
    torch.save(HVCResNet(depth=50).state_dict(), r50)
    with pytest.raises(RuntimeError, match=r'r50\.pth does not fit the model '
                       'HVCResNet'):
        load_encoder_weights(module, r50)
