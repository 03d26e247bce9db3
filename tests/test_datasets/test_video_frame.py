import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmhvc.datasets import VideoFrameDataset
from mmhvc.datasets.transforms import UnreadableImageError

PIPELINE = [
    dict(type='LoadImageWithCheck'),
    dict(type='RandomResizedCropPair', size=8),
    dict(type='PackCropPairInputs'),
]
FRAMES = dict(vid_b=10, vid_a=3, vid_c=6)


@pytest.fixture(autouse=True)
def mmhvc_scope():
    """Resolve unprefixed registry types in the mmhvc scope."""
    with DefaultScope.overwrite_default_scope('mmhvc'):
        yield


@pytest.fixture
def video_root(tmp_path):
    """YouTube-VOS-like tree: JPEGImages/<video>/<frame>.jpg."""
    root = tmp_path / 'train_all_frames'
    for video, num in FRAMES.items():
        folder = root / 'JPEGImages' / video
        folder.mkdir(parents=True)
        for k in range(num):
            img = np.full((12, 16, 3), 10 * k, np.uint8)
            cv2.imwrite(str(folder / f'{5 * k:05d}.jpg'), img)
    (root / 'JPEGImages' / 'empty_video').mkdir()
    (root / 'JPEGImages' / '.hidden').mkdir()
    cv2.imwrite(
        str(root / 'JPEGImages' / '.hidden' / '00000.jpg'),
        np.zeros((4, 4, 3), np.uint8))
    return root


def test_frames_grouped_by_sorted_video(video_root, monkeypatch):
    messages = []
    monkeypatch.setattr('mmhvc.datasets.video_frame.print_log',
                        lambda msg, **kwargs: messages.append(msg))
    dataset = VideoFrameDataset(data_root=str(video_root))
    assert len(dataset) == sum(FRAMES.values())
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert [info['video_name'] for info in infos
            ] == (['vid_a'] * 3 + ['vid_b'] * 10 + ['vid_c'] * 6)
    assert [info['frame_idx'] for info in infos[:3]] == [0, 1, 2]
    assert infos[4]['img_path'] == osp.join(
        str(video_root), 'JPEGImages', 'vid_b', '00005.jpg')
    groups = dataset.video_frame_indices()
    assert groups == [
        list(range(0, 3)),
        list(range(3, 13)),
        list(range(13, 19)),
    ]
    assert len(messages) == 1 and 'empty_video' in messages[0]


def test_video_list_file(video_root):
    (video_root / 'videos.txt').write_text('vid_c\n\nvid_a\n')
    dataset = VideoFrameDataset(
        data_root=str(video_root), ann_file='videos.txt')
    names = [
        dataset.get_data_info(i)['video_name'] for i in range(len(dataset))
    ]
    assert names == ['vid_c'] * 6 + ['vid_a'] * 3


def test_listed_video_errors(video_root):
    (video_root / 'missing.txt').write_text('vid_a\nvid_zzz\n')
    with pytest.raises(FileNotFoundError, match='vid_zzz'):
        VideoFrameDataset(data_root=str(video_root), ann_file='missing.txt')
    (video_root / 'empty.txt').write_text('empty_video\n')
    with pytest.raises(ValueError, match='empty_video'):
        VideoFrameDataset(data_root=str(video_root), ann_file='empty.txt')


def test_missing_and_empty_roots(tmp_path):
    with pytest.raises(FileNotFoundError, match='JPEGImages'):
        VideoFrameDataset(data_root=str(tmp_path / 'nowhere'))
    (tmp_path / 'JPEGImages' / 'no_frames').mkdir(parents=True)
    with pytest.raises(ValueError, match='JPEGImages'):
        VideoFrameDataset(data_root=str(tmp_path))


def test_item_is_two_views_of_one_frame(video_root):
    dataset = VideoFrameDataset(data_root=str(video_root), pipeline=PIPELINE)
    np.random.seed(0)
    item = dataset[0]
    assert item['inputs'].shape == (2, 3, 8, 8)
    assert item['inputs'].dtype == torch.uint8
    assert item['data_samples'].crop_boxes.shape == (2, 4)
    assert item['data_samples'].img_path.endswith(
        osp.join('vid_a', '00000.jpg'))


def test_corrupt_frame_is_named(video_root):
    bad = video_root / 'JPEGImages' / 'vid_a' / '00005.jpg'
    bad.write_bytes(b'broken')
    dataset = VideoFrameDataset(data_root=str(video_root), pipeline=PIPELINE)
    with pytest.raises(UnreadableImageError, match='00005.jpg'):
        dataset[1]


def test_runner_builds_a_video_frame_loader(video_root):
    loader = Runner.build_dataloader(
        dict(
            batch_size=4,
            num_workers=0,
            sampler=dict(type='VideoFrameSampler', max_frames_per_video=4),
            collate_fn=dict(type='pseudo_collate'),
            dataset=dict(
                type='VideoFrameDataset',
                data_root=str(video_root),
                data_prefix=dict(img_path='JPEGImages'),
                pipeline=PIPELINE)),
        seed=0)
    # 3 + 4 + 4 frames drawn per epoch, in batches of 4
    assert len(loader.sampler) == 11
    assert len(loader) == 3
    batch = next(iter(loader))
    assert len(batch['inputs']) == 4
    assert batch['inputs'][0].shape == (2, 3, 8, 8)
