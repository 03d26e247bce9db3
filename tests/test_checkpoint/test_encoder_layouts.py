import importlib.util
import os.path as osp
import re
from argparse import Namespace

import pytest
import torch
from random_weights import randomized

from mmhvc.checkpoint import (ENCODER_LAYOUTS, CheckpointConversionError,
                              KeyReport, convert_encoder,
                              detect_encoder_layout, encoder_state_dict,
                              is_resnet_key, is_vit_key)
from mmhvc.models import HVCResNet

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DIM, DEPTH, GRID, REGISTERS = 8, 2, 4, 2


@pytest.fixture(scope='module')
def resnet():
    """Weights of a tiny torchvision-named ResNet (two stages)."""
    return randomized(
        HVCResNet(depth=18, num_stages=2, out_indices=(1, )).state_dict(), 0)


def vit(seed, registers=0, layer_scale=True):
    """Weights of a tiny ViT in the DINO / DINOv2 layout."""
    shapes = dict(cls_token=(1, 1, DIM),
                  pos_embed=(1, 1 + GRID * GRID, DIM),
                  **{
                      'patch_embed.proj.weight': (DIM, 3, 2, 2),
                      'patch_embed.proj.bias': (DIM, ),
                      'norm.weight': (DIM, ),
                      'norm.bias': (DIM, )
                  })
    if registers:
        shapes['register_tokens'] = (1, registers, DIM)
    for i in range(DEPTH):
        block = dict(norm1=DIM,
                     norm2=DIM,
                     **{
                         'attn.qkv': 3 * DIM,
                         'attn.proj': DIM,
                         'mlp.fc1': 4 * DIM,
                         'mlp.fc2': DIM
                     })
        for name, out in block.items():
            shapes[f'blocks.{i}.{name}.bias'] = (out, )
            shapes[f'blocks.{i}.{name}.weight'] = (
                (out, ) if name.startswith('norm') else
                (out, 4 * DIM if name == 'mlp.fc2' else DIM))
        if layer_scale:
            shapes[f'blocks.{i}.ls1.gamma'] = (DIM, )
            shapes[f'blocks.{i}.ls2.gamma'] = (DIM, )
    gen = torch.Generator().manual_seed(seed)
    return {k: torch.randn(s, generator=gen) for k, s in shapes.items()}


def prefixed(state_dict, prefix):
    return {prefix + k: v for k, v in state_dict.items()}


def to_mmcv(key):
    """torchvision ResNet name -> mmcv ConvModule name (VFS backbone)."""
    key = re.sub(r'^conv1\.', 'conv1.conv.', key)
    key = re.sub(r'^bn1\.', 'conv1.bn.', key)
    key = re.sub(r'\.conv([1-3])\.', r'.conv\1.conv.', key)
    key = re.sub(r'\.bn([1-3])\.', r'.conv\1.bn.', key)
    key = key.replace('downsample.0.', 'downsample.conv.')
    return key.replace('downsample.1.', 'downsample.bn.')


def to_padded(key):
    """torchvision name -> CRW name with a padding before conv1/conv2."""
    return re.sub(r'(conv[12])\.weight$', r'\1.1.weight', key)


def assert_same(actual, expected):
    assert set(actual) == set(expected)
    for key, value in expected.items():
        assert torch.equal(actual[key], value), key


def assert_loads(encoder):
    HVCResNet(depth=18, num_stages=2,
              out_indices=(1, )).load_state_dict(encoder, strict=True)


def resnet_checkpoints(resnet):
    """Per layout: (source checkpoint, number of dropped keys)."""
    other = randomized(resnet, 1)
    head = {'weight': torch.zeros(4, 128), 'bias': torch.zeros(4)}
    return {
        'mmhvc':
        (dict(meta=dict(epoch=1),
              state_dict=dict(prefixed(resnet, 'backbone.'),
                              **prefixed(other, 'target_net.module.0.'),
                              **prefixed(head, 'neck.fc.'),
                              **{'target_net.steps':
                                 torch.tensor(3)})), len(other) + 3),
        'torchvision': (dict(resnet, **prefixed(head, 'fc.')), 2),
        'crw': (dict(model=dict(
            {
                f'encoder.model.{to_padded(k)}': v
                for k, v in resnet.items()
            }, **prefixed(head, 'selfsim_fc.0.')),
                     optimizer={},
                     epoch=3,
                     args=Namespace(model_type='scratch')), 2),
        'vfs': (dict(meta={},
                     state_dict=dict(
                         {
                             f'backbone.{to_mmcv(k)}': v
                             for k, v in resnet.items()
                         },
                         **prefixed(head,
                                    'img_head.projection_convs.0.conv.'))), 2),
        'dul':
        (dict(model=dict(prefixed(resnet, 'module.fast_net.backbone.'),
                         **prefixed(head, 'module.fast_net.emb_q.conv1.')),
              opt={},
              score=0.5,
              epoch=60), 2),
        'sfc': (dict(model=dict(prefixed(resnet, 'online_encoder.'),
                                **prefixed(other, 'target_encoder.'),
                                **prefixed(head, 'online_projector.linear1.'),
                                **prefixed(head, 'target_projector.linear1.'),
                                **prefixed(head, 'predictor.linear2.')),
                     epoch=1), len(other) + 6),
        'moco': (dict(epoch=200,
                      arch='resnet50',
                      state_dict=dict(
                          prefixed(resnet, 'module.encoder_q.'),
                          **prefixed(head, 'module.encoder_q.fc.0.'),
                          **prefixed(other, 'module.encoder_k.'), **{
                              'module.queue': torch.zeros(4, 16),
                              'module.queue_ptr': torch.zeros(1,
                                                              dtype=torch.long)
                          })), len(other) + 4),
        'dino': (dict(student=prefixed(other, 'module.backbone.'),
                      teacher=dict(prefixed(resnet, 'module.backbone.'),
                                   **prefixed(head, 'module.head.mlp.0.')),
                      epoch=100), 2),
    }


