"""The CUDA float16 option of the propagation model, from a config."""
import os.path as osp
import warnings

import pytest
import torch
from mmengine.config import Config
from mmengine.structures import BaseDataElement

from mmhvc.registry import MODELS
from mmhvc.utils import register_all_modules

CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'propagation', 'davis2017_val_r18.py')

register_all_modules()


def build(options=None):
    cfg = Config.fromfile(CONFIG)
    if options:
        cfg.merge_from_dict(options)  # what --cfg-options does
    torch.manual_seed(0)
    return MODELS.build(cfg.model).eval()


def video_and_sample():
    frames = torch.randint(0, 256, (3, 3, 16, 16), dtype=torch.uint8)
    mask = torch.zeros(16, 16, dtype=torch.uint8)
    mask[4:10, 4:10] = 1
    sample = BaseDataElement(metainfo=dict(
        seq_name='clip', given_frames=[0], object_ids=[1]))
    sample.given_masks = mask[None]
    return frames, sample


def test_fp16_is_off_by_default_and_set_from_the_config():
    assert build().fp16 is False
    assert build({'model.fp16': True}).fp16 is True


def test_fp16_on_the_cpu_is_an_error_naming_the_option():
    frames, sample = video_and_sample()
    model = build({'model.fp16': True})
    with pytest.raises(ValueError, match=r'fp16=True.*CUDA.*"cpu"'):
        model.propagate_video(frames, sample)
    pred = build().propagate_video(frames, sample)['pred_masks']
    assert pred.shape == (3, 16, 16)


def test_fp16_asks_for_float16_autocast_on_cuda():
    model = build({'model.fp16': True})
    with warnings.catch_warnings():
        # A CPU-only torch warns that it would disable CUDA autocast.
        warnings.simplefilter('ignore')
        context = model.precision(torch.device('cuda', 0))
    assert isinstance(context, torch.autocast)
    assert context.device == 'cuda'
    assert context.fast_dtype == torch.float16
