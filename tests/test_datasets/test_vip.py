import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from mmhvc.datasets.transforms import part_annotations, resize_video  # noqa
from mmhvc.datasets.vip import VIP_CLASSES, VIPDataset
from mmhvc.registry import DATASETS

PIPELINE = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadPartAnnotations'),
    dict(type='ResizeVideo', short_side=8),
    dict(
        type='PackVideoInputs',
        meta_keys=('seq_name', 'frame_names', 'ori_shape', 'img_shape',
                   'object_ids', 'given_frames', 'given_object_ids')),
]
STEMS = ['000000000001', '000000000026', '000000000051']


def part_maps(num_frames, height=12, width=16):
    """Hair (2) above a face (13) moving right, an unlabelled column."""
    maps = np.zeros((num_frames, height, width), dtype=np.uint8)
    for t in range(num_frames):
        maps[t, 1:4, 4 + t:10 + t] = 2
        maps[t, 4:9, 5 + t:9 + t] = 13
        maps[t, :, 0] = 255
    return maps


def write_video(root, name, maps, stems=STEMS, mode='L'):
    for folder in ('Images', 'Annotations/Category_ids'):
        os.makedirs(osp.join(root, folder, name), exist_ok=True)
    for stem, labels in zip(stems, maps):
        frame = np.full(labels.shape + (3, ), 90, dtype=np.uint8)
        frame[labels == 13] = (60, 120, 220)
        assert cv2.imwrite(
            osp.join(root, 'Images', name, stem + '.jpg'), frame)
        Image.fromarray(labels).convert(mode).save(
            osp.join(root, 'Annotations/Category_ids', name, stem + '.png'))


def write_list(root, names, file='lists/val_videos.txt'):
    os.makedirs(osp.dirname(osp.join(root, file)), exist_ok=True)
    with open(osp.join(root, file), 'w') as f:
        f.write(''.join(n + '\n' for n in names))


@pytest.fixture
def vip_root(tmp_path):
    root = str(tmp_path / 'VIP_Fine')
    write_video(root, 'videos1', part_maps(3))
    write_video(root, 'videos7', part_maps(2), STEMS[:2])
    write_list(root, ['videos1', 'videos7'])
    return root


def test_items_list_frames_and_label_maps(vip_root):
    dataset = VIPDataset(data_root=vip_root, lazy_init=False)
    assert len(dataset) == 2
    assert dataset.metainfo['classes'] == VIP_CLASSES
    assert len(VIP_CLASSES) == 20
    info = dataset.get_data_info(0)
    assert info['seq_name'] == 'videos1'
    assert info['frame_names'] == STEMS
    assert info['ann_paths'] == [
        osp.join(vip_root, 'Annotations/Category_ids', 'videos1', s + '.png')
        for s in STEMS
    ]
    assert info['frame_paths'][2] == osp.join(vip_root, 'Images', 'videos1',
                                              STEMS[2] + '.jpg')


def test_pipeline_gives_first_frame_parts(vip_root):
    dataset = DATASETS.build(
        dict(type='VIPDataset', data_root=vip_root, pipeline=PIPELINE))
    item = dataset[0]
    sample = item['data_samples']
    assert item['inputs'].shape == (3, 3, 8, 11)  # 12 x 16 -> short side 8
    assert sample.ori_shape == (12, 16) and sample.img_shape == (8, 11)
    assert sample.object_ids == [2, 13]
    assert sample.given_frames == [0]
    assert sample.given_masks.shape == (1, 8, 11)
    assert set(torch.unique(sample.given_masks).tolist()) == {0, 2, 13}
    # ground truth stays at the annotation's size, unlabelled pixels kept
    expected = torch.from_numpy(part_maps(3))
    assert torch.equal(sample.gt_masks, expected)


def test_part_label_out_of_range_names_the_file(vip_root):
    maps = part_maps(3)
    maps[2, 5, 5] = 20
    write_video(vip_root, 'videos1', maps)
    dataset = VIPDataset(data_root=vip_root, pipeline=PIPELINE)
    bad = osp.join(vip_root, 'Annotations/Category_ids', 'videos1',
                   STEMS[2] + '.png')
    with pytest.raises(ValueError, match=rf'{bad}.*\[20\]'):
        dataset[0]


def test_missing_label_map_names_the_file(vip_root):
    missing = osp.join(vip_root, 'Annotations/Category_ids', 'videos7',
                       STEMS[1] + '.png')
    os.remove(missing)
    with pytest.raises(FileNotFoundError, match=missing):
        VIPDataset(data_root=vip_root, lazy_init=False)


def test_missing_video_and_list(vip_root, tmp_path):
    write_list(vip_root, ['videos1', 'videos99'])
    with pytest.raises(FileNotFoundError, match='videos99'):
        VIPDataset(data_root=vip_root, lazy_init=False)
    with pytest.raises(FileNotFoundError, match='video list not found'):
        VIPDataset(
            data_root=vip_root, ann_file='lists/none.txt', lazy_init=False)
    with pytest.raises(FileNotFoundError, match='data_root not found'):
        VIPDataset(data_root=str(tmp_path / 'nowhere'))
