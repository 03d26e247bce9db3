import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

from mmhvc.datasets import YouTubeVOSDataset
from mmhvc.datasets.palette import write_indexed_png
from mmhvc.utils import register_all_modules

PIPELINE = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadVideoAnnotations'),
    dict(type='PackVideoInputs'),
]

register_all_modules()

SIZE = (12, 20)


def first_mask():
    mask = np.zeros(SIZE, dtype=np.uint8)
    mask[1:5, 1:6] = 1
    return mask


def second_mask():
    """At frame 00010 object 2 appears; object 1 is still drawn there."""
    mask = first_mask()
    mask[6:11, 10:18] = 2
    return mask


def write_frames(folder, stems):
    os.makedirs(folder, exist_ok=True)
    for i, stem in enumerate(stems):
        frame = np.full(SIZE + (3, ), 15 * i, dtype=np.uint8)
        assert cv2.imwrite(osp.join(folder, stem + '.jpg'), frame)


@pytest.fixture
def ytvos_root(tmp_path):
    """Video 'b' has object 1 from 00000 and object 2 from 00010; video 'a'
    has one object from its first frame."""
    root = str(tmp_path / 'ytvos')
    stems = ['00000', '00005', '00010', '00015']
    write_frames(osp.join(root, 'valid', 'JPEGImages', 'b'), stems)
    write_frames(osp.join(root, 'valid', 'JPEGImages', 'a'), stems[:2])
    all_stems = [f'{i:05d}' for i in range(16)]
    write_frames(
        osp.join(root, 'valid_all_frames', 'JPEGImages', 'b'), all_stems)
    write_frames(
        osp.join(root, 'valid_all_frames', 'JPEGImages', 'a'), all_stems[:6])
    ann = osp.join(root, 'valid', 'Annotations')
    write_indexed_png(osp.join(ann, 'b', '00000.png'), first_mask())
    write_indexed_png(osp.join(ann, 'b', '00010.png'), second_mask())
    write_indexed_png(osp.join(ann, 'a', '00000.png'), first_mask() * 4)
    meta = dict(videos=dict(
        b=dict(objects={
            '1': dict(category='person', frames=['00000', '00005']),
            '2': dict(category='dog', frames=['00010', '00015']),
        }),
        a=dict(objects={'4': dict(category='cat', frames=['00000'])})))
    with open(osp.join(root, 'valid', 'meta.json'), 'w') as f:
        json.dump(meta, f)
    return root


def test_ytvos_sparse_frames_items(ytvos_root):
    dataset = YouTubeVOSDataset(data_root=ytvos_root, all_frames=False)
    assert [dataset.get_data_info(i)['seq_name'] for i in range(2)] == \
        ['a', 'b']
    info = dataset.get_data_info(1)
    assert info['frame_names'] == ['00000', '00005', '00010', '00015']
    assert info['given_frames'] == [0, 2]
    assert info['given_object_ids'] == [[1], [2]]
    assert info['given_ann_paths'][1] == osp.join(ytvos_root, 'valid',
                                                  'Annotations', 'b',
                                                  '00010.png')
    assert info['gt_ann_paths'] is None
    assert info['eval_frames'] == ['00000', '00005', '00010', '00015']
    assert info['object_categories'] == {1: 'person', 2: 'dog'}
    assert dataset.get_data_info(0)['eval_frames'] == ['00000']


def test_ytvos_pipeline_keeps_only_new_objects(ytvos_root):
    dataset = YouTubeVOSDataset(
        data_root=ytvos_root, all_frames=False, pipeline=PIPELINE)
    item = dataset[1]
    assert item['inputs'].shape == (4, 3) + SIZE
    sample = item['data_samples']
    assert 'gt_masks' not in sample
    assert sample.object_ids == [1, 2]
    assert sample.given_frames == [0, 2]
    assert sample.given_object_ids == [[1], [2]]
    given = sample.given_masks.numpy()
    np.testing.assert_array_equal(given[0], first_mask())
    # Object 1 is drawn in 00010.png too, but only object 2 is given there:
    # the rest of that frame is void (not given).
    expected = np.where(second_mask() == 2, 2, 255)
    np.testing.assert_array_equal(given[1], expected)
    assert sample.eval_frames == ['00000', '00005', '00010', '00015']