@pytest.mark.parametrize(
    'layout',
    ['mmhvc', 'torchvision', 'crw', 'vfs', 'dul', 'sfc', 'moco', 'dino'])
def test_resnet_layouts(layout, resnet):
    checkpoint, dropped = resnet_checkpoints(resnet)[layout]
    encoder, report = convert_encoder(checkpoint, layout, 'ckpt.pth')
    assert_same(encoder, resnet)
    assert_loads(encoder)
    assert isinstance(report, KeyReport)
    assert report.num_output == len(resnet)
    assert len(report.dropped) == dropped
    assert detect_encoder_layout(checkpoint) == layout


def test_resnet_from_state_dict(resnet):
    # The state dict inside the checkpoint is accepted as well.
    checkpoint, _ = resnet_checkpoints(resnet)['vfs']
    encoder, _ = convert_encoder(checkpoint['state_dict'], 'vfs')
    assert_same(encoder, resnet)
    assert encoder_state_dict(checkpoint, 'vfs') == checkpoint['state_dict']


def test_mmhvc_layout_official_and_backbone_file(resnet):
    official = dict(model=dict(
        prefixed(resnet, 'online_encoder.'),
        **prefixed(randomized(resnet, 2), 'target_encoder.'), **{
            'space_predictor.block.conv1.weight': torch.zeros(2),
            'flow.conv1.weight': torch.zeros(2)
        }),
                    args=Namespace(arch='resnet18'))
    assert_same(convert_encoder(official, 'mmhvc')[0], resnet)
    assert_same(convert_encoder(dict(resnet), 'mmhvc')[0], resnet)
    assert detect_encoder_layout(resnet) == 'torchvision'


def test_dino_vit_files():
    weights = vit(3, layer_scale=False)
    # Released backbone file: bare keys.
    encoder, report = convert_encoder(dict(weights), 'dino')
    assert_same(encoder, weights)
    assert report.dropped == []
    assert all(is_vit_key(k) for k in encoder)
    # Full checkpoint: the teacher's backbone; the head and the student
    # are left out.
    head = {
        'head.mlp.0.weight': torch.zeros(4, DIM),
        'head.last_layer.weight_g': torch.zeros(4, 1),
        'head.last_layer.weight_v': torch.zeros(4, 4)
    }
    full = dict(student=dict(prefixed(vit(4), 'module.backbone.'), **head),
                teacher=dict(prefixed(weights, 'backbone.'), **head),
                optimizer={},
                epoch=100,
                args=Namespace(arch='vit_small'))
    encoder, report = convert_encoder(full, 'dino')
    assert_same(encoder, weights)
    assert sorted(report.dropped) == sorted(head)
    assert detect_encoder_layout(full) == 'dino'


def test_dinov2_hub_and_teacher_files():
    weights = vit(5, registers=REGISTERS)
    hub = dict(weights, mask_token=torch.zeros(1, DIM))
    encoder, report = convert_encoder(hub, 'dinov2')
    assert_same(encoder, weights)
    assert report.dropped == ['mask_token']
    assert detect_encoder_layout(hub) == 'dinov2'

    # Training model with chunked blocks (one chunk per block here).
    chunked = {
        re.sub(r'^blocks\.(\d+)\.', r'blocks.\1.\1.', k): v
        for k, v in hub.items()
    }
    teacher = dict(teacher=dict(
        prefixed(chunked, 'backbone.'), **{
            'dino_head.mlp.0.weight': torch.zeros(4, DIM),
            'ibot_head.mlp.0.weight': torch.zeros(4, DIM)
        }))
    encoder, report = convert_encoder(teacher, 'dinov2')
    assert_same(encoder, weights)
    assert len(report.dropped) == 3
    assert detect_encoder_layout(teacher) == 'dinov2'


