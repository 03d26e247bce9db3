import os.path as osp

import pytest
from mmengine.config import Config

from mmhvc.registry import MODELS
from mmhvc.utils import check_top_level_keys, explain_build_error


MODEL_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    '_base_', 'models', 'hvc_r18.py')


def hvc_cfg(**backbone):
    cfg = Config.fromfile(MODEL_CONFIG)
    cfg.model.backbone.update(backbone)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)
    return cfg


def build_error(cfg):
    with pytest.raises((KeyError, TypeError)) as info:
        MODELS.build(cfg.model)
    return info.value


def test_misspelt_type_names_place_and_nearest_names():
    cfg = hvc_cfg()
    cfg.model.backbone.type = 'HVCResNat'
    message = explain_build_error(build_error(cfg), cfg)
    assert 'HVCResNat is not in the mmhvc::model registry' in message
    assert 'It is set at "model.backbone.type"' in message
    assert 'Did you mean "HVCResNet"' in message


def test_type_of_another_scope_is_suggested_with_its_prefix():
    error = KeyError('Adamm is not in the mmhvc::optimizer registry.')
    message = explain_build_error(error)
    assert '"Adam"' in message and '"AdamW"' in message


def test_unknown_argument_names_key_component_and_path():
    cfg = hvc_cfg(dpeth=18)
    message = explain_build_error(build_error(cfg), cfg)
    assert message.startswith('HVCResNet has no argument "dpeth" (set at '
                              '"model.backbone.dpeth" in the config). Did '
                              'you mean "depth"?')
    assert 'HVCResNet accepts: depth, ' in message


def test_unknown_argument_of_a_loop():
    cfg = hvc_cfg()
    error = TypeError("IterBasedTrainLoop.__init__() got an unexpected "
                      "keyword argument 'max_iter'")
    message = explain_build_error(error, cfg)
    assert 'IterBasedTrainLoop has no argument "max_iter"' in message
    assert 'Did you mean "max_iters"' in message


def test_other_errors_are_left_alone():
    assert explain_build_error(KeyError('img_path')) is None
    assert explain_build_error(TypeError('unsupported operand')) is None


def test_top_level_keys():
    cfg = hvc_cfg()
    check_top_level_keys(cfg, ['model.backbone.depth', 'work_dir',
                               'randomness.seed'])
    with pytest.raises(KeyError, match=r'trian_cfg.max_iters.*"train_cfg"'):
        check_top_level_keys(cfg, ['trian_cfg.max_iters'])
    cfg.optim_wraper = dict(optimizer=dict(type='Adam'))
    with pytest.raises(KeyError,
                       match=r'"optim_wraper".*did you mean "optim_wrapper"'):
        check_top_level_keys(cfg)
    # Helper variables that are not close to a Runner key are fine.
    check_top_level_keys(Config(dict(data_root='x', train_pipeline=[])))
