import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from mmhvc.datasets.palette import davis_palette, write_indexed_png
from mmhvc.datasets.transforms.formatting_video import PackVideoInputs
from mmhvc.datasets.transforms.video import (LoadVideoAnnotations,
                                             LoadVideoFrames)

H, W = 10, 14


def write_frames(folder, num, size=(H, W)):
    rng = np.random.default_rng(0)
    paths = []
    for t in range(num):
        path = osp.join(folder, f'{t:05d}.png')
        assert cv2.imwrite(path, rng.integers(0, 256, size + (3, ),
                                              dtype=np.uint8))
        paths.append(path)
    return paths


def write_masks(folder, labels, stems=None):
    paths = []
    for t, label in enumerate(labels):
        path = osp.join(folder, f'{t if stems is None else stems[t]:05d}.png')
        write_indexed_png(path, label)
        paths.append(path)
    return paths


def labels(num):
    maps = np.zeros((num, H, W), dtype=np.uint8)
    for t in range(num):
        maps[t, 1:4, t:t + 3] = 2
        maps[t, 5:9, 6:10] = 7
        maps[t, 9, :] = 255
    return maps


def test_load_video_frames(tmp_path):
    paths = write_frames(str(tmp_path), 3)
    results = LoadVideoFrames()(dict(frame_paths=paths))
    assert results['img'].dtype == np.uint8
    assert results['img'].shape == (3, H, W, 3)
    assert results['ori_shape'] == results['img_shape'] == (H, W)
    for t, path in enumerate(paths):
        np.testing.assert_array_equal(results['img'][t], cv2.imread(path))


def test_load_video_frames_errors(tmp_path):
    paths = write_frames(str(tmp_path), 2)
    corrupt = str(tmp_path / 'corrupt.jpg')
    with open(corrupt, 'wb') as f:
        f.write(b'\xff\xd8 not really a jpeg')
    with pytest.raises(ValueError, match='corrupt.jpg'):
        LoadVideoFrames()(dict(frame_paths=paths + [corrupt]))
    with pytest.raises(FileNotFoundError, match='missing.jpg'):
        LoadVideoFrames()(dict(frame_paths=[str(tmp_path / 'missing.jpg')]))
    big = str(tmp_path / 'big.png')
    cv2.imwrite(big, np.zeros((H + 1, W, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match='big.png is 14x11'):
        LoadVideoFrames()(dict(frame_paths=paths + [big]))
    with pytest.raises(KeyError, match='frame_paths'):
        LoadVideoFrames()(dict())


def annotation_results(tmp_path, num=3, gt=True):
    maps = labels(num)
    paths = write_masks(str(tmp_path / 'ann'), maps)
    return maps, dict(
        seq_name='seq',
        frame_paths=[f'{t:05d}.jpg' for t in range(num)],
        ori_shape=(H, W),
        given_ann_paths=paths[:1],
        gt_ann_paths=paths if gt else None)


def test_load_video_annotations(tmp_path):
    maps, results = annotation_results(tmp_path)
    results = LoadVideoAnnotations()(results)
    given = maps[:1].copy()
    given[given == 255] = 0
    np.testing.assert_array_equal(results['given_masks'], given)
    np.testing.assert_array_equal(results['gt_masks'], maps)
    assert results['gt_masks'].dtype == np.uint8
    assert results['object_ids'] == [2, 7]
    assert results['given_object_ids'] == [[2, 7]]
    np.testing.assert_array_equal(results['palette'], davis_palette())


def test_load_video_annotations_single_object(tmp_path):
    maps, results = annotation_results(tmp_path)
    results['single_object'] = True
    results = LoadVideoAnnotations()(results)
    assert results['object_ids'] == [1]
    expected = maps.copy()
    expected[(maps > 0) & (maps < 255)] = 1
    np.testing.assert_array_equal(results['gt_masks'], expected)
    assert set(np.unique(results['given_masks'])) == {0, 1}


def test_load_video_annotations_given_object_ids(tmp_path):
    maps, results = annotation_results(tmp_path, gt=False)
    results['given_object_ids'] = [[7]]
    results = LoadVideoAnnotations()(results)
    np.testing.assert_array_equal(results['given_masks'][0],
                                  np.where(maps[0] == 7, 7, 0))
    assert results['object_ids'] == [7]
    assert 'gt_masks' not in results

    _, results = annotation_results(tmp_path, gt=False)
    results['given_object_ids'] = [[7, 9]]
    with pytest.raises(ValueError, match=r'00000\.png.*\[9\]'):
        LoadVideoAnnotations()(results)


def test_load_video_annotations_errors(tmp_path):
    _, results = annotation_results(tmp_path)
    small = str(tmp_path / 'small.png')
    write_indexed_png(small, np.zeros((H, W - 1), dtype=np.uint8))
    results['gt_ann_paths'][1] = small
    with pytest.raises(ValueError, match='small.png is 13x10'):
        LoadVideoAnnotations()(results)

    _, results = annotation_results(tmp_path)
    rgb = str(tmp_path / 'rgb.png')
    cv2.imwrite(rgb, np.zeros((H, W, 3), dtype=np.uint8))
    results['given_ann_paths'] = [rgb]
    with pytest.raises(ValueError, match='rgb.png is a "RGB" mode'):
        LoadVideoAnnotations()(results)

    _, results = annotation_results(tmp_path)
    results['gt_ann_paths'] = results['gt_ann_paths'][:2]
    with pytest.raises(ValueError, match='2 ground-truth annotations for 3'):
        LoadVideoAnnotations()(results)

    _, results = annotation_results(tmp_path)
    del results['ori_shape']
    with pytest.raises(KeyError, match='LoadVideoFrames'):
        LoadVideoAnnotations()(results)


def test_pack_video_inputs():
    rng = np.random.default_rng(1)
    video = rng.integers(0, 256, (2, H, W, 3), dtype=np.uint8)
    gt = rng.integers(0, 3, (2, H, W), dtype=np.uint8)
    results = dict(
        img=video,
        given_masks=gt[:1],
        gt_masks=gt,
        seq_name='s',
        frame_names=['00000', '00001'],
        ori_shape=(H, W),
        object_ids=[1, 2],
        given_frames=[0],
        palette=None,
        unrelated='dropped')
    packed = PackVideoInputs()(results)
    inputs = packed['inputs']
    assert inputs.dtype == torch.uint8 and inputs.shape == (2, 3, H, W)
    # Channel c of frame t at (y, x) is the BGR value video[t, y, x, c].
    assert inputs[1, 2, 3, 4] == video[1, 3, 4, 2]
    np.testing.assert_array_equal(inputs.numpy(), video.transpose(0, 3, 1, 2))
    sample = packed['data_samples']
    assert isinstance(sample, BaseDataElement)
    assert sample.given_masks.dtype == torch.uint8
    np.testing.assert_array_equal(sample.gt_masks.numpy(), gt)
    assert sample.seq_name == 's' and sample.object_ids == [1, 2]
    assert sample.palette is None
    assert 'unrelated' not in sample.metainfo_keys()

    packed = PackVideoInputs(meta_keys=('seq_name', ))(
        dict(img=video, seq_name='s', split='val'))
    assert packed['data_samples'].metainfo_keys() == ['seq_name']
    assert 'gt_masks' not in packed['data_samples']
    with pytest.raises(KeyError, match='img'):
        PackVideoInputs()(dict(seq_name='s'))