def test_dinov2_timm_layout():
    weights = vit(6, registers=REGISTERS)
    # timm's register models fold the class position into cls_token.
    timm = {k: v for k, v in weights.items() if k != 'register_tokens'}
    timm['reg_token'] = weights['register_tokens']
    timm['cls_token'] = weights['cls_token'] + weights['pos_embed'][:, :1]
    timm['pos_embed'] = weights['pos_embed'][:, 1:]
    encoder, report = convert_encoder(timm, 'dinov2')
    assert set(encoder) == set(weights)
    assert ('reg_token', 'register_tokens') in report.renamed
    assert encoder['pos_embed'].shape == weights['pos_embed'].shape
    assert torch.equal(encoder['pos_embed'][:, 1:], weights['pos_embed'][:,
                                                                         1:])
    assert torch.allclose(encoder['cls_token'] + encoder['pos_embed'][:, :1],
                          weights['cls_token'] + weights['pos_embed'][:, :1])
    for key in set(weights) - {'cls_token', 'pos_embed'}:
        assert torch.equal(encoder[key], weights[key]), key

    # Without registers timm keeps the DINOv2 names and shapes.
    plain = vit(7)
    assert_same(convert_encoder(dict(plain), 'dinov2')[0], plain)


def test_is_vit_key():
    for key in ('cls_token', 'register_tokens', 'blocks.11.attn.qkv.bias',
                'blocks.0.ls2.gamma', 'patch_embed.proj.weight'):
        assert is_vit_key(key), key
    for key in ('mask_token', 'reg_token', 'head.weight', 'blocks.0.0.norm1',
                'blocks.0.mlp.w12.weight', 'conv1.weight'):
        assert not is_vit_key(key), key
    assert not any(is_resnet_key(k) for k in vit(0))


def test_unknown_key_is_named(resnet):
    checkpoint, _ = resnet_checkpoints(resnet)['sfc']
    checkpoint['model']['online_encoder.extra.weight'] = torch.zeros(1)
    with pytest.raises(CheckpointConversionError,
                       match=r"ckpt\.pth: 1 keys .*'sfc'.*"
                       r'online_encoder\.extra\.weight'):
        convert_encoder(checkpoint, 'sfc', 'ckpt.pth')

    swiglu = dict(vit(0), **{'blocks.0.mlp.w12.weight': torch.zeros(1)})
    with pytest.raises(CheckpointConversionError, match='SwiGLU'):
        convert_encoder(swiglu, 'dinov2')


def test_wrong_layout_hint(resnet):
    checkpoint, _ = resnet_checkpoints(resnet)['moco']
    with pytest.raises(CheckpointConversionError,
                       match=r"no encoder key of the 'crw' layout.*"
                       r"module\.encoder_q\.conv1\.weight.*set layout='moco'"):
        convert_encoder(checkpoint, 'crw')
    # Keys of another method next to the encoder are not silently dropped.
    bare = dict(resnet, **{'selfsim_fc.0.weight': torch.zeros(1)})
    with pytest.raises(CheckpointConversionError, match='selfsim_fc'):
        convert_encoder(bare, 'torchvision')


def test_no_encoder_keys():
    with pytest.raises(CheckpointConversionError,
                       match=r"'dino' layout.*'head\.weight'"):
        convert_encoder({'head.weight': torch.zeros(1)}, 'dino')
    with pytest.raises(CheckpointConversionError, match='no state dict'):
        convert_encoder(dict(epoch=1), 'moco')
    assert detect_encoder_layout({'head.weight': torch.zeros(1)}) is None


def test_unknown_layout(resnet):
    assert ENCODER_LAYOUTS == ('mmhvc', 'torchvision', 'crw', 'vfs', 'dul',
                               'sfc', 'moco', 'dino', 'dinov2')
    with pytest.raises(ValueError, match="unknown encoder layout 'simclr'"):
        convert_encoder(resnet, 'simclr')


def load_tool():
    path = osp.join(ROOT, 'tools', 'model_converters', 'encoder_to_mmhvc.py')
    spec = importlib.util.spec_from_file_location('encoder_to_mmhvc', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli(resnet, tmp_path, capsys):
    tool = load_tool()
    checkpoint, _ = resnet_checkpoints(resnet)['crw']
    src, dst = str(tmp_path / 'pretrained.pth'), str(tmp_path / 'crw.pth')
    torch.save(checkpoint, src)
    tool.main([src, dst, '--layout', 'crw', '--verbose'])
    assert_same(torch.load(dst), resnet)
    out = capsys.readouterr().out
    assert 'dropped  selfsim_fc.0.weight' in out
    assert 'ResNet-18 encoder (2 stages) written to' in out

    vit_dst = str(tmp_path / 'dinov2.pth')
    torch.save(dict(vit(1), mask_token=torch.zeros(1, DIM)), src)
    tool.main([src, vit_dst, '--layout', 'dinov2'])
    assert_same(torch.load(vit_dst), vit(1))
    assert f'ViT encoder ({DEPTH} blocks)' in capsys.readouterr().out

    with pytest.raises(SystemExit, match="error: .*set layout='dinov2'"):
        tool.main([src, str(tmp_path / 'x.pth'), '--layout', 'moco'])
    with pytest.raises(SystemExit, match='error: Checkpoint file not found'):
        tool.main([str(tmp_path / 'missing.pth'), dst, '--layout', 'crw'])
    assert not osp.exists(tmp_path / 'x.pth')
