import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from scipy.io import savemat

from mmhvc.datasets.jhmdb import JHMDB_JOINTS, JHMDBDataset
from mmhvc.datasets.transforms import pose, resize_video  # noqa: F401
from mmhvc.registry import DATASETS

H, W = 24, 32
PIPELINE = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadVideoKeypoints'),
    dict(type='ResizeVideo', scale=(16, 16)),
    dict(type='PackKeypointVideoInputs'),
]


def joints(num_frames):
    """(2, 15, T) 1-based positions, joint j at (2 + j, 3 + t)."""
    pos = np.zeros((2, 15, num_frames))
    pos[0] = 2. + np.arange(15)[:, None]
    pos[1] = 3. + np.arange(num_frames)[None]
    return pos


def write_video(root, action, video, num_frames, pos=None):
    frames = osp.join(root, 'Rename_Images', action, video)
    os.makedirs(frames, exist_ok=True)
    for t in range(num_frames):
        assert cv2.imwrite(
            osp.join(frames, f'{t + 1:05d}.png'),
            np.full((H, W, 3), 20 * t, np.uint8))
    folder = osp.join(root, 'joint_positions', action, video)
    os.makedirs(folder, exist_ok=True)
    savemat(
        osp.join(folder, 'joint_positions.mat'),
        dict(
            pos_img=joints(num_frames) if pos is None else pos,
            scale=np.ones(num_frames)))


def write_split(root, action, labels, split=1):
    os.makedirs(osp.join(root, 'splits'), exist_ok=True)
    with open(
            osp.join(root, 'splits', f'{action}_test_split{split}.txt'),
            'w') as f:
        f.write(''.join(f'{v}.avi {k}\n' for v, k in labels.items()))


@pytest.fixture
def jhmdb_root(tmp_path):
    root = str(tmp_path / 'JHMDB')
    write_video(root, 'walk', 'walk_a', 3)
    write_video(root, 'walk', 'walk_b', 2)
    write_video(root, 'clap', 'clap_a', 2)
    write_split(root, 'walk', {'walk_a': 2, 'walk_b': 1})
    write_split(root, 'clap', {'clap_a': 2})
    write_split(root, 'clap', {'clap_a': 1}, split=2)
    return root


def test_split_files_select_test_videos(jhmdb_root):
    dataset = JHMDBDataset(data_root=jhmdb_root, lazy_init=False)
    assert [dataset.get_data_info(i)['seq_name']
            for i in range(len(dataset))] == ['clap/clap_a', 'walk/walk_a']
    assert dataset.metainfo['joint_names'] == JHMDB_JOINTS
    info = dataset.get_data_info(1)
    assert info['action'] == 'walk'
    assert info['frame_names'] == ['00001', '00002', '00003']
    assert info['joint_path'] == osp.join(jhmdb_root, 'joint_positions',
                                          'walk', 'walk_a',
                                          'joint_positions.mat')
    with pytest.raises(ValueError, match='no test video'):
        JHMDBDataset(data_root=jhmdb_root, split=2, lazy_init=False)


def test_crw_style_video_list(jhmdb_root):
    with open(osp.join(jhmdb_root, 'testlist_split1.txt'), 'w') as f:
        f.write('Rename_Images/walk/walk_b '
                'joint_positions/walk/walk_b/joint_positions.mat\n')
    dataset = JHMDBDataset(
        data_root=jhmdb_root, ann_file='testlist_split1.txt', lazy_init=False)
    assert len(dataset) == 1
    assert dataset.get_data_info(0)['seq_name'] == 'walk/walk_b'


def test_pipeline_packs_keypoints_in_original_pixels(jhmdb_root):
    dataset = DATASETS.build(
        dict(type='JHMDBDataset', data_root=jhmdb_root, pipeline=PIPELINE))
    item = dataset[1]
    sample = item['data_samples']
    assert item['inputs'].shape == (3, 3, 16, 16)
    assert sample.ori_shape == (H, W) and sample.img_shape == (16, 16)
    assert sample.given_frames == [0]
    # 1-based MATLAB coordinates become 0-based pixels of the 32 x 24 frame
    expected = joints(3).transpose(2, 1, 0) - 1
    assert sample.gt_keypoints.dtype == torch.float32
    np.testing.assert_allclose(sample.gt_keypoints.numpy(), expected)
    assert sample.gt_visible.all()
    np.testing.assert_allclose(sample.given_keypoints.numpy(), expected[:1])
    assert sample.given_visible.shape == (1, 15)


def test_missing_joint_file_names_the_file(jhmdb_root):
    path = osp.join(jhmdb_root, 'joint_positions', 'walk', 'walk_a',
                    'joint_positions.mat')
    os.remove(path)
    with pytest.raises(FileNotFoundError, match=path):
        JHMDBDataset(data_root=jhmdb_root, lazy_init=False)


def test_bad_split_line_is_an_error(jhmdb_root):
    path = osp.join(jhmdb_root, 'splits', 'walk_test_split1.txt')
    with open(path, 'a') as f:
        f.write('walk_c.avi\n')
    with pytest.raises(ValueError, match=rf'{path}, line 3'):
        JHMDBDataset(data_root=jhmdb_root, lazy_init=False)
