import copy
import importlib.util
import os.path as osp
import subprocess
import sys
import textwrap

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmengine.registry import DefaultScope
from mmengine.visualization import Visualizer

from mmhvc.models import HVCResNet

pytest.importorskip('mmseg.models')

from mmseg.registry import MODELS as MMSEG_MODELS  # noqa: E402
from mmseg.visualization import SegLocalVisualizer  # noqa: E402

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
SEG_CONFIG = osp.join(ROOT, 'configs', 'seg',
                      'fcn_hvc-r18-d8_4xb4-40k_voc12-512x512.py')
TINY_CONFIG = osp.join(ROOT, 'configs', 'seg', 'fcn_hvc-r18-d8_tiny_cpu.py')


def load_tool(*parts):
    path = osp.join(ROOT, 'tools', *parts)
    spec = importlib.util.spec_from_file_location(
        osp.splitext(parts[-1])[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def mmseg_scope():
    """Build under the mmseg default scope, as an mmseg Runner does; MMEngine's
    global managers (default scope, message hub, logger, visualizers) are
    restored afterwards so that later tests see the state they expect."""
    managers = (DefaultScope, MessageHub, MMLogger, Visualizer,
                SegLocalVisualizer)
    saved = {cls: cls._instance_dict.copy() for cls in managers}
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield
    for cls, instances in saved.items():
        cls._instance_dict = instances


def build_segmentor(cfg):
    """Build the config's model through mmseg's registry."""
    return MMSEG_MODELS.build(copy.deepcopy(cfg.model))


def mmhvc_checkpoint(path):
    """An mmhvc Runner-style checkpoint with random backbone weights."""
    gen = torch.Generator().manual_seed(0)
    backbone = {
        k:
        torch.randn(v.shape, generator=gen)
        if v.is_floating_point() else v.clone()
        for k, v in HVCResNet(depth=18).state_dict().items()
    }
    state_dict = {f'backbone.{k}': v for k, v in backbone.items()}
    state_dict.update({
        f'target_net.module.0.{k}': v + 1
        for k, v in backbone.items()
    })
    state_dict['neck.conv1.weight'] = torch.zeros(256, 512, 1, 1)
    torch.save(
        dict(meta=dict(epoch=1), state_dict=state_dict, optimizer={}), path)
    return backbone


def assert_backbone_equals(model, expected):
    loaded = model.backbone.state_dict()
    assert set(loaded) == set(expected)
    for key, value in expected.items():
        assert torch.equal(loaded[key], value), key


def test_scoped_name_builds_in_mmseg_scope():
    cls = MMSEG_MODELS.get('mmhvc.HVCResNet')
    assert cls is HVCResNet
    backbone = MMSEG_MODELS.build(
        dict(type='mmhvc.HVCResNet', depth=18, out_indices=(0, 1, 2, 3)))
    assert isinstance(backbone, HVCResNet)


def test_plain_name_after_compat_import():
    from mmhvc.models import mmseg_compat

    mmseg_compat.register_mmseg_modules()  # a second call is a no-op
    assert MMSEG_MODELS.module_dict['HVCResNet'] is HVCResNet
    backbone = MMSEG_MODELS.build(dict(type='HVCResNet', depth=18))
    assert isinstance(backbone, HVCResNet)


def test_compat_refuses_to_shadow_another_class(monkeypatch):
    from mmhvc.models import mmseg_compat

    class OtherResNet:
        pass

    monkeypatch.setitem(MMSEG_MODELS._module_dict, 'HVCResNet', OtherResNet)
    with pytest.raises(KeyError, match='mmhvc.HVCResNet'):
        mmseg_compat.register_mmseg_modules()


def test_mmhvc_imports_without_mmseg():
    """mmhvc imports without mmseg; the compat module names the package."""
    script = textwrap.dedent("""
        import sys
        for name in [m for m in sys.modules if m.split('.')[0] == 'mmseg']:
            del sys.modules[name]
        sys.modules['mmseg'] = None  # makes `import mmseg` fail
        from mmhvc.registry import MODELS
        from mmhvc.utils import register_all_modules
        register_all_modules()
        assert type(MODELS.build(dict(type='HVCResNet'))).__name__ == \\
            'HVCResNet'
        try:
            import mmhvc.models.mmseg_compat
        except ImportError as e:
            print('IMPORT ERROR:', e)
    """)
    result = subprocess.run([sys.executable, '-c', script],
                            cwd=ROOT,
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert 'IMPORT ERROR:' in result.stdout
    assert 'pip install "mmsegmentation' in result.stdout


def test_example_config_builds_encoder_decoder():
    cfg = Config.fromfile(SEG_CONFIG)
    assert cfg.default_scope == 'mmseg'
    assert cfg.model.backbone.init_cfg == dict(
        type='Pretrained',
        checkpoint='work_dirs/hvc_r18_coco/epoch_20.pth',
        prefix='backbone.')
    model = build_segmentor(cfg)
    assert type(model).__name__ == 'EncoderDecoder'
    assert isinstance(model.backbone, HVCResNet)
    assert model.backbone.out_channels == [64, 128, 256, 512]
    assert model.decode_head.in_channels == 512
    assert model.auxiliary_head.in_channels == 256
    assert model.decode_head.num_classes == 21

    model.eval()
    with torch.no_grad():
        feats = model.extract_feat(torch.zeros(1, 3, 64, 64))
    # Output stride 4 for layer1, 8 from layer2 on (HVC: no stride later).
    assert [tuple(f.shape[1:]) for f in feats] == [(64, 16, 16), (128, 8, 8),
                                                   (256, 8, 8), (512, 8, 8)]


def test_example_config_loads_mmhvc_checkpoint(tmp_path):
    """init_cfg Pretrained(prefix='backbone.') on an mmhvc checkpoint."""
    path = str(tmp_path / 'epoch_20.pth')
    expected = mmhvc_checkpoint(path)
    cfg = Config.fromfile(SEG_CONFIG)
    cfg.model.backbone.init_cfg.checkpoint = path
    model = build_segmentor(cfg)
    model.init_weights()
    assert_backbone_equals(model, expected)


def test_tiny_config_loads_converted_backbone(tmp_path):
    """A backbone-only file loads without prefix, no key missing."""
    src = str(tmp_path / 'epoch_20.pth')
    dst = str(tmp_path / 'hvc_r18_backbone.pth')
    expected = mmhvc_checkpoint(src)
    load_tool('model_converters', 'mmhvc_to_backbone.py').main([src, dst])

    cfg = Config.fromfile(TINY_CONFIG)
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=dst)
    model = build_segmentor(cfg)
    model.init_weights()
    assert_backbone_equals(model, expected)


def test_tiny_config_trains_with_runner(tmp_path):
    from mmengine.runner import Runner

    data_root = str(tmp_path / 'tiny_seg')
    load_tool('dataset_converters', 'make_tiny_seg.py').main(
        [data_root, '--num-train', '2', '--num-val', '1'])
    cfg = Config.fromfile(TINY_CONFIG)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    cfg.work_dir = str(tmp_path / 'work_dir')
    cfg.train_cfg.max_iters = 2
    cfg.train_cfg.val_interval = 2
    cfg.param_scheduler[0].end = 2
    cfg.default_hooks.checkpoint.interval = 2

    runner = Runner.from_cfg(cfg)
    before = {
        k: v.clone()
        for k, v in runner.model.backbone.state_dict().items()
    }
    runner.train()

    assert runner.iter == 2
    scalars = runner.message_hub.log_scalars
    assert torch.isfinite(torch.tensor(scalars['train/loss'].current()))
    assert 0. <= scalars['val/mIoU'].current() <= 100.
    assert osp.isfile(osp.join(cfg.work_dir, 'iter_2.pth'))
    after = runner.model.backbone.state_dict()
    assert not torch.equal(before['conv1.weight'], after['conv1.weight'])
