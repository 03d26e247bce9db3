import numpy as np
import pytest

from mmhvc.datasets.transforms.resize_video import ResizeVideo
from mmhvc.registry import TRANSFORMS


def video(num=2, height=12, width=20):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (num, height, width, 3), dtype=np.uint8)


def test_short_side_keeps_aspect_ratio():
    gt = np.zeros((2, 12, 20), np.uint8)
    out = ResizeVideo(short_side=6)(
        dict(img=video(), ori_shape=(12, 20), gt_masks=gt))
    assert out['img'].shape == (2, 6, 10, 3)
    assert out['img_shape'] == (6, 10)
    assert out['ori_shape'] == (12, 20)
    assert out['scale_factor'] == (0.5, 0.5)
    assert out['gt_masks'] is gt


def test_fixed_scale_and_nearest_given_masks():
    masks = np.zeros((1, 12, 20), np.uint8)
    masks[0, :6, :10] = 3
    masks[0, 6:, 10:] = 7
    out = TRANSFORMS.build(dict(type='ResizeVideo', scale=(4, 4)))(
        dict(
            img=video(),
            given_masks=masks,
            given_frames=[0],
            given_object_ids=[[3, 7]],
            object_ids=[3, 7]))
    assert out['img'].shape == (2, 4, 4, 3)
    np.testing.assert_array_equal(
        out['given_masks'][0],
        [[3, 3, 0, 0], [3, 3, 0, 0], [0, 0, 7, 7], [0, 0, 7, 7]])
    assert out['object_ids'] == [3, 7]


def test_vanishing_given_objects_are_dropped():
    masks = np.zeros((2, 12, 20), np.uint8)
    masks[0, :, :] = 3
    masks[0, 5, 7] = 4  # one pixel: lost at a quarter of the size
    masks[1, 5, 7] = 5
    out = ResizeVideo(short_side=3)(
        dict(
            img=video(),
            given_masks=masks,
            given_frames=[0, 1],
            given_object_ids=[[3, 4], [5]],
            object_ids=[3, 4, 5]))
    assert out['given_frames'] == [0]
    assert out['given_object_ids'] == [[3]]
    assert out['object_ids'] == [3]
    assert out['given_masks'].shape == (1, 3, 5)


def test_arguments_are_checked():
    with pytest.raises(ValueError, match='exactly one'):
        ResizeVideo()
    with pytest.raises(ValueError, match='exactly one'):
        ResizeVideo(scale=(4, 4), short_side=4)
    with pytest.raises(KeyError, match='img'):
        ResizeVideo(short_side=4)(dict())
