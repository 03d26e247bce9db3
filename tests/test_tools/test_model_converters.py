import datetime
import hashlib
import importlib.util
import os
import os.path as osp
from argparse import Namespace

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer
from random_weights import randomized

from mmhvc.models import HVCResNet
from mmhvc.registry import MODELS

ROOT = osp.join(osp.dirname(__file__), '..', '..')
TOOLS = osp.join(ROOT, 'tools', 'model_converters')


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        name, osp.join(TOOLS, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tools():
    return Namespace(
        official=load_tool('hvc_official_to_mmhvc'),
        backbone=load_tool('mmhvc_to_backbone'),
        publish=load_tool('publish_model'))


@pytest.fixture(scope='module')
def r18():
    """Plain (torchvision-named) ResNet-18 weights."""
    return randomized(HVCResNet(depth=18).state_dict(), seed=0)


@pytest.fixture(scope='module')
def hvc_state_dict():
    """State dict of the real HVC training model (online + EMA target)."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs/_base_/models/hvc_r18.py'))
    return randomized(MODELS.build(cfg.model).state_dict(), seed=1)


def runner_checkpoint(state_dict):
    """A checkpoint shaped like the ones MMEngine's Runner writes."""
    buffer = HistoryBuffer()
    buffer.update(0.5)
    return dict(
        meta=dict(epoch=20, iter=100, seed=0, experiment_name='hvc_r18'),
        state_dict=state_dict,
        optimizer=dict(state={}, param_groups=[dict(lr=1e-3, params=[0])]),
        message_hub=dict(log_scalars={'train/loss': buffer}),
        param_schedulers=[dict(last_step=100)])


def official_extras():
    """Non-encoder modules of the official HVC model, with fake weights."""
    extras = {}
    for name in ('online_space_projector', 'target_space_projector',
                 'space_predictor'):
        extras[f'{name}.block.conv1.weight'] = torch.zeros(256, 512, 1, 1)
        extras[f'{name}.block.bn1.running_mean'] = torch.zeros(256)
    extras['flow.conv1.weight'] = torch.zeros(256, 512, 1, 1)
    extras['flow.bn2.bias'] = torch.zeros(2)
    return extras


def assert_same(actual, expected):
    assert set(actual) == set(expected)
    for key, value in expected.items():
        assert torch.equal(actual[key], value), key


def files_in(folder):
    return sorted(os.listdir(folder)) if osp.isdir(folder) else []


@pytest.mark.parametrize('layout', [
    'official_training', 'released', 'state_dict_module_encoder', 'ddp_module'
])
def test_official_layouts(layout, r18, tools, tmp_path, capsys):
    target = randomized(r18, seed=5)
    if layout == 'official_training':
        model = {f'online_encoder.{k}': v for k, v in r18.items()}
        model.update({f'target_encoder.{k}': v for k, v in target.items()})
        model.update(official_extras())
        checkpoint = dict(
            model=model,
            optimizer=dict(state={}, param_groups=[]),
            epoch=20,
            args=Namespace(arch='resnet18', lr=1e-3, pos_radius=0.1))
        dropped = len(r18) + len(official_extras())
    elif layout == 'released':
        checkpoint = dict(r18, **{'fc.weight': torch.zeros(10, 512)})
        dropped = 1
    elif layout == 'state_dict_module_encoder':
        checkpoint = dict(state_dict={
            f'module.encoder.{k}': v
            for k, v in r18.items()
        })
        dropped = 0
    else:
        checkpoint = {f'module.{k}': v for k, v in r18.items()}
        dropped = 0
    src, dst = str(tmp_path / 'src.pth'), str(tmp_path / 'out' / 'hvc.pth')
    torch.save(checkpoint, src)

    tools.official.main([src, dst, '--verbose'])

    assert_same(torch.load(dst), r18)
    assert files_in(tmp_path / 'out') == ['hvc.pth']
    out = capsys.readouterr().out
    renamed = 0 if layout == 'released' else len(r18)
    assert (f'kept {len(r18) - renamed}, renamed {renamed}, dropped '
            f'{dropped} keys') in out
    if layout == 'official_training':
        assert 'dropped  target_encoder.conv1.weight' in out
        assert ('renamed  online_encoder.conv1.weight -> conv1.weight' in out)


def test_official_prefix_override(r18, tools, tmp_path):
    target = randomized(r18, seed=6)
    model = {f'online_encoder.{k}': v for k, v in r18.items()}
    model.update({f'target_encoder.{k}': v for k, v in target.items()})
    src, dst = str(tmp_path / 'src.pth'), str(tmp_path / 'target.pth')
    torch.save(dict(model=model), src)
    tools.official.main([src, dst, '--prefix', 'target_encoder.'])
    assert_same(torch.load(dst), target)


def test_official_refusals(r18, tools, tmp_path):
    out_dir = tmp_path / 'out'
    dst = str(out_dir / 'hvc.pth')

    nothing = str(tmp_path / 'nothing.pth')
    torch.save(dict(model={'flow.conv1.weight': torch.zeros(2)}), nothing)
    with pytest.raises(SystemExit, match='no ResNet encoder keys'):
        tools.official.main([nothing, dst])

    bad_shape = dict(r18)
    bad_shape['layer3.0.conv2.weight'] = torch.zeros(1)
    shape_src = str(tmp_path / 'shape.pth')
    torch.save(bad_shape, shape_src)
    with pytest.raises(SystemExit, match='do not fit HVCResNet'):
        tools.official.main([shape_src, dst])

    with pytest.raises(SystemExit, match='not found'):
        tools.official.main([str(tmp_path / 'absent.pth'), dst])

    garbage = tmp_path / 'garbage.pth'
    garbage.write_bytes(b'not a checkpoint')
    with pytest.raises(SystemExit, match='Could not load the checkpoint'):
        tools.official.main([str(garbage), dst])

    wrong_prefix = str(tmp_path / 'prefix.pth')
    torch.save(
        dict(model={
            f'online_encoder.{k}': v
            for k, v in r18.items()
        }), wrong_prefix)
    with pytest.raises(SystemExit, match='under the prefix "encoder."'):
        tools.official.main([wrong_prefix, dst, '--prefix', 'encoder.'])

    assert files_in(out_dir) == []


def test_official_untrusted_objects(r18, tools, tmp_path):
    src, dst = str(tmp_path / 'src.pth'), str(tmp_path / 'hvc.pth')
    torch.save(dict(model=r18, created=datetime.date(2024, 4, 21)), src)
    with pytest.raises(SystemExit, match='--trust-pickle'):
        tools.official.main([src, dst])
    assert not osp.exists(dst)
    tools.official.main([src, dst, '--trust-pickle'])
    assert_same(torch.load(dst), r18)


def test_mmhvc_to_backbone(hvc_state_dict, tools, tmp_path, capsys):
    src, dst = str(tmp_path / 'epoch_20.pth'), str(tmp_path / 'r18.pth')
    torch.save(runner_checkpoint(hvc_state_dict), src)
    tools.backbone.main([src, dst])
    backbone = torch.load(dst)
    assert_same(
        backbone, {
            k[len('backbone.'):]: v
            for k, v in hvc_state_dict.items() if k.startswith('backbone.')
        })
    model = HVCResNet(depth=18)
    assert model.load_state_dict(backbone, strict=True)
    num_backbone = sum(k.startswith('backbone.') for k in hvc_state_dict)
    assert (f'kept 0, renamed {num_backbone}, dropped '
            f'{len(hvc_state_dict) - num_backbone} keys'
            in capsys.readouterr().out)


def test_mmhvc_to_backbone_refuses(hvc_state_dict, tools, tmp_path):
    target_only = {
        k: v
        for k, v in hvc_state_dict.items() if k.startswith('target_net.')
    }
    src, dst = str(tmp_path / 'src.pth'), str(tmp_path / 'out' / 'bb.pth')
    torch.save(runner_checkpoint(target_only), src)
    with pytest.raises(SystemExit, match='"backbone."'):
        tools.backbone.main([src, dst])
    assert files_in(tmp_path / 'out') == []


def sha256_of(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.mark.parametrize('backbone_only', [False, True])
def test_publish_model(backbone_only, hvc_state_dict, tools, tmp_path, capsys):
    src = str(tmp_path / 'epoch_20.pth')
    torch.save(runner_checkpoint(hvc_state_dict), src)
    out_dir = tmp_path / 'publish'
    argv = [src, str(out_dir / 'hvc_r18_coco.pth')]
    tools.publish.main(argv + (['--backbone-only'] if backbone_only else []))

    names = files_in(out_dir)
    assert len(names) == 1
    path = str(out_dir / names[0])
    assert names[0] == f'hvc_r18_coco-{sha256_of(path)[:8]}.pth'
    published = torch.load(path)
    assert set(published) == {'meta', 'state_dict'}
    assert published['meta']['epoch'] == 20
    if backbone_only:
        expected = {
            k[len('backbone.'):]: v
            for k, v in hvc_state_dict.items() if k.startswith('backbone.')
        }
    else:
        expected = {
            k: v
            for k, v in hvc_state_dict.items()
            if not k.startswith('target_net.')
        }
        assert any(k.startswith('head.') for k in expected)
    assert_same(published['state_dict'], expected)
    out = capsys.readouterr().out
    assert "removed entries: ['optimizer', 'message_hub', " \
           "'param_schedulers']" in out


def test_publish_model_refuses(hvc_state_dict, tools, tmp_path):
    out_dir = tmp_path / 'publish'
    target_only = {
        k: v
        for k, v in hvc_state_dict.items() if k.startswith('target_net.')
    }
    src = str(tmp_path / 'target.pth')
    torch.save(runner_checkpoint(target_only), src)
    with pytest.raises(SystemExit, match='nothing to publish'):
        tools.publish.main([src, str(out_dir / 'x.pth')])
    with pytest.raises(SystemExit, match='"backbone."'):
        tools.publish.main([src, str(out_dir / 'x.pth'), '--backbone-only'])
    assert files_in(out_dir) == []
