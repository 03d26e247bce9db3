import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from mmhvc.datasets.transforms import PackCropPairInputs
from mmhvc.registry import TRANSFORMS


def crop_pair_results() -> dict:
    rng = np.random.default_rng(0)
    return dict(
        img=rng.integers(0, 256, (2, 4, 5, 3), dtype=np.uint8),
        crop_boxes=np.array([[0, 0, 1, 1], [0.25, 0.5, 0.75, 1.0]],
                            dtype=np.float32),
        img_path='data/coco/train2017/1.jpg',
        ori_shape=(30, 40),
        img_shape=(4, 5))


def test_registered():
    assert isinstance(
        TRANSFORMS.build(dict(type='PackCropPairInputs')), PackCropPairInputs)


def test_pack():
    results = crop_pair_results()
    packed = PackCropPairInputs()(dict(results))
    inputs = packed['inputs']
    assert inputs.dtype == torch.uint8
    assert inputs.shape == (2, 3, 4, 5)
    # inputs[v, c, y, x] == img[v, y, x, c]
    for v in range(2):
        for c in range(3):
            assert np.array_equal(inputs[v, c].numpy(), results['img'][v, ...,
                                                                       c])
    sample = packed['data_samples']
    assert isinstance(sample, BaseDataElement)
    assert sample.crop_boxes.dtype == torch.float32
    assert torch.equal(sample.crop_boxes,
                       torch.from_numpy(results['crop_boxes']))
    assert sample.img_path == results['img_path']
    assert sample.ori_shape == (30, 40)
    assert sample.img_shape == (4, 5)
    assert 'crop_boxes' in sample.keys()
    assert set(
        sample.metainfo_keys()) == {'img_path', 'ori_shape', 'img_shape'}


def test_custom_meta_keys():
    packed = PackCropPairInputs(meta_keys=('img_path', ))(crop_pair_results())
    assert set(packed['data_samples'].metainfo_keys()) == {'img_path'}


@pytest.mark.parametrize('missing', ['img', 'crop_boxes', 'ori_shape'])
def test_missing_key_is_named(missing):
    results = crop_pair_results()
    del results[missing]
    with pytest.raises(KeyError, match=missing):
        PackCropPairInputs()(results)


def test_bad_shapes():
    results = crop_pair_results()
    results['img'] = results['img'][0]
    with pytest.raises(ValueError, match='img'):
        PackCropPairInputs()(results)
    results = crop_pair_results()
    results['crop_boxes'] = np.zeros((1, 4), np.float32)
    with pytest.raises(ValueError, match='crop_boxes'):
        PackCropPairInputs()(results)
