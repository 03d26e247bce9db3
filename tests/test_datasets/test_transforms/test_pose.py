import os.path as osp

import numpy as np
import pytest
import torch
from scipy.io import savemat

from mmhvc.datasets.transforms.pose import (LoadVideoKeypoints,
                                            PackKeypointVideoInputs)

H, W = 20, 30


def write_mat(folder, pos, key='pos_img'):
    path = osp.join(folder, 'joint_positions.mat')
    savemat(path, {key: pos})
    return path


def results_for(path, num_frames):
    return dict(
        joint_path=path,
        ori_shape=(H, W),
        frame_paths=[f'{t:05d}.png' for t in range(num_frames)],
        img=np.zeros((num_frames, H, W, 3), np.uint8))


def positions(num_frames, num_joints=15):
    pos = np.zeros((2, num_joints, num_frames))
    pos[0] = 5.
    pos[1] = 7.
    return pos


def test_joints_outside_the_frame_are_annotated(tmp_path):
    pos = positions(2)
    pos[:, 3, 1] = np.nan  # not annotated
    pos[0, 4, 1] = W + 1  # 0-based x = W: right of the frame
    pos[1, 5, 0] = 0.  # 0-based y = -1: above the frame
    out = LoadVideoKeypoints()(results_for(write_mat(str(tmp_path), pos), 2))
    visible = out['gt_visible']
    assert visible.sum() == 30 - 1 and not visible[1, 3]
    np.testing.assert_allclose(out['gt_keypoints'][1, 4], [W, 6.])
    np.testing.assert_allclose(out['gt_keypoints'][0, 5], [4., -1.])
    assert np.isnan(out['gt_keypoints'][1, 3]).all()
    # outside joints of the first frame are given too
    assert out['given_visible'][0, 5]
    np.testing.assert_allclose(out['given_keypoints'][0, 5], [4., -1.])


def test_inside_only_drops_joints_outside_the_frame(tmp_path):
    pos = positions(2)
    pos[:, 3, 1] = np.nan  # not annotated
    pos[0, 4, 1] = W + 1  # 0-based x = W: right of the frame
    pos[1, 5, 0] = 0.  # 0-based y = -1: above the frame
    pos[:, 6, 1] = [W, H]  # 0-based (W - 1, H - 1): last pixel
    out = LoadVideoKeypoints(inside_only=True)(
        results_for(write_mat(str(tmp_path), pos), 2))
    visible = out['gt_visible']
    assert visible.dtype == bool and visible.shape == (2, 15)
    assert not visible[1, 3] and not visible[1, 4] and not visible[0, 5]
    assert visible[1, 6]
    assert visible.sum() == 30 - 3
    keypoints = out['gt_keypoints']
    # invisible joints carry no coordinates (NaN), never zeros
    assert np.isnan(keypoints[~visible]).all()
    np.testing.assert_allclose(keypoints[1, 6], [W - 1, H - 1])
    np.testing.assert_allclose(keypoints[0, 0], [4., 6.])
    assert out['given_frames'] == [0]
    np.testing.assert_array_equal(out['given_visible'], visible[:1])


def test_frame_count_mismatch_leaves_frames_unscored(tmp_path):
    out = LoadVideoKeypoints()(
        results_for(write_mat(str(tmp_path), positions(2)), 3))
    assert out['gt_keypoints'].shape == (3, 15, 2)
    assert out['gt_visible'][:2].all() and not out['gt_visible'][2].any()


def test_bad_files_are_errors(tmp_path):
    path = write_mat(str(tmp_path), positions(2, num_joints=13))
    with pytest.raises(ValueError, match=rf'{path}.*\(2, 15, T\)'):
        LoadVideoKeypoints()(results_for(path, 2))
    path = write_mat(str(tmp_path), positions(2), key='pos_world')
    with pytest.raises(KeyError, match='has no "pos_img"'):
        LoadVideoKeypoints()(results_for(path, 2))
    pos = positions(2)
    pos[:, :, 0] = np.nan
    path = write_mat(str(tmp_path), pos)
    with pytest.raises(ValueError, match=rf'{path}: no joint is visible'):
        LoadVideoKeypoints()(results_for(path, 2))
    with pytest.raises(FileNotFoundError, match='nowhere.mat'):
        LoadVideoKeypoints()(results_for(str(tmp_path / 'nowhere.mat'), 2))


def test_pack_adds_keypoint_fields(tmp_path):
    results = LoadVideoKeypoints()(
        results_for(write_mat(str(tmp_path), positions(2)), 2))
    results.update(seq_name='a/b', img_shape=(H, W))
    packed = PackKeypointVideoInputs()(results)
    sample = packed['data_samples']
    assert packed['inputs'].shape == (2, 3, H, W)
    assert sample.seq_name == 'a/b' and sample.given_frames == [0]
    assert sample.gt_keypoints.shape == (2, 15, 2)
    assert sample.gt_visible.dtype == torch.bool
    assert sample.given_keypoints.shape == (1, 15, 2)
