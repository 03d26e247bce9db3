import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image
from vost_layout import (HEIGHT, VIDEOS, WIDTH, annotated_stems,
                         full_rate_stems, stems_10fps, write_vost_layout)

from mmhvc.datasets import VOSTDataset
from mmhvc.datasets.palette import write_indexed_png
from mmhvc.registry import DATASETS
from mmhvc.utils import register_all_modules

PIPELINE = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadVideoAnnotations'),
    dict(type='LoadSparseAnnotations'),
    dict(
        type='PackVideoInputs',
        meta_keys=('seq_name', 'frame_names', 'given_frames', 'object_ids',
                   'gt_frames', 'split')),
]

register_all_modules()


@pytest.fixture
def vost(tmp_path):
    root = str(tmp_path / 'VOST')
    return root, write_vost_layout(root)


def build(root, **kwargs):
    return DATASETS.build(
        dict(type='VOSTDataset', data_root=root, pipeline=PIPELINE,
             **kwargs))


def test_items_propagate_10fps_frames_and_score_annotated_ones(vost):
    root, videos = vost
    dataset = build(root)
    assert dataset.sequence_names == list(VIDEOS)
    info = dataset.get_data_info(0)
    assert info['frame_names'] == stems_10fps()
    assert info['frame_paths'][1] == osp.join(root, 'JPEGImages_10fps',
                                              'cut', '00002.jpg')
    # Annotations every other 10 fps frame: 10 fps indices 0, 2, 4, 6.
    assert info['gt_frames'] == [0, 2, 4, 6]
    assert info['given_frames'] == [0] and info['gt_ann_paths'] is None
    assert info['split'] == 'val'

    item = dataset[0]
    assert tuple(item['inputs'].shape) == (8, 3, HEIGHT, WIDTH)
    sample = item['data_samples']
    labels = videos['cut']['labels']
    # The object appearing after the split (id 2) is not given.
    assert sample.object_ids == [1] and 2 in labels[-1]
    np.testing.assert_array_equal(sample.given_masks[0],
                                  np.where(labels[0] == 255, 0, labels[0]))
    gt = sample.gt_masks.numpy()
    assert gt.shape == (8, HEIGHT, WIDTH)
    np.testing.assert_array_equal(gt[[0, 2, 4, 6]], labels[[0, 2, 4, 6]])
    assert (gt[[1, 3, 5, 7]] == 255).all()


def test_full_rate_option_reads_every_frame(vost):
    root, _ = vost
    info = build(root, full_rate=True).get_data_info(2)
    assert info['seq_name'] == 'peel'
    assert info['frame_names'] == full_rate_stems()
    assert info['gt_frames'] == [0, 4, 8, 12]


def test_frames_before_the_first_annotation_are_left_out(vost):
    root, _ = vost
    os.remove(osp.join(root, 'Annotations', 'pour', '00000.png'))
    info = build(root).get_data_info(1)
    assert info['frame_names'] == stems_10fps()[2:]
    assert info['gt_frames'] == [0, 2, 4]
    assert info['given_ann_paths'] == [
        osp.join(root, 'Annotations', 'pour', annotated_stems()[1] + '.png')
    ]


def test_missing_10fps_folder_names_it_and_the_option(vost):
    root, _ = vost
    os.rename(
        osp.join(root, 'JPEGImages_10fps'), osp.join(root, 'frames_10'))
    with pytest.raises(FileNotFoundError) as error:
        build(root)
    message = str(error.value)
    assert osp.join(root, 'JPEGImages_10fps') in message
    assert 'full_rate=True' in message and 'JPEGImages ' in message
    assert build(root, full_rate=True).get_data_info(0)['seq_name'] == 'cut'


def test_annotated_frame_without_10fps_image_names_the_file(vost):
    root, _ = vost
    missing = osp.join(root, 'JPEGImages_10fps', 'peel', '00008.jpg')
    os.remove(missing)
    with pytest.raises(FileNotFoundError, match='00008.png') as error:
        build(root)
    assert missing in str(error.value)


def test_video_without_annotations(vost):
    root, _ = vost
    for stem in annotated_stems():
        os.remove(osp.join(root, 'Annotations', 'cut', stem + '.png'))
    with pytest.raises(FileNotFoundError, match=r'no "\*.png" annotations'):
        build(root)


def test_data_check_reads_every_annotation_header(vost):
    root, _ = vost
    path = osp.join(root, 'Annotations', 'pour', '00008.png')
    write_indexed_png(path, np.zeros((HEIGHT, WIDTH + 2), np.uint8))
    with pytest.raises(ValueError, match='00008.png') as error:
        build(root, check_files=True)
    assert f'is {WIDTH + 2}x{HEIGHT}' in str(error.value)


def test_sparse_annotations_must_fit_the_frames(vost):
    root, _ = vost
    path = osp.join(root, 'Annotations', 'peel', '00004.png')
    Image.new('P', (WIDTH, HEIGHT + 1)).save(path)
    with pytest.raises(ValueError, match='00004.png'):
        build(root)[2]


def test_registered():
    assert DATASETS.get('VOSTDataset') is VOSTDataset
