import numpy as np
import pytest
import torch

from mmhvc.models.propagation.codecs import (MaskCodec, masks_to_soft,
                                             soft_to_masks)
from mmhvc.registry import LABEL_CODECS

HEIGHT, WIDTH = 8, 10
VOID = 255


def meta(object_ids):
    return dict(
        seq_name='seq',
        object_ids=object_ids,
        frame_shape=(HEIGHT, WIDTH),
        ori_shape=(HEIGHT, WIDTH))


def mask_with(*boxes, fill=0):
    mask = torch.full((HEIGHT, WIDTH), fill, dtype=torch.uint8)
    for obj, (y0, y1, x0, x1) in boxes:
        mask[y0:y1, x0:x1] = obj
    return mask


def test_registered():
    assert isinstance(LABEL_CODECS.build(dict(type='MaskCodec')), MaskCodec)
    assert MaskCodec.given_keys == ('given_masks', )


def test_first_mask_is_one_hot_with_the_background():
    g0 = mask_with((1, (0, 4, 0, 5)), (5, (4, 8, 5, 10)))
    # a feature grid of the frame's own size: no resampling
    soft = MaskCodec().encode(dict(given_masks=g0), meta([1, 5]),
                              (HEIGHT, WIDTH))
    expected = np.stack([g0.numpy() == i for i in (0, 1, 5)])
    np.testing.assert_array_equal(soft.numpy(), expected.astype(np.float32))


def test_later_mask_carries_only_its_new_objects():
    # object 2 first given here; the rest of the frame is void
    g1 = mask_with((2, (0, 8, 5, 10)), fill=VOID)
    soft = MaskCodec().encode(dict(given_masks=g1), meta([1, 2]),
                              (HEIGHT, WIDTH))
    expected = torch.zeros(3, HEIGHT, WIDTH)
    expected[2, :, 5:] = 1
    assert torch.equal(soft, expected)


def test_soft_labels_are_resized_with_aligned_corners():
    mask = torch.zeros(5, 5, dtype=torch.uint8)
    mask[:, 4] = 3
    soft = masks_to_soft(mask, [0, 3], (3, 3))
    # the grid's columns sample the mask's columns 0, 2 and 4
    np.testing.assert_allclose(soft[1].numpy(), [[0, 0, 1]] * 3)
    np.testing.assert_allclose(soft.sum(0).numpy(), np.ones((3, 3)))


def test_decode_maps_the_argmax_to_object_ids():
    soft = torch.zeros(3, HEIGHT, WIDTH)
    soft[0] = 0.5
    soft[2, :, :3] = 0.9
    soft[1, 6:] = 0.8
    pred = MaskCodec().decode(soft, meta([4, 9]))['pred_masks']
    expected = torch.zeros(HEIGHT, WIDTH, dtype=torch.uint8)
    expected[6:] = 4
    expected[:, :3] = 9
    assert pred.dtype == torch.uint8 and torch.equal(pred, expected)
    assert torch.equal(
        soft_to_masks(soft, torch.tensor([0, 4, 9], dtype=torch.uint8),
                      (HEIGHT, WIDTH)), expected)


def test_given_objects_are_written_over_the_decoded_ones():
    codec = MaskCodec()
    g0 = mask_with((1, (0, 4, 0, 10)), (VOID, (4, 5, 0, 2)))
    # the first given frame: its mask, void as background
    first = codec.decode(None, meta([1, 2]),
                         dict(given_masks=g0))['pred_masks']
    assert torch.equal(first, torch.where(g0 == VOID, 0, g0))
    # a later one: its objects over the propagated labels (all object 1)
    soft = torch.zeros(3, HEIGHT, WIDTH)
    soft[1] = 1
    g1 = mask_with((2, (4, 8, 0, 3)), fill=VOID)
    out = codec.decode(soft, meta([1, 2]), dict(given_masks=g1))
    expected = torch.ones(HEIGHT, WIDTH, dtype=torch.uint8)
    expected[4:, :3] = 2
    assert torch.equal(out['pred_masks'], expected)
    # all-zero labels decode to background
    empty = codec.decode(torch.zeros(3, 2, 2), meta([1, 2]))['pred_masks']
    assert empty.shape == (HEIGHT, WIDTH) and not empty.any()


def test_object_ids_and_the_frame_size_are_needed():
    with pytest.raises(KeyError, match='seq: the metainfo has no'):
        MaskCodec().encode(
            dict(given_masks=mask_with()),
            dict(seq_name='seq', frame_shape=(HEIGHT, WIDTH)), (2, 2))
    with pytest.raises(ValueError, match=r'seq: a given mask is \(8, 5\)'):
        MaskCodec().encode(
            dict(given_masks=mask_with()[:, :5]), meta([1]), (2, 2))


# DINO's resampling, against PIL's nearest-neighbour resize and a
# channel-by-channel normalisation written out here


def test_dino_encoding_samples_the_mask_at_cell_centres():
    from PIL import Image
    rng = np.random.default_rng(0)
    mask = rng.choice([0, 2, 7], size=(37, 53)).astype(np.uint8)
    grid = (6, 9)
    soft = MaskCodec(resampling='dino').encode(
        dict(given_masks=torch.from_numpy(mask)),
        dict(meta([2, 7]), frame_shape=mask.shape), grid)
    small = np.array(
        Image.fromarray(mask).resize(grid[::-1], Image.NEAREST))
    expected = np.stack([small == i for i in (0, 2, 7)]).astype(np.float32)
    np.testing.assert_array_equal(soft.numpy(), expected)


def test_dino_decoding_normalises_each_channel_then_resizes_the_argmax():
    from PIL import Image
    torch.manual_seed(0)
    soft = torch.rand(3, 5, 7)
    soft[2] *= 0.2  # a weak channel that the rescaling lifts
    soft[1] = 0.  # an empty channel stays as it is
    input_shape, frame_shape = (40, 56), (40, 61)
    out = MaskCodec(resampling='dino').decode(
        soft, dict(meta([3, 4]), frame_shape=frame_shape,
                   input_shape=input_shape))['pred_masks']

    up = torch.nn.functional.interpolate(
        soft[None], scale_factor=8, mode='bilinear',
        align_corners=False)[0]
    for c in range(3):
        if up[c].max() > 0:
            up[c] = (up[c] - up[c].min()) / (up[c] - up[c].min()).max()
    index = up.argmax(0).numpy().astype(np.uint8)
    index = np.array(
        Image.fromarray(index).resize(frame_shape[::-1], Image.NEAREST))
    expected = np.array([0, 3, 4], dtype=np.uint8)[index]
    np.testing.assert_array_equal(out.numpy(), expected)
    # the rescaling changes the answer: plain argmax differs somewhere
    plain = MaskCodec().decode(soft, dict(meta([3, 4]),
                                          frame_shape=frame_shape))
    assert not torch.equal(plain['pred_masks'], out)


def test_unknown_resampling_is_refused():
    with pytest.raises(ValueError, match='resampling'):
        MaskCodec(resampling='bicubic')
