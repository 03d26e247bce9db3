import math

import pytest
import torch
import torch.nn as nn

from mmhvc.models import HVCResNet
from mmhvc.registry import MODELS

torch.set_num_threads(1)

BN_KEYS = ('weight', 'bias', 'running_mean', 'running_var',
           'num_batches_tracked')


def torchvision_keys(depth):
    """State-dict keys of torchvision's resnet{depth} without ``fc``."""
    bottleneck = depth >= 50
    blocks = {
        18: [2, 2, 2, 2],
        34: [3, 4, 6, 3],
        50: [3, 4, 6, 3],
        101: [3, 4, 23, 3]
    }[depth]
    keys = ['conv1.weight'] + [f'bn1.{k}' for k in BN_KEYS]
    for stage, num in enumerate(blocks, start=1):
        for j in range(num):
            prefix = f'layer{stage}.{j}.'
            convs = 3 if bottleneck else 2
            for c in range(1, convs + 1):
                keys.append(f'{prefix}conv{c}.weight')
                keys += [f'{prefix}bn{c}.{k}' for k in BN_KEYS]
            # the first block changes channels in every stage of a
            # bottleneck net and in stages 2-4 of a basic-block net
            if j == 0 and (bottleneck or stage > 1):
                keys.append(f'{prefix}downsample.0.weight')
                keys += [f'{prefix}downsample.1.{k}' for k in BN_KEYS]
    return keys


@pytest.mark.parametrize('depth,channels', [(18, 512), (50, 2048)])
def test_output_stride_and_channels(depth, channels):
    model = HVCResNet(depth=depth)
    model.init_weights()
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 64, 64))
    assert isinstance(out, tuple) and len(out) == 1
    # stem /4, layer2 /2, layer3 and layer4 stride 1: output stride 8
    assert out[0].shape == (2, channels, 8, 8)


def test_all_stages_and_standard_strides():
    model = HVCResNet(depth=18, out_indices=(0, 1, 2, 3))
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 64, 64))
    assert [tuple(o.shape) for o in outs] == [(1, 64, 16, 16),
                                              (1, 128, 8, 8),
                                              (1, 256, 8, 8),
                                              (1, 512, 8, 8)]
    assert model.out_channels == [64, 128, 256, 512]
    plain = HVCResNet(depth=18, strides=(1, 2, 2, 2), out_indices=(3, 1))
    with torch.no_grad():
        outs = plain(torch.randn(1, 3, 64, 64))
    assert [tuple(o.shape) for o in outs] == [(1, 512, 2, 2), (1, 128, 8, 8)]


def test_truncated_for_propagation():
    model = HVCResNet(depth=18, num_stages=3, out_indices=(2, ))
    assert not hasattr(model, 'layer4')
    assert not any(k.startswith('layer4') for k in model.state_dict())
    with torch.no_grad():
        (out, ) = model(torch.randn(1, 3, 48, 64))
    assert out.shape == (1, 256, 6, 8)


@pytest.mark.parametrize('depth', [18, 34, 50])
def test_torchvision_state_dict_keys(depth):
    model = HVCResNet(depth=depth)
    expected = torchvision_keys(depth)
    assert sorted(model.state_dict()) == sorted(expected)
    # a torchvision-named state dict (random values) loads strictly
    state = {
        k: torch.randn_like(v) if v.is_floating_point() else v
        for k, v in model.state_dict().items()
    }
    other = HVCResNet(depth=depth)
    other.load_state_dict(state, strict=True)
    assert torch.equal(other.layer2[0].downsample[0].weight,
                       state['layer2.0.downsample.0.weight'])


def test_torchvision_shapes_r18():
    sd = HVCResNet(depth=18).state_dict()
    assert sd['conv1.weight'].shape == (64, 3, 7, 7)
    assert sd['layer1.0.conv1.weight'].shape == (64, 64, 3, 3)
    assert sd['layer2.0.conv1.weight'].shape == (128, 64, 3, 3)
    assert sd['layer3.0.downsample.0.weight'].shape == (256, 128, 1, 1)
    assert sd['layer4.1.conv2.weight'].shape == (512, 512, 3, 3)
    sd50 = HVCResNet(depth=50).state_dict()
    assert sd50['layer1.0.conv3.weight'].shape == (256, 64, 1, 1)
    assert sd50['layer4.0.conv2.weight'].shape == (512, 512, 3, 3)


