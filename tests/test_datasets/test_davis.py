import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from mmhvc.datasets import DAVISDataset
from mmhvc.datasets.palette import davis_palette, write_indexed_png
from mmhvc.registry import DATASETS
from mmhvc.utils import register_all_modules

PIPELINE = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadVideoAnnotations'),
    dict(type='PackVideoInputs'),
]

register_all_modules()


def label_maps(num_frames, height=16, width=24):
    """Two objects (ids 1 and 3) moving right, a void band in the middle."""
    labels = np.zeros((num_frames, height, width), dtype=np.uint8)
    for t in range(num_frames):
        labels[t, 2:6, t:t + 5] = 1
        labels[t, 9:14, 10 + t:16 + t] = 3
        labels[t, 7, :] = 255
    return labels


def write_sequence(root, name, labels, annotated=None, resolution='480p'):
    """Write JPEG frames and indexed PNG annotations of one sequence."""
    annotated = range(len(labels)) if annotated is None else annotated
    for t in range(len(labels)):
        frame = np.full(labels.shape[1:] + (3, ), 40 * t, dtype=np.uint8)
        frame[labels[t] == 1] = (0, 0, 200)
        folder = osp.join(root, 'JPEGImages', resolution, name)
        os.makedirs(folder, exist_ok=True)
        assert cv2.imwrite(osp.join(folder, f'{t:05d}.jpg'), frame)
    for t in annotated:
        write_indexed_png(
            osp.join(root, 'Annotations', resolution, name, f'{t:05d}.png'),
            labels[t])


def write_split(root, year, split, names):
    folder = osp.join(root, 'ImageSets', year)
    os.makedirs(folder, exist_ok=True)
    with open(osp.join(folder, f'{split}.txt'), 'w') as f:
        f.write(''.join(n + '\n' for n in names))


@pytest.fixture
def davis_root(tmp_path):
    root = str(tmp_path / 'DAVIS')
    write_sequence(root, 'cows', label_maps(4))
    write_sequence(root, 'bear', label_maps(3))
    write_split(root, '2017', 'val', ['cows', 'bear'])
    write_split(root, '2016', 'val', ['bear'])
    return root


def test_davis_2017_val_items(davis_root):
    dataset = DAVISDataset(data_root=davis_root, split='val')
    assert len(dataset) == 2
    info = dataset.get_data_info(0)
    assert info['seq_name'] == 'cows'
    assert info['frame_names'] == ['00000', '00001', '00002', '00003']
    assert info['frame_paths'][2] == osp.join(davis_root, 'JPEGImages',
                                              '480p', 'cows', '00002.jpg')
    assert info['given_frames'] == [0]
    assert info['given_ann_paths'] == [
        osp.join(davis_root, 'Annotations', '480p', 'cows', '00000.png')
    ]
    assert len(info['gt_ann_paths']) == 4
    assert info['single_object'] is False
    assert (info['year'], info['split'], info['resolution']) == ('2017', 'val',
                                                                 '480p')
    assert dataset.get_data_info(1)['seq_name'] == 'bear'


def test_davis_2017_pipeline(davis_root):
    dataset = DATASETS.build(
        dict(type='DAVISDataset', data_root=davis_root, pipeline=PIPELINE))
    item = dataset[0]
    labels = label_maps(4)
    assert item['inputs'].dtype == torch.uint8
    assert item['inputs'].shape == (4, 3, 16, 24)
    sample = item['data_samples']
    assert sample.seq_name == 'cows'
    assert sample.ori_shape == (16, 24)
    assert sample.object_ids == [1, 3]
    assert sample.given_frames == [0]
    assert sample.given_object_ids == [[1, 3]]
    np.testing.assert_array_equal(sample.palette, davis_palette())
    # Void is background in the given mask and kept in the ground truth.
    expected_given = labels[:1].copy()
    expected_given[expected_given == 255] = 0
    assert sample.given_masks.dtype == torch.uint8
    np.testing.assert_array_equal(sample.given_masks.numpy(), expected_given)
    np.testing.assert_array_equal(sample.gt_masks.numpy(), labels)


def test_davis_2016_keeps_objects_apart(davis_root):
    # DAVIS-2016 propagates every object; the metric merges them.
    dataset = DAVISDataset(
        data_root=davis_root, year=2016, split='val', pipeline=PIPELINE)
    assert len(dataset) == 1
    sample = dataset[0]['data_samples']
    labels = label_maps(3)
    np.testing.assert_array_equal(sample.gt_masks.numpy(), labels)
    assert sample.object_ids == [1, 3]
    assert sample.single_object is False