def test_ytvos_all_frames_by_default(ytvos_root):
    dataset = YouTubeVOSDataset(data_root=ytvos_root)
    info = dataset.get_data_info(1)
    assert info['frame_names'] == [f'{i:05d}' for i in range(16)]
    assert info['frame_paths'][7] == osp.join(ytvos_root, 'valid_all_frames',
                                              'JPEGImages', 'b', '00007.jpg')
    assert info['given_frames'] == [0, 10]
    assert info['given_ann_paths'][1] == osp.join(ytvos_root, 'valid',
                                                  'Annotations', 'b',
                                                  '00010.png')
    assert info['eval_frames'] == ['00000', '00005', '00010', '00015']
    # An explicit frame folder wins.
    dataset = YouTubeVOSDataset(
        data_root=ytvos_root, frames_dir='valid/JPEGImages')
    assert len(dataset.get_data_info(1)['frame_names']) == 4


def test_ytvos_missing_all_frames_folder(ytvos_root):
    shutil.rmtree(osp.join(ytvos_root, 'valid_all_frames'))
    with pytest.raises(
            FileNotFoundError,
            match=r'all-frames folder not found: .*valid_all_frames.'
            r'JPEGImages.*all_frames=False'):
        YouTubeVOSDataset(data_root=ytvos_root)
    assert len(YouTubeVOSDataset(data_root=ytvos_root, all_frames=False)) == 2
    with pytest.raises(FileNotFoundError, match='frame folder not found: '
                       '.*elsewhere'):
        YouTubeVOSDataset(data_root=ytvos_root, frames_dir='elsewhere')


def test_ytvos_missing_frame(ytvos_root):
    os.remove(osp.join(ytvos_root, 'valid', 'JPEGImages', 'b', '00005.jpg'))
    with pytest.raises(FileNotFoundError, match='"b".*"00005"'):
        YouTubeVOSDataset(data_root=ytvos_root, all_frames=False)
    os.remove(
        osp.join(ytvos_root, 'valid_all_frames', 'JPEGImages', 'b',
                 '00010.jpg'))
    with pytest.raises(FileNotFoundError, match='"b".*"00010"'):
        YouTubeVOSDataset(data_root=ytvos_root)


def test_ytvos_missing_meta(tmp_path):
    with pytest.raises(FileNotFoundError, match='meta.json'):
        YouTubeVOSDataset(data_root=str(tmp_path))


def test_ytvos_missing_given_annotation(ytvos_root):
    os.remove(osp.join(ytvos_root, 'valid', 'Annotations', 'b', '00010.png'))
    with pytest.raises(FileNotFoundError, match=r'b.00010\.png'):
        YouTubeVOSDataset(data_root=ytvos_root)


def test_ytvos_object_absent_from_its_first_frame(ytvos_root):
    write_indexed_png(
        osp.join(ytvos_root, 'valid', 'Annotations', 'b', '00010.png'),
        first_mask())
    dataset = YouTubeVOSDataset(data_root=ytvos_root, pipeline=PIPELINE)
    with pytest.raises(ValueError, match=r'b.00010\.png.*\[2\]'):
        dataset[1]


@pytest.mark.parametrize('meta, message', [
    ('not json', 'YouTube-VOS meta file'),
    ('{"videos": {"b": {"objects": {"x": {"frames": ["00000"]}}}}}',
     'object key "x"'),
    ('{"videos": {"b": {"objects": {"1": {"frames": []}}}}}',
     'object 1: no "frames"'),
    ('{"videos": {"zz": {"objects": {"1": {"frames": ["00000"]}}}}}',
     'video "zz": no'),
])
def test_ytvos_bad_meta(ytvos_root, meta, message):
    with open(osp.join(ytvos_root, 'valid', 'meta.json'), 'w') as f:
        f.write(meta)
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        YouTubeVOSDataset(data_root=ytvos_root)
