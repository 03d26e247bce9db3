import math
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.structures import BaseDataElement
from torch import nn

from mmhvc.models.propagation.keypoint_heatmaps import (heatmaps_to_keypoints,
                                                        keypoints_to_heatmaps)
from mmhvc.models.propagation.keypoint_model import KeypointPropagationModel
from mmhvc.registry import MODELS

torch.set_num_threads(1)
REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CELL = 4  # pixels per feature cell of the patch encoder below


class PatchCode(nn.Module):
    """Each 4 x 4 patch, minus its mean, is the feature of its cell: equal
    patches match exactly, random different ones hardly at all."""

    def forward(self, x):
        batch, _, height, width = x.shape
        patches = F.unfold(x, CELL, stride=CELL)
        patches = patches - patches.mean(dim=1, keepdim=True)
        return patches.view(batch, -1, height // CELL, width // CELL)


MODELS.register_module('TestPatchCode', module=PatchCode, force=True)


def build_model(**kwargs):
    return KeypointPropagationModel(
        backbone=dict(type='TestPatchCode'),
        propagator=dict(type='LabelPropagator', topk=3, context_size=4),
        **kwargs).eval()


def texture(height, width, seed=0):
    rng = np.random.default_rng(seed)
    return torch.from_numpy(
        rng.integers(0, 256, (3, height, width), dtype=np.uint8))


def make_sample(keypoints, visible, **metainfo):
    sample = BaseDataElement(
        metainfo=dict(seq_name='v', given_frames=[0], **metainfo))
    sample.given_keypoints = torch.tensor([keypoints], dtype=torch.float32)
    sample.given_visible = torch.tensor([visible])
    return sample


# keypoints_to_heatmaps / heatmaps_to_keypoints


def test_heatmap_is_gaussian_at_nearest_cell():
    # 40 x 40 pixels on a 5 x 5 grid: (17, 9) -> (2.125, 1.125) -> cell (2, 1)
    heat = keypoints_to_heatmaps(
        torch.tensor([[17., 9.]]),
        torch.tensor([True]), (40, 40), (5, 5),
        sigma=0.5)
    assert heat.shape == (1, 5, 5) and heat.dtype == torch.float32
    expected = torch.zeros(5, 5)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            expected[1 + dy, 2 + dx] = math.exp(-(dx**2 + dy**2) / 0.5)
    torch.testing.assert_close(heat[0], expected)  # window: 3 sigma = 1.5


def test_heatmap_window_and_invisible_joints():
    heat = keypoints_to_heatmaps(
        torch.tensor([[8., 8.], [3., 3.], [100., 3.], [float('nan')] * 2]),
        torch.tensor([True, False, True, False]), (16, 16), (16, 16),
        sigma=1.)
    assert heat[0, 8, 11] == pytest.approx(math.exp(-4.5))  # 3 sigma away
    assert heat[0, 8, 12] == 0 and heat[0, 12, 8] == 0
    assert heat[1:].sum() == 0  # invisible, or its window off the grid


def test_decode_is_value_weighted_top_k():
    heat = torch.zeros(2, 5, 5)
    heat[0, 1, 1], heat[0, 1, 2], heat[0, 2, 1], heat[0, 3, 3] = .5, .3, .2, .1
    keypoints, found = heatmaps_to_keypoints(heat, (20, 40), topk=3)
    # grid (x, y) = (0.5 + 0.6 + 0.2, 0.5 + 0.3 + 0.4) = (1.3, 1.2);
    # pixels: x * 40 / 5, y * 20 / 5
    torch.testing.assert_close(keypoints[0], torch.tensor([10.4, 4.8]))
    assert found.tolist() == [True, False]
    assert torch.isnan(keypoints[1]).all()


@pytest.mark.parametrize('image_size', [(32, 48), (240, 320)])
def test_heatmap_round_trip_at_cell_positions(image_size):
    height, width = image_size
    grid = (8, 12)
    cells = torch.tensor([[3., 2.], [11., 7.], [0., 0.]])
    keypoints = cells * torch.tensor([width / grid[1], height / grid[0]])
    heat = keypoints_to_heatmaps(keypoints, torch.ones(3, dtype=torch.bool),
                                 image_size, grid)
    decoded, found = heatmaps_to_keypoints(heat, image_size, topk=1)
    assert found.all()
    torch.testing.assert_close(decoded, keypoints)


# KeypointPropagationModel


@pytest.mark.parametrize('ori_shape', [None, (64, 96)])
def test_keypoints_stay_put_through_identical_frames(ori_shape):
    frame = texture(32, 48)
    video = frame[None].repeat(5, 1, 1, 1)
    scale = 1 if ori_shape is None else 2
    # two keypoints on cell positions, one not annotated
    given = torch.tensor([[12., 8.], [32., 20.], [5., 5.]]) * scale
    meta = {} if ori_shape is None else dict(ori_shape=ori_shape)
    sample = make_sample(given.tolist(), [True, True, False], **meta)
    model = build_model()
    out = model.predict([video], [sample])[0]
    keypoints, found = out.pred_keypoints, out.pred_visible
    assert keypoints.shape == (5, 3, 2) and found.shape == (5, 3)
    assert found[:, :2].all() and not found[:, 2].any()
    assert torch.isnan(keypoints[:, 2]).all()
    torch.testing.assert_close(keypoints[0, :2], given[:2])
    # later frames: the given heat maps come back unchanged, so each
    # keypoint decodes where its own Gaussian does, within a quarter cell
    size = ori_shape or (32, 48)
    heat = keypoints_to_heatmaps(given, torch.tensor([True, True, False]),
                                 size, (8, 12), model.sigma)
    expected, _ = heatmaps_to_keypoints(heat, size, model.decode_topk)
    for t in range(1, 5):
        torch.testing.assert_close(keypoints[t, :2], expected[:2])
    assert (keypoints[1:, :2] - given[:2]).abs().max() <= 0.25 * CELL * scale


def test_keypoints_follow_moving_content():
    """The content moves one cell to the right per frame (wrapping round,
    so that every cell has its match in the previous frame)."""
    frame = texture(32, 48, seed=1)
    video = torch.stack(
        [torch.roll(frame, CELL * t, dims=2) for t in range(4)])
    sample = make_sample([[12., 16.], [20., 8.]], [True, True])
    out = build_model(decode_topk=1).predict([video], [sample])[0]
    assert out.pred_visible.all()
    for t in range(4):
        torch.testing.assert_close(
            out.pred_keypoints[t],
            torch.tensor([[12. + CELL * t, 16.], [20. + CELL * t, 8.]]))


def test_given_keypoints_are_checked():
    video = texture(16, 16)[None].repeat(2, 1, 1, 1)
    model = build_model()
    with pytest.raises(ValueError, match='no keypoint is visible'):
        model.predict([video], [make_sample([[1., 1.]], [False])])
    sample = make_sample([[1., 1.]], [True])
    sample.set_metainfo(dict(given_frames=[0, 1]))
    with pytest.raises(ValueError, match='exactly one frame'):
        model.predict([video], [sample])
    sample = make_sample([[1., 1.]], [True])
    del sample.given_visible
    with pytest.raises(KeyError, match='given_visible'):
        model.predict([video], [sample])
    with pytest.raises(ValueError, match='sigma'):
        build_model(sigma=0)


def test_config_model_builds_and_tracks():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'propagation', 'jhmdb_val_r18.py'))
    model = MODELS.build(cfg.model).eval()
    assert isinstance(model, KeypointPropagationModel)
    assert (model.propagator.topk, model.propagator.context_size) == (10, 20)
    assert (model.sigma, model.decode_topk) == (0.5, 3)
    video = texture(32, 32)[None].repeat(3, 1, 1, 1)
    sample = make_sample([[10., 12.]] * 15, [True] * 15, ori_shape=(24, 32))
    out = model.predict([video], [sample])[0]
    assert out.pred_keypoints.shape == (3, 15, 2)
    assert out.pred_visible.all()
    # identical frames: the joint stays in its cell (4 x 3 pixels here)
    assert (out.pred_keypoints[1:] - torch.tensor([10., 12.])).abs().amax(
        dim=(0, 1)).le(torch.tensor([4., 3.])).all()
