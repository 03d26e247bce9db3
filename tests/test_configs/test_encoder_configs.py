"""Other methods' encoders through the same propagation protocol: the
configs of each encoder family and the protocol presets."""
import csv
import glob
import os
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image
from tool_process import run_tool

from mmhvc.datasets.synthetic import Options, write_davis
from mmhvc.models import HVCResNet, VisionTransformer
from mmhvc.registry import MODELS
from mmhvc.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO, 'configs', 'propagation')
TINY_ARCH = dict(embed_dims=16, num_layers=1, num_heads=2)

register_all_modules()


def load(name):
    return Config.fromfile(osp.join(CONFIGS, f'{name}.py'))


# encoder family -> (channels, stride, checkpoint layout)
FAMILIES = {
    'crw_r18': (256, 8, 'crw'),
    'imagenet_r50': (1024, 8, 'torchvision'),
    'dino_vits8': (384, 8, 'dino'),
    'dino_vits16': (384, 16, 'dino'),
    'dino_vitb8': (768, 8, 'dino'),
    'dino_vitb16': (768, 16, 'dino'),
    'dinov2_vits14': (384, 14, 'dinov2'),
    'dinov2_vitb14': (768, 14, 'dinov2'),
}


@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_davis_config_of_each_family_builds_its_encoder(family):
    channels, stride, layout = FAMILIES[family]
    cfg = load(f'davis2017_val_{family}')
    model = MODELS.build(cfg.model).eval()
    assert model.checkpoint_layout == layout
    assert model.feature_stride == stride
    with torch.no_grad():
        feats = model.extract_feats(torch.zeros(1, 3, 60, 90,
                                                dtype=torch.uint8))
    floor = 1 if isinstance(model.backbone, HVCResNet) else stride
    height, width = 60 // floor * floor, 90 // floor * floor
    assert feats.shape == (1, channels, -(-height // stride),
                           -(-width // stride))


@pytest.mark.parametrize('name', [
    'vip_val_crw_r18', 'vip_val_imagenet_r50', 'vip_val_dino_vits8',
    'vip_val_dino_vits16', 'vip_val_dinov2_vits14', 'jhmdb_val_crw_r18',
    'jhmdb_val_imagenet_r50', 'jhmdb_val_dino_vits8', 'jhmdb_val_dino_vits16',
    'jhmdb_val_dinov2_vits14'
])
def test_vip_and_jhmdb_configs_use_crw_protocol_on_their_benchmark(name):
    cfg = load(name)
    benchmark = name.split('_val_')[0]
    reference = load(f'{benchmark}_val_crw_protocol_r18'
                     if benchmark == 'vip' else 'jhmdb_val_r18')
    assert cfg.test_dataloader.to_dict() == \
        reference.test_dataloader.to_dict()
    assert cfg.test_evaluator == reference.test_evaluator
    assert cfg.model.codec == reference.model.codec
    assert cfg.model.propagator.to_dict() == dict(
        reference.model.propagator.to_dict(), temperature=0.05)


def test_protocol_presets_hold_the_published_settings():
    hvc = load('davis2017_val_r18').model.propagator
    assert (hvc.radius, hvc.topk, hvc.temperature, hvc.context_size,
            hvc.dedup_context) == (12, 15, 0.1, 50, False)
    # videowalk README: --topk 10 --videoLen 20 --radius 12
    # --temperature 0.05
    crw = load('davis2017_val_crw_r18').model
    assert (crw.propagator.radius, crw.propagator.topk,
            crw.propagator.temperature, crw.propagator.context_size,
            crw.propagator.dedup_context) == (12, 10, 0.05, 20, False)
    assert crw.codec == dict(type='MaskCodec')
    # DINO eval_video_segmentation.py: --n_last_frames 7 --topk 5
    # --size_mask_neighborhood 12, affinities divided by 0.1
    dino = load('davis2017_val_dino_vits8').model
    assert dino.propagator.to_dict() == dict(
        type='LabelPropagator', radius=12, neighbourhood='square', topk=5,
        temperature=0.1, context_size=7, dedup_context=True,
        restrict_long_term=True, backend='auto')
    assert dino.codec == dict(type='MaskCodec', resampling='dino')
    # DINO's color_normalize: mean (0.485, 0.456, 0.406), std (0.228,
    # 0.224, 0.225) of 0-1 RGB
    preprocessor = dino.data_preprocessor
    np.testing.assert_allclose(preprocessor.std,
                               np.array([0.228, 0.224, 0.225]) * 255)
    hvc_dino = load('davis2017_val_r18_dino_protocol').model
    assert hvc_dino.propagator == dino.propagator
    assert hvc_dino.backbone == load('davis2017_val_r18').model.backbone


# End to end through tools/test.py with tiny random encoders, each given as
# the file its method releases


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    data = str(tmp_path_factory.mktemp('demo') / 'davis')
    write_davis(
        data,
        Options(seed=2, size=(52, 70), frames=(4, 5), objects=(2, 2),
                overwrite=False), 2, 0)
    return data


def crw_release(path):
    encoder = HVCResNet(depth=18, num_stages=3, strides=(1, 2, 1),
                        out_indices=(2, ))
    encoder.init_weights()
    model = {f'encoder.model.{k}': v for k, v in encoder.state_dict().items()}
    model['selfsim_fc.weight'] = torch.zeros(128, 256)
    torch.save(dict(model=model, optimizer={}, epoch=0), path)


# tiny stand-ins of the released ViTs: the config's patch size (and
# LayerScale), a small pretraining grid
TINY_VITS = {
    'davis2017_val_dino_vits8': dict(patch_size=8, img_size=32),
    'davis2017_val_dino_vits16': dict(patch_size=16, img_size=64),
    'davis2017_val_dinov2_vits14': dict(
        patch_size=14, img_size=28, layer_scale=1e-5),
}


def vit_release(name, path):
    encoder = VisionTransformer(arch=TINY_ARCH, **TINY_VITS[name])
    encoder.init_weights()
    state_dict = encoder.state_dict()
    if 'dinov2' in name:
        state_dict['mask_token'] = torch.zeros(1, 16)
    torch.save(state_dict, path)


@pytest.mark.parametrize('name', [
    'davis2017_val_crw_r18', 'davis2017_val_dino_vits8',
    'davis2017_val_dino_vits16', 'davis2017_val_dinov2_vits14'
])
def test_family_runs_end_to_end_from_its_release(demo, tmp_path, name):
    ckpt = str(tmp_path / 'release.pth')
    config = str(tmp_path / 'tiny.py')
    lines = [f'_base_ = [{osp.join(CONFIGS, name + ".py")!r}]']
    if name in TINY_VITS:
        vit_release(name, ckpt)
        arch = dict(TINY_ARCH, _delete_=True)
        lines.append(f'model = dict(backbone=dict(arch={arch!r}, '
                     f'img_size={TINY_VITS[name]["img_size"]}))')
    else:
        crw_release(ckpt)
    with open(config, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    work_dir = str(tmp_path / 'work')
    log = run_tool([
        sys.executable, 'tools/test.py', config, ckpt, '--work-dir',
        work_dir, '--cfg-options', f'test_dataloader.dataset.data_root={demo}'
    ])
    layout = FAMILIES[name.replace('davis2017_val_', '')][2]
    assert f"the encoder read in the '{layout}' layout" in log
    (results, ) = glob.glob(osp.join(work_dir, '2*', 'results'))
    with open(osp.join(results, 'global_results-val.csv')) as f:
        rows = list(csv.reader(f))
    assert rows[0][0] == 'J&F-Mean' and 0. <= float(rows[1][0]) <= 1.
    for seq in sorted(os.listdir(osp.join(demo, 'JPEGImages', '480p'))):
        names = sorted(os.listdir(osp.join(results, seq)))
        first = np.array(Image.open(osp.join(results, seq, names[0])))
        given = np.array(
            Image.open(osp.join(demo, 'Annotations', '480p', seq, names[0])))
        # masks at the frame size, the given frame reproduced exactly
        np.testing.assert_array_equal(first, given)
        assert len(names) == len(
            os.listdir(osp.join(demo, 'JPEGImages', '480p', seq)))
