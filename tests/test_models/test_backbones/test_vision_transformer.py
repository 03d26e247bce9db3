import math

import pytest
import torch
import torch.nn.functional as F

from mmhvc.models import VisionTransformer
from mmhvc.registry import MODELS

TINY = dict(embed_dims=16, num_layers=2, num_heads=2)


def tiny(**kwargs):
    model = VisionTransformer(arch=TINY, **kwargs)
    model.init_weights()
    return model.eval()


def dino_keys(num_layers, layer_scale=False, registers=False):
    keys = {'cls_token', 'pos_embed', 'patch_embed.proj.weight',
            'patch_embed.proj.bias', 'norm.weight', 'norm.bias'}
    if registers:
        keys.add('register_tokens')
    for i in range(num_layers):
        for name in ('norm1', 'attn.qkv', 'attn.proj', 'norm2', 'mlp.fc1',
                     'mlp.fc2'):
            keys |= {f'blocks.{i}.{name}.weight', f'blocks.{i}.{name}.bias'}
        if layer_scale:
            keys |= {f'blocks.{i}.ls1.gamma', f'blocks.{i}.ls2.gamma'}
    return keys


def test_parameter_names_are_those_of_the_dino_and_dinov2_releases():
    assert set(tiny().state_dict()) == dino_keys(2)
    assert set(tiny(layer_scale=1e-5, num_register_tokens=4).state_dict()) \
        == dino_keys(2, layer_scale=True, registers=True)
    small = VisionTransformer(arch='small', patch_size=8)
    assert small.pos_embed.shape == (1, 1 + 28 * 28, 384)
    dinov2 = VisionTransformer(
        arch='small', patch_size=14, img_size=518, layer_scale=1e-5)
    assert dinov2.pos_embed.shape == (1, 1 + 37 * 37, 384)


@pytest.mark.parametrize('patch', [8, 16])
def test_patch_tokens_form_the_feature_grid(patch):
    model = tiny(patch_size=patch, img_size=4 * patch)
    assert model.out_stride == model.size_divisor == patch
    out = model(torch.randn(2, 3, 3 * patch, 5 * patch))
    assert out.shape == (2, 16, 3, 5)


def test_sizes_that_are_not_multiples_of_the_patch_are_refused():
    with pytest.raises(ValueError, match='multiple of the patch size 8'):
        tiny(patch_size=8)(torch.randn(1, 3, 30, 40))


def test_position_embeddings_resize_as_dino_does():
    model = tiny(patch_size=8, img_size=32)  # a 4 x 4 pretraining grid
    assert model.position_embedding(4, 4) is model.pos_embed
    pos = model.position_embedding(3, 6)
    assert pos.shape == (1, 1 + 18, 16)
    assert torch.equal(pos[:, 0], model.pos_embed[:, 0])
    # DINO: interpolate the sqrt(N) x sqrt(N) grid by (h + 0.1) / sqrt(N)
    # and (w + 0.1) / sqrt(N), bicubic
    side = math.sqrt(model.pos_embed.shape[1] - 1)
    grid = model.pos_embed[0, 1:].T.reshape(1, 16, int(side), int(side))
    expected = F.interpolate(
        grid, scale_factor=(3.1 / side, 6.1 / side), mode='bicubic')
    torch.testing.assert_close(pos[0, 1:], expected.flatten(2)[0].T)


def test_blocks_compute_pre_norm_attention_and_mlp():
    model = tiny(patch_size=8, img_size=16, layer_scale=0.5,
                 num_register_tokens=2)
    x = torch.randn(1, 3, 16, 24)
    with torch.no_grad():
        tokens = model.patch_embed(x).flatten(2).transpose(1, 2)
        tokens = torch.cat([model.cls_token, tokens], 1) + \
            model.position_embedding(2, 3)
        tokens = torch.cat(
            [tokens[:, :1], model.register_tokens, tokens[:, 1:]], 1)
        for block in model.blocks:
            y = block.norm1(tokens)
            q, k, v = (block.attn.qkv(y).view(1, -1, 3, 2, 8)[:, :, i]
                       .transpose(1, 2) for i in range(3))
            attn = (q @ k.transpose(-1, -2) / math.sqrt(8)).softmax(-1)
            y = block.attn.proj((attn @ v).transpose(1, 2).reshape(1, -1, 16))
            tokens = tokens + 0.5 * y
            tokens = tokens + 0.5 * block.mlp(block.norm2(tokens))
        expected = model.norm(tokens)[:, 3:].transpose(1, 2).reshape(
            1, 16, 2, 3)
        torch.testing.assert_close(model(x), expected, rtol=1e-5, atol=1e-5)


def test_registered_and_validated():
    model = MODELS.build(
        dict(type='VisionTransformer', arch=TINY, patch_size=16))
    assert isinstance(model, VisionTransformer)
    with pytest.raises(KeyError, match='unknown arch'):
        VisionTransformer(arch='huge')
    with pytest.raises(KeyError, match='num_heads'):
        VisionTransformer(arch=dict(embed_dims=8, num_layers=1))
    with pytest.raises(ValueError, match='multiple of num_heads'):
        VisionTransformer(arch=dict(embed_dims=10, num_layers=1,
                                    num_heads=3))