def test_default_init_values():
    torch.manual_seed(0)
    model = HVCResNet(depth=18)
    model.init_weights()
    weight = model.layer4[0].conv2.weight
    expected_std = math.sqrt(2. / (3 * 3 * 512))
    assert abs(weight.std().item() / expected_std - 1) < 0.02
    assert abs(weight.mean().item()) < 0.05 * expected_std
    stem = model.conv1.weight
    assert abs(stem.std().item() / math.sqrt(2. / (7 * 7 * 64)) - 1) < 0.05
    # first BN of each block and projection BNs: weight 1, bias 0
    for bn in [model.bn1, model.layer1[0].bn1, model.layer3[1].bn1,
               model.layer2[0].downsample[1]]:
        assert torch.all(bn.weight == 1) and torch.all(bn.bias == 0)
    # last BN of every residual block zero-initialised
    for layer in [model.layer1, model.layer2, model.layer3, model.layer4]:
        for block in layer:
            assert torch.all(block.bn2.weight == 0)
            assert torch.all(block.bn2.bias == 0)
    r50 = HVCResNet(depth=50, zero_init_residual=False)
    r50.init_weights()
    assert torch.all(r50.layer1[0].bn3.weight == 1)


def test_pretrained_init_cfg(tmp_path):
    source = HVCResNet(depth=18)
    source.init_weights()
    for p in source.parameters():
        p.data.normal_()
    ckpt = {
        'state_dict': {
            f'backbone.{k}': v
            for k, v in source.state_dict().items()
        }
    }
    ckpt['state_dict']['head.fc.weight'] = torch.zeros(3)
    path = tmp_path / 'hvc.pth'
    torch.save(ckpt, path)
    model = MODELS.build(
        dict(
            type='HVCResNet',
            depth=18,
            init_cfg=dict(
                type='Pretrained', checkpoint=str(path),
                prefix='backbone.')))
    model.init_weights()
    for (name, a), b in zip(model.state_dict().items(),
                            source.state_dict().values()):
        assert torch.equal(a, b), name
    # zero_init_residual does not overwrite loaded weights
    assert torch.all(model.layer1[0].bn2.weight != 0)


def test_frozen_stages():
    model = HVCResNet(depth=18, frozen_stages=1)
    model.train()
    for module in [model.conv1, model.bn1, model.layer1]:
        assert all(not p.requires_grad for p in module.parameters())
    assert all(p.requires_grad for p in model.layer2.parameters())
    assert not model.bn1.training
    assert not model.layer1[0].bn1.training
    assert model.layer2[0].bn1.training
    running = model.layer1[0].bn1.running_mean.clone()
    model(torch.randn(2, 3, 32, 32))
    assert torch.equal(model.layer1[0].bn1.running_mean, running)


def test_norm_eval():
    model = HVCResNet(depth=18, norm_eval=True)
    model.train()
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and all(not bn.training for bn in bns)
    assert model.training and model.layer1.training
    before = [bn.running_var.clone() for bn in bns]
    model(torch.randn(2, 3, 32, 32))
    assert all(torch.equal(b, bn.running_var) for b, bn in zip(before, bns))
    # without norm_eval, training updates the running statistics
    model = HVCResNet(depth=18)
    model.train()
    var = model.bn1.running_var.clone()
    model(torch.randn(2, 3, 32, 32))
    assert not torch.equal(var, model.bn1.running_var)


def test_dilations():
    model = HVCResNet(depth=18, dilations=(1, 1, 2, 4))
    assert model.layer3[0].conv2.dilation == (2, 2)
    assert model.layer3[0].conv2.padding == (2, 2)
    assert model.layer4[1].conv1.dilation == (4, 4)
    with torch.no_grad():
        (out, ) = model(torch.randn(1, 3, 64, 64))
    assert out.shape == (1, 512, 8, 8)


def test_bad_arguments():
    with pytest.raises(KeyError, match='depth'):
        HVCResNet(depth=20)
    with pytest.raises(ValueError, match='out_indices'):
        HVCResNet(num_stages=3, out_indices=(3, ))
    with pytest.raises(ValueError, match='strides'):
        HVCResNet(strides=(1, 2))
    with pytest.raises(ValueError, match='num_stages'):
        HVCResNet(num_stages=5)
