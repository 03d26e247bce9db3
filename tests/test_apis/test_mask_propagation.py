"""Corrections, backward and two-way runs of the mask propagation API."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from mmhvc.apis import (MaskPropagation, init_model, propagate_mask,
                        propagate_masks)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'propagation', 'demo_davis_r18.py')
SIZE = (48, 64)
NUM_FRAMES = 8


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    # a short context, so that long-term frames matter within 8 frames
    return init_model(
        CONFIG, cfg_options={'model.propagator.context_size': 2})


@pytest.fixture(scope='module')
def clip():
    """Frames of two textured squares moving right, and per frame their
    true label map (ids 1 and 2)."""
    rng = np.random.default_rng(0)
    background = rng.integers(0, 100, SIZE + (3, ), dtype=np.uint8)
    textures = rng.integers(130, 256, (2, 16, 16, 3), dtype=np.uint8)
    frames, masks = [], []
    for t in range(NUM_FRAMES):
        frame, mask = background.copy(), np.zeros(SIZE, np.uint8)
        for k, (y, x) in enumerate([(4, 4 + 2 * t), (26, 40 - 2 * t)]):
            frame[y:y + 16, x:x + 16] = textures[k]
            mask[y:y + 16, x:x + 16] = k + 1
        frames.append(frame)
        masks.append(mask)
    return frames, masks


def test_first_frame_run_equals_the_model_propagation(model, clip):
    frames, masks = clip
    video = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)
    object_ids = [int(i) for i in np.unique(masks[0]) if 0 < i < 255]
    sample = BaseDataElement(
        metainfo=dict(given_frames=[0], object_ids=object_ids),
        given_masks=torch.from_numpy(masks[0])[None])
    expected = model.propagate_video(video, sample)['pred_masks'].numpy()
    np.testing.assert_array_equal(propagate_mask(model, frames, masks[0]),
                                  expected)
    with_void = masks[0].copy()
    with_void[:2] = 255
    out = propagate_masks(model, frames, {0: with_void})
    assert out[0, :2].max() == 0


def test_a_correction_restarts_the_pass_and_keeps_earlier_frames(
        model, clip):
    frames, masks = clip
    plain = propagate_masks(model, frames, {0: masks[0]})
    # frame 4 corrected: the first square is object 2 from there on
    corrected = np.where(masks[4] == 1, 2, 0).astype(np.uint8)
    annotations = {0: masks[0], 4: corrected}
    once = propagate_masks(model, frames, annotations)
    np.testing.assert_array_equal(once[:4], plain[:4])
    np.testing.assert_array_equal(once[4], corrected)
    assert not np.array_equal(once[5:], plain[5:])

    runner = MaskPropagation(model, frames)
    np.testing.assert_array_equal(runner.run({0: masks[0]}), plain)
    seen = []
    again = runner.run(annotations, progress=seen.append)
    assert seen == [4, 5, 6, 7]
    np.testing.assert_array_equal(again, once)
    # an unchanged run computes nothing
    assert list(runner.iter_run(annotations)) == []
    np.testing.assert_array_equal(runner.masks, once)


def test_a_new_object_in_a_correction_reruns_the_whole_pass(model, clip):
    frames, masks = clip
    added = masks[3].copy()
    added[added == 1] = 5
    annotations = {0: masks[0], 3: added}
    runner = MaskPropagation(model, frames)
    runner.run({0: masks[0]})
    seen = []
    out = runner.run(annotations, progress=seen.append)
    assert seen == list(range(NUM_FRAMES))
    np.testing.assert_array_equal(out,
                                  propagate_masks(model, frames, annotations))
    assert (out[3] == 5).any() and not (out[:3] == 5).any()


def test_backward_run_equals_a_forward_run_on_the_reversed_video(
        model, clip):
    frames, masks = clip
    last = NUM_FRAMES - 1
    out = propagate_masks(model, frames, {last: masks[last]}, 'backward')
    reverse = propagate_mask(model, frames[::-1], masks[last])
    np.testing.assert_array_equal(out, reverse[::-1])
    # with a correction at frame 2, reached after frames 7 .. 3
    annotations = {last: masks[last], 2: masks[2]}
    out = propagate_masks(model, frames, annotations, 'backward')
    reverse = propagate_masks(model, frames[::-1], {
        0: masks[last],
        last - 2: masks[2]
    })
    np.testing.assert_array_equal(out, reverse[::-1])


def test_both_directions_from_a_middle_frame(model, clip):
    frames, masks = clip
    out = propagate_masks(model, frames, {3: masks[3]}, 'both')
    forward = propagate_mask(model, frames[3:], masks[3])
    backward = propagate_mask(model, frames[3::-1], masks[3])
    np.testing.assert_array_equal(out[3:], forward)
    np.testing.assert_array_equal(out[:4], backward[::-1])
    # a correction on each side; forward-only leaves frames before 3 empty
    annotations = {3: masks[3], 1: masks[1], 6: masks[6]}
    both = propagate_masks(model, frames, annotations, 'both', start=3)
    runner = MaskPropagation(model, frames)
    runner.run({3: masks[3]}, 'both')
    seen = []
    np.testing.assert_array_equal(
        runner.run(annotations, 'both', 3, seen.append), both)
    assert sorted(seen) == [0, 1, 6, 7]
    only_forward = propagate_masks(model, frames, {3: masks[3]}, 'forward')
    assert not only_forward[:3].any()
    np.testing.assert_array_equal(only_forward[3:], forward)


def test_a_stopped_run_goes_on_where_it_stopped(model, clip):
    frames, masks = clip
    runner = MaskPropagation(model, frames)
    run = runner.iter_run({0: masks[0]})
    assert [next(run), next(run), next(run)] == [0, 1, 2]
    run.close()
    assert not runner.masks[3:].any()
    seen = []
    out = runner.run({0: masks[0]}, progress=seen.append)
    assert seen == list(range(3, NUM_FRAMES))
    np.testing.assert_array_equal(out, propagate_mask(model, frames,
                                                      masks[0]))


def test_settings_and_processing_size(model, clip):
    frames, masks = clip
    settings = dict(context_size=1, topk=3, radius=4, temperature=0.5)
    out = propagate_masks(model, frames, {0: masks[0]}, settings=settings)
    configured = init_model(
        CONFIG,
        cfg_options={f'model.propagator.{k}': v
                     for k, v in settings.items()})
    configured.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(
        out, propagate_mask(configured, frames, masks[0]))
    assert model.propagator.topk == 15

    runner = MaskPropagation(model, frames, short_side=24)
    assert runner.encode_size == (24, 32)
    assert tuple(runner.feature(0).shape[1:]) == (3, 4)
    assert runner.run({0: masks[0]}).shape == (NUM_FRAMES, *SIZE)
    assert MaskPropagation(model, frames, short_side=480).encode_size == SIZE


@pytest.mark.parametrize('args, message', [
    (dict(annotations={}), 'no annotated frame'),
    (dict(annotations={9: None}), 'outside the video'),
    (dict(annotations={0: np.zeros((4, 4), np.uint8)}), 'frame size'),
    (dict(direction='sideways'), 'direction must be one of'),
    (dict(start=5), 'start frame 5 has no annotation'),
    (dict(annotations={0: 'empty'}), 'mask of the start frame 0 is empty'),
    (dict(annotations={1: 'first', 4: 'first'}, start=4),
     r'annotated frames \[1\] come before the start frame 4'),
    (dict(annotations={1: 'first', 4: 'first'}, start=1,
          direction='backward'),
     r'annotated frames \[4\] come after the start frame 1'),
    (dict(settings=dict(k=3)), 'unknown propagation setting "k"'),
])
def test_bad_input_is_named(model, clip, args, message):
    frames, masks = clip
    named = {'first': masks[0], 'empty': np.zeros(SIZE, np.uint8)}
    annotations = {
        t: named.get(m, m) if isinstance(m, str) else m
        for t, m in args.pop('annotations', {0: masks[0]}).items()
    }
    with pytest.raises(ValueError, match=message):
        propagate_masks(model, frames, annotations, **args)
