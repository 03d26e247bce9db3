import math

import pytest
import torch

from mmhvc.models.propagation.codecs import (KeypointCodec,
                                             heatmaps_to_keypoints,
                                             keypoints_to_heatmaps)
from mmhvc.registry import LABEL_CODECS


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


# KeypointCodec


def test_registered_and_arguments_checked():
    codec = LABEL_CODECS.build(
        dict(type='KeypointCodec', sigma=0.7, decode_topk=2))
    assert isinstance(codec, KeypointCodec)
    assert (codec.sigma, codec.decode_topk) == (0.7, 2)
    with pytest.raises(ValueError, match='sigma'):
        KeypointCodec(sigma=0)
    with pytest.raises(ValueError, match='decode_topk'):
        KeypointCodec(decode_topk=0)


def given(keypoints, visible):
    return dict(
        given_keypoints=torch.tensor(keypoints, dtype=torch.float32),
        given_visible=torch.tensor(visible))


def test_encode_draws_the_heat_maps_on_the_feature_grid():
    codec = KeypointCodec(sigma=0.5)
    assert codec.given_keys == ('given_keypoints', 'given_visible')
    soft = codec.encode(
        given([[17., 9.], [3., 3.]], [True, False]),
        dict(ori_shape=(40, 40)), (5, 5))
    assert soft.dtype == torch.float32 and soft.shape == (2, 5, 5)
    assert soft[0, 1, 2] == 1 and soft[0, 1, 3] == pytest.approx(math.exp(-2))
    assert soft[0, 3, 2] == 0 and soft[1].sum() == 0


def test_given_and_empty_outputs():
    codec = KeypointCodec()
    out = codec.decode(None, dict(ori_shape=(8, 8)),
                       given([[1., 2.], [3., 4.]], [True, False]))
    assert out['pred_visible'].tolist() == [True, False]
    torch.testing.assert_close(out['pred_keypoints'][0],
                               torch.tensor([1., 2.]))
    assert torch.isnan(out['pred_keypoints'][1]).all()
    empty = codec.decode(torch.zeros(2, 3, 3), dict(ori_shape=(8, 8)))
    assert empty['pred_keypoints'].shape == (2, 2)
    assert torch.isnan(empty['pred_keypoints']).all()
    assert empty['pred_visible'].tolist() == [False, False]


def test_decode_locates_each_channel_in_the_annotation_frame():
    codec = KeypointCodec(decode_topk=1)
    soft = torch.zeros(2, 5, 5)
    soft[0, 3, 1] = 0.4
    out = codec.decode(soft, dict(ori_shape=(20, 40), frame_shape=(5, 5)))
    # grid cell (x, y) = (1, 3) -> pixels (1 * 40 / 5, 3 * 20 / 5)
    torch.testing.assert_close(out['pred_keypoints'][0],
                               torch.tensor([8., 12.]))
    assert out['pred_visible'].tolist() == [True, False]
