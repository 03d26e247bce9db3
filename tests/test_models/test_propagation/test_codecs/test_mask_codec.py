import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from mmhvc.models.propagation.codecs import MaskCodec
from mmhvc.registry import LABEL_CODECS

HEIGHT, WIDTH = 8, 10


def sample(given_frames, masks, **metainfo):
    data_sample = BaseDataElement(
        metainfo=dict(seq_name='seq', given_frames=given_frames, **metainfo))
    data_sample.given_masks = torch.stack(masks)
    return data_sample


def mask_with(*boxes):
    mask = torch.zeros(HEIGHT, WIDTH, dtype=torch.uint8)
    for obj, (y0, y1, x0, x1) in boxes:
        mask[y0:y1, x0:x1] = obj
    return mask


def video(num=4):
    return torch.zeros(num, 3, HEIGHT, WIDTH, dtype=torch.uint8)


def test_registered():
    assert isinstance(LABEL_CODECS.build(dict(type='MaskCodec')), MaskCodec)


def test_read_splits_the_objects_into_groups():
    g0 = mask_with((1, (0, 4, 0, 5)), (5, (4, 8, 5, 10)))
    g2 = mask_with((1, (0, 4, 0, 5)), (7, (4, 8, 0, 5)))
    labels = MaskCodec().read(
        sample([0, 2], [g0, g2], given_object_ids=[[1, 5], [7]]), video(),
        'seq')
    assert labels.frames == [0, 2] and labels.num_labels == 4
    assert labels.group_ids == [[1, 5], [7]]
    assert labels.label_ids.tolist() == [0, 1, 5, 7]
    assert labels.label_ids.dtype == torch.uint8
    # the second mask keeps only the object first given there
    assert torch.equal(labels.masks[0], g0)
    assert torch.equal(labels.masks[1],
                       torch.where(g2 == 7, g2, torch.zeros_like(g2)))


def test_without_listed_ids_a_later_mask_gives_its_new_objects():
    g0 = mask_with((2, (0, 4, 0, 5)))
    g1 = mask_with((2, (0, 4, 0, 5)), (3, (4, 8, 5, 10)))
    labels = MaskCodec().read(sample([0, 1], [g0, g1]), video(), 'seq')
    assert labels.group_ids == [[2], [3]]


def test_first_group_is_one_hot_with_the_background():
    g0 = mask_with((1, (0, 4, 0, 5)), (5, (4, 8, 5, 10)))
    codec = MaskCodec()
    labels = codec.read(sample([0], [g0]), video(), 'seq')
    # a feature grid of the frame's own size: no resampling
    soft, channels = codec.encode(labels, 0, torch.zeros(2, HEIGHT, WIDTH))
    expected = np.stack([g0.numpy() == i for i in (0, 1, 5)])
    np.testing.assert_array_equal(soft.numpy(), expected.astype(np.float32))
    assert channels.flatten().tolist() == [1, 1, 1]


def test_later_group_gives_only_its_new_objects():
    g0 = mask_with((1, (0, 8, 0, 10)))
    g1 = mask_with((1, (0, 8, 0, 5)), (2, (0, 8, 5, 10)))
    codec = MaskCodec()
    labels = codec.read(sample([0, 1], [g0, g1]), video(), 'seq')
    given, channels = codec.encode(labels, 1, torch.zeros(2, HEIGHT, WIDTH))
    assert channels.flatten().tolist() == [0, 0, 1]
    # object 2 where it is given; no background, no earlier object
    expected = torch.zeros(3, HEIGHT, WIDTH)
    expected[2, :, 5:] = 1
    assert torch.equal(given, expected)


def test_decode_maps_the_argmax_to_object_ids():
    codec = MaskCodec()
    labels = codec.read(
        sample([0], [mask_with((4, (0, 2, 0, 2)), (9, (2, 4, 2, 4)))]),
        video(), 'seq')
    soft = torch.zeros(3, HEIGHT, WIDTH)
    soft[0] = 0.5
    soft[2, :, :3] = 0.9
    soft[1, 6:] = 0.8
    pred = codec.decode(labels, soft)['pred_masks']
    expected = torch.zeros(HEIGHT, WIDTH, dtype=torch.uint8)
    expected[6:] = 4
    expected[:, :3] = 9
    assert pred.dtype == torch.uint8 and torch.equal(pred, expected)


def test_given_outputs_write_the_given_objects():
    g0 = mask_with((1, (0, 4, 0, 10)))
    g1 = mask_with((1, (0, 4, 0, 10)), (2, (4, 8, 0, 3)))
    codec = MaskCodec()
    labels = codec.read(sample([0, 1], [g0, g1]), video(), 'seq')
    assert torch.equal(
        codec.given_outputs(labels, 0, None)['pred_masks'], g0)
    decoded = torch.ones(HEIGHT, WIDTH, dtype=torch.uint8)
    out = codec.given_outputs(labels, 1, dict(pred_masks=decoded))
    expected = torch.ones(HEIGHT, WIDTH, dtype=torch.uint8)
    expected[4:, :3] = 2
    assert torch.equal(out['pred_masks'], expected)
    empty = codec.empty_outputs(labels, 5)['pred_masks']
    assert empty.shape == (5, HEIGHT, WIDTH) and not empty.any()
    assert empty.dtype == torch.uint8


def test_bad_given_masks():
    codec = MaskCodec()
    g0 = mask_with((1, (2, 6, 2, 8)))
    no_masks = BaseDataElement(metainfo=dict(given_frames=[0]))
    with pytest.raises(KeyError, match='seq.*given_masks'):
        codec.read(no_masks, video(), 'seq')
    no_frames = BaseDataElement(given_masks=g0[None])
    with pytest.raises(KeyError, match='seq.*given_frames'):
        codec.read(no_frames, video(), 'seq')
    with pytest.raises(ValueError, match='frame 1 has no object'):
        codec.read(sample([0, 1], [g0, g0]), video(), 'seq')
    with pytest.raises(ValueError, match='must be sorted'):
        codec.read(sample([4], [g0]), video(), 'seq')
    with pytest.raises(ValueError, match='must be sorted'):
        codec.read(sample([1, 0], [g0, g0]), video(), 'seq')
    with pytest.raises(ValueError, match='do not match'):
        codec.read(sample([0], [g0], object_ids=[1, 2]), video(), 'seq')
    with pytest.raises(ValueError, match=r'objects \[3\] are listed'):
        codec.read(sample([0], [g0], given_object_ids=[[1, 3]]), video(),
                   'seq')
    with pytest.raises(ValueError, match=r'\(K, H, W\)'):
        codec.read(sample([0], [g0[:, :5]]), video(), 'seq')
