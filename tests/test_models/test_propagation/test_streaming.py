import pytest
import torch
import torch.nn.functional as F

from mmhvc.models.propagation import LabelPropagator, StreamingPropagator

torch.set_num_threads(1)


def smooth_video(num, channels, height, width, seed=0):
    """Features that drift slowly over frames, and one-hot labels of a
    3-channel map for the first frame."""
    generator = torch.Generator().manual_seed(seed)
    base = torch.randn(channels, height, width, generator=generator,
                       dtype=torch.float64)
    steps = torch.randn(num, channels, height, width, generator=generator,
                        dtype=torch.float64)
    feats = F.normalize(base + 0.2 * steps.cumsum(0), dim=1)
    ids = torch.randint(0, 3, (height, width), generator=generator)
    labels = F.one_hot(ids, 3).permute(2, 0, 1).to(torch.float64)
    return feats, labels


def test_steps_equal_propagation_from_explicit_contexts():
    # The stream keeps each frame's soft labels as context: every step is
    # the propagator on its context with the labels the stream returned.
    feats, labels = smooth_video(9, 8, 6, 7)
    propagator = LabelPropagator(radius=3, topk=5, context_size=3)
    stream = StreamingPropagator(propagator)
    outputs = [stream.start(feats[0], labels)]
    for t in range(1, 9):
        outputs.append(stream.step(feats[t]))
        context = propagator.context_indices(0, t)
        expected = propagator(feats[t], feats[context],
                              torch.stack([outputs[i] for i in context]))
        torch.testing.assert_close(outputs[t], expected, rtol=0, atol=1e-12)
    assert stream.num_frames == 9
    # the memory holds the long-term frame and the last context_size frames
    assert sorted(stream.memory.frames) == [0, 6, 7, 8]


def test_labels_given_later_blend_in_and_start_a_group():
    feats, labels = smooth_video(5, 8, 6, 7)
    propagator = LabelPropagator(radius=3, topk=5, context_size=2)
    stream = StreamingPropagator(propagator)
    stream.start(feats[0], labels)
    soft_1 = stream.step(feats[1])
    # a new object in channel 2 over the left half of frame 2, given with a
    # share of 0.75 there
    given = torch.zeros(3, 6, 7, dtype=torch.float64)
    given[2, :, :3] = 0.75
    channels = torch.tensor([0., 0., 1.], dtype=torch.float64).view(3, 1, 1)
    soft = stream.step(feats[2], given, channels)
    propagated = stream.propagated
    torch.testing.assert_close(soft[:, :, :3],
                               0.25 * propagated[:, :, :3] + 0.75 * given[
                                   :, :, :3])
    assert torch.equal(soft[:, :, 3:], propagated[:, :, 3:])
    # frame 3: the first group predicts every channel, the new group only
    # channel 2, from its own context (frame 2 as long-term frame)
    out = stream.step(feats[3])
    first = propagator(feats[3], feats[[0, 1, 2]],
                       torch.stack([labels, soft_1, soft]))
    second = propagator(feats[3], feats[[2, 2, 2]],
                        soft.expand(3, -1, -1, -1))
    torch.testing.assert_close(out, first + channels * second, rtol=0,
                               atol=1e-12)


def test_memory_grows_for_groups_beyond_the_reserved_ones():
    feats, labels = smooth_video(6, 4, 3, 3)
    propagator = LabelPropagator(radius=2, topk=3, context_size=2)
    stream = StreamingPropagator(propagator, num_long_term=1)
    stream.start(feats[0], labels)
    for t in (1, 2, 3):
        stream.step(feats[t], labels, None)
    assert stream.memory.capacity == 2 + 4
    assert sorted(stream.memory.frames) == [0, 1, 2, 3]


def test_encoder_maps_frames_to_features():
    feats, labels = smooth_video(3, 4, 3, 3)
    frames = torch.arange(3)
    propagator = LabelPropagator(radius=2, topk=3)
    with_encoder = StreamingPropagator(propagator, lambda i: feats[i])
    without = StreamingPropagator(propagator)
    assert torch.equal(with_encoder.start(frames[0], labels),
                       without.start(feats[0], labels))
    for t in (1, 2):
        assert torch.equal(with_encoder.step(frames[t]),
                           without.step(feats[t]))


def test_bad_steps_are_errors():
    feats, labels = smooth_video(2, 4, 3, 3)
    stream = StreamingPropagator(LabelPropagator(radius=2, topk=3))
    with pytest.raises(ValueError, match='start'):
        stream.step(feats[0])
    with pytest.raises(ValueError, match='feature grid'):
        stream.start(feats[0], labels[:, :2])
    stream.start(feats[0], labels)
    stream.reset()
    with pytest.raises(ValueError, match='start'):
        stream.step(feats[1])


def test_a_corrected_frame_replaces_the_labels_and_joins_the_long_term():
    feats, labels = smooth_video(8, 8, 6, 7)
    propagator = LabelPropagator(radius=3, topk=5, context_size=2)
    stream = StreamingPropagator(propagator)
    outputs = [stream.start(feats[0], labels)]
    outputs += [stream.step(feats[t]) for t in (1, 2)]
    corrected = labels.flip(0)
    assert stream.correct(feats[3], corrected) is corrected
    expected_propagated = propagator(feats[3], feats[[0, 1, 2]],
                                     torch.stack(outputs))
    torch.testing.assert_close(stream.propagated, expected_propagated,
                               rtol=0, atol=1e-12)
    outputs.append(corrected)
    for t in range(4, 8):
        outputs.append(stream.step(feats[t]))
        # context: frames 0 and 3 in full, then the last two frames
        context = [0, 3, t - 2, t - 1]
        memory = propagator.init_memory(2, 8, 3, 6, 7, dtype=torch.float64)
        for i in sorted(set(context)):
            memory.add(i, feats[i], outputs[i])
        expected = propagator.propagate(feats[t], memory, [context], [2])[0]
        torch.testing.assert_close(outputs[t], expected, rtol=0, atol=1e-12)
    assert sorted(stream.memory.frames) == [0, 3, 6, 7]
    with pytest.raises(ValueError, match='2 channels'):
        stream.correct(feats[0], corrected[:2])
    with pytest.raises(ValueError, match='needs a started video'):
        StreamingPropagator(propagator).correct(feats[0], corrected)


@pytest.mark.parametrize('backend', ['dense', 'windowed'])
def test_restoring_a_state_repeats_the_steps_exactly(backend):
    feats, labels = smooth_video(10, 8, 6, 7, seed=3)
    feats, labels = feats.float(), labels.float()
    propagator = LabelPropagator(radius=3, topk=5, context_size=3,
                                 backend=backend, tile_size=4)
    stream = StreamingPropagator(propagator)
    states, outputs = [], []
    for t in range(10):
        states.append(stream.state())
        if t == 0:
            outputs.append(stream.start(feats[t], labels))
        elif t == 4:
            outputs.append(stream.correct(feats[t], labels.roll(1, 0)))
        else:
            outputs.append(stream.step(feats[t]))
    for resume in (2, 6):
        again = StreamingPropagator(propagator)
        again.restore(states[resume], lambda t: (feats[t], outputs[t]))
        assert again.state() == states[resume]
        for t in range(resume, 10):
            assert torch.equal(again.step(feats[t]) if t != 4 else
                               again.correct(feats[t], outputs[4]),
                               outputs[t])
    with pytest.raises(ValueError, match='seen no frame'):
        StreamingPropagator(propagator).restore(states[0], None)
