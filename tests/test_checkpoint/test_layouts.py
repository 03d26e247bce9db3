import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmhvc.checkpoint import (KeyReport, convert_official, extract_backbone,
                              is_optional_key, is_resnet_key,
                              revise_propagation_state_dict,
                              select_encoder_prefix, strip_training_state)
from mmhvc.checkpoint import layouts
from mmhvc.models import HVCResNet
from mmhvc.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def r18():
    """Plain (torchvision-named) ResNet-18 weights, random values."""
    gen = torch.Generator().manual_seed(0)
    return {
        k: (torch.randn(v.shape, generator=gen)
            if v.is_floating_point() else v.clone())
        for k, v in HVCResNet(depth=18).state_dict().items()
    }


def assert_same(actual, expected):
    assert set(actual) == set(expected)
    for key, value in expected.items():
        assert torch.equal(actual[key], value), key


def test_is_resnet_key():
    for key in ('conv1.weight', 'bn1.running_var', 'layer1.0.conv2.weight',
                'layer4.1.bn2.num_batches_tracked',
                'layer2.0.downsample.0.weight', 'layer3.5.conv3.weight'):
        assert is_resnet_key(key), key
    for key in ('fc.weight', 'layer5.0.conv1.weight', 'conv1.weight.x',
                'online_encoder.conv1.weight', 'layer1.0.downsample.2.weight',
                'neck.conv1.weight'):
        assert not is_resnet_key(key), key


def test_is_optional_key():
    assert is_optional_key('backbone.bn1.num_batches_tracked')
    assert not is_optional_key('backbone.bn1.running_mean')


def test_select_encoder_prefix():
    keys = [
        'online_encoder.conv1.weight', 'target_encoder.conv1.weight',
        'flow.conv1.weight'
    ]
    assert select_encoder_prefix(keys) == 'online_encoder.'
    assert select_encoder_prefix(['module.encoder.layer1.0.bn1.bias'
                                  ]) == 'module.encoder.'
    assert select_encoder_prefix(['conv1.weight', 'fc.bias']) == ''
    assert select_encoder_prefix(['head.fc.weight']) is None


def test_key_report_format():
    report = KeyReport()
    report.add('conv1.weight', 'conv1.weight')
    report.add('backbone.bn1.bias', 'bn1.bias')
    report.add('fc.weight', None)
    assert report.num_output == 2
    assert report.format().startswith(
        'kept 1, renamed 1, dropped 1 keys (2 written)')
    verbose = report.format(verbose=True)
    assert 'renamed  backbone.bn1.bias -> bn1.bias' in verbose
    assert 'dropped  fc.weight' in verbose


def test_convert_official_reports_every_key(r18):
    source = dict(r18)
    source['fc.weight'] = torch.zeros(3, 512)
    converted, report = convert_official(source)
    assert_same(converted, r18)
    assert report.dropped == ['fc.weight']
    assert len(report.kept) == len(r18) and not report.renamed


def test_extract_backbone():
    """On the state dict of the real HVC training model (online + EMA)."""
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', '_base_', 'models', 'hvc_r18.py'))
    hvc_state_dict = MODELS.build(cfg.model).state_dict()
    backbone, report = extract_backbone(hvc_state_dict)
    expected = {
        k[len('backbone.'):]: v
        for k, v in hvc_state_dict.items() if k.startswith('backbone.')
    }
    assert_same(backbone, expected)
    assert len(report.renamed) == len(expected)
    assert len(report.dropped) == len(hvc_state_dict) - len(expected)
    assert all(not k.startswith('backbone.') for k in report.dropped)
    assert any(k.startswith('target_net.') for k in report.dropped)


def test_strip_training_state_bare_state_dict(r18):
    published, report, removed = strip_training_state(r18)
    assert set(published) == {'state_dict'} and removed == []
    assert report.num_output == len(r18)


def own_entries(prefix=''):
    """The entries of a tiny propagation model: an encoder and a merge
    encoder, each with one weight and one batch counter."""
    return {
        f'{prefix}backbone.conv1.weight': torch.ones(2),
        f'{prefix}backbone.bn1.num_batches_tracked': torch.tensor(0),
        f'{prefix}extra_backbone.conv1.weight': torch.full((2, ), 7.),
    }


@pytest.fixture
def logged(monkeypatch):
    messages = []
    monkeypatch.setattr(layouts, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    return messages


def test_revise_moves_a_backbone_file_under_backbone(logged):
    state_dict = {
        'conv1.weight': torch.tensor([3., 4.]),
        'fc.weight': torch.zeros(1)
    }
    revise_propagation_state_dict(state_dict, own_entries())
    assert sorted(state_dict) == [
        'backbone.conv1.weight', 'extra_backbone.conv1.weight'
    ]
    assert state_dict['backbone.conv1.weight'].tolist() == [3., 4.]
    # The merge encoder keeps what it was built with.
    assert state_dict['extra_backbone.conv1.weight'].tolist() == [7., 7.]
    assert logged == ["1 checkpoint entries are not used by the propagation "
                      "model (e.g. ['fc.weight'])"]


def test_revise_keeps_a_training_checkpoint_and_drops_the_rest(logged):
    state_dict = {
        'm.backbone.conv1.weight': torch.tensor([1., 2.]),
        'm.extra_backbone.conv1.weight': torch.tensor([5., 6.]),
        'm.target_net.module.0.conv1.weight': torch.zeros(2),
        'm.head.weight': torch.zeros(2),
        'other.weight': torch.zeros(1),
    }
    revise_propagation_state_dict(state_dict, own_entries('m.'), prefix='m.')
    assert sorted(state_dict) == [
        'm.backbone.conv1.weight', 'm.extra_backbone.conv1.weight',
        'other.weight'
    ]
    assert state_dict['m.extra_backbone.conv1.weight'].tolist() == [5., 6.]
    assert len(logged) == 1 and logged[0].startswith('2 checkpoint entries')


def test_revise_without_unused_entries_logs_nothing(logged):
    state_dict = {'backbone.conv1.weight': torch.zeros(2)}
    revise_propagation_state_dict(state_dict, own_entries())
    assert logged == []


def test_revise_names_missing_backbone_parameters():
    state_dict = {'neck.conv.weight': torch.zeros(2)}
    with pytest.raises(KeyError) as info:
        revise_propagation_state_dict(state_dict, own_entries())
    message = str(info.value)
    assert "1 backbone parameters, e.g. ['backbone.conv1.weight']" in message
    assert 'num_batches_tracked' not in message