def test_davis_single_object_merges_before_propagation(davis_root):
    dataset = DAVISDataset(
        data_root=davis_root,
        year=2016,
        split='val',
        single_object=True,
        pipeline=PIPELINE)
    sample = dataset[0]['data_samples']
    labels = label_maps(3)
    expected = np.where((labels > 0) & (labels != 255), 1, labels)
    np.testing.assert_array_equal(sample.gt_masks.numpy(), expected)
    assert sample.object_ids == [1]
    assert set(np.unique(sample.given_masks.numpy())) == {0, 1}
    assert sample.single_object is True


def test_davis_test_dev_has_no_ground_truth(tmp_path):
    root = str(tmp_path)
    write_sequence(root, 'aerobatics', label_maps(3), annotated=[0])
    write_split(root, '2017', 'test-dev', ['aerobatics'])
    dataset = DAVISDataset(
        data_root=root, split='test-dev', pipeline=PIPELINE)
    assert dataset.get_data_info(0)['gt_ann_paths'] is None
    sample = dataset[0]['data_samples']
    assert 'gt_masks' not in sample
    assert sample.given_masks.shape == (1, 16, 24)


def test_davis_full_resolution(tmp_path):
    root = str(tmp_path)
    write_sequence(root, 'dog', label_maps(2), resolution='Full-Resolution')
    write_split(root, '2017', 'val', ['dog'])
    dataset = DAVISDataset(data_root=root, resolution='Full-Resolution')
    assert 'Full-Resolution' in dataset.get_data_info(0)['frame_paths'][0]


def test_davis_bad_arguments(tmp_path, davis_root):
    with pytest.raises(FileNotFoundError, match='nowhere'):
        DAVISDataset(data_root=str(tmp_path / 'nowhere'))
    with pytest.raises(ValueError, match='year'):
        DAVISDataset(data_root=davis_root, year='2018')
    with pytest.raises(FileNotFoundError, match='train.txt'):
        DAVISDataset(data_root=davis_root, split='train')


def test_davis_sequence_without_frames(davis_root):
    write_split(davis_root, '2017', 'val', ['cows', 'ghost'])
    with pytest.raises(FileNotFoundError, match='ghost'):
        DAVISDataset(data_root=davis_root)


def test_davis_missing_first_annotation(tmp_path):
    root = str(tmp_path)
    write_sequence(root, 'cat', label_maps(3), annotated=[1, 2])
    write_split(root, '2017', 'val', ['cat'])
    with pytest.raises(FileNotFoundError, match=r'cat.00000\.png'):
        DAVISDataset(data_root=root)


def test_davis_partial_annotations(tmp_path):
    root = str(tmp_path)
    write_sequence(root, 'cat', label_maps(4), annotated=[0, 1, 3])
    write_split(root, '2017', 'val', ['cat'])
    with pytest.raises(FileNotFoundError, match=r'cat.00002\.png'):
        DAVISDataset(data_root=root)


def test_davis_annotation_without_frame(tmp_path):
    root = str(tmp_path)
    write_sequence(root, 'cat', label_maps(2))
    write_indexed_png(
        osp.join(root, 'Annotations', '480p', 'cat', '00007.png'),
        label_maps(1)[0])
    write_split(root, '2017', 'val', ['cat'])
    with pytest.raises(ValueError, match=r'00007\.png'):
        DAVISDataset(data_root=root)


def test_davis_mask_size_differs(davis_root):
    path = osp.join(davis_root, 'Annotations', '480p', 'bear', '00001.png')
    write_indexed_png(path, np.zeros((8, 8), dtype=np.uint8))
    dataset = DAVISDataset(data_root=davis_root, pipeline=PIPELINE)
    with pytest.raises(ValueError, match=r'bear.00001\.png'):
        dataset[1]


def test_davis_annotation_not_indexed(davis_root):
    path = osp.join(davis_root, 'Annotations', '480p', 'bear', '00002.png')
    cv2.imwrite(path, label_maps(3)[2])  # a grey-level ('L') PNG
    dataset = DAVISDataset(data_root=davis_root, pipeline=PIPELINE)
    with pytest.raises(ValueError, match=r'bear.00002\.png.*"L" mode'):
        dataset[1]


def test_davis_empty_first_mask(davis_root):
    path = osp.join(davis_root, 'Annotations', '480p', 'cows', '00000.png')
    empty = np.zeros((16, 24), dtype=np.uint8)
    empty[7] = 255
    write_indexed_png(path, empty)
    dataset = DAVISDataset(data_root=davis_root, pipeline=PIPELINE)
    with pytest.raises(ValueError, match=r'cows.00000\.png.*without any'):
        dataset[0]
