import math

import pytest
import torch
import torch.nn.functional as F

from mmhvc.models.propagation import (DenseBackend, LabelPropagator,
                                      WindowedBackend)
from mmhvc.registry import MODELS

torch.set_num_threads(1)


def random_frames(num, channels, height, width, dtype=torch.float64,
                  seed=0):
    generator = torch.Generator().manual_seed(seed)
    feats = torch.randn(
        num, channels, height, width, generator=generator, dtype=dtype)
    labels = torch.rand(num, 3, height, width, generator=generator,
                        dtype=dtype)
    return F.normalize(feats, dim=1), labels


def naive_propagation(query, feats, labels, radius, topk, temperature,
                      restrict_long_term, num_long_term=1):
    """One query position at a time, from the list of its candidates; the
    first ``num_long_term`` frames are long-term."""
    channels, height, width = query.shape
    out = torch.zeros(labels.shape[1], height, width, dtype=labels.dtype)
    for y in range(height):
        for x in range(width):
            candidates = []
            for n in range(feats.shape[0]):
                for ky in range(height):
                    for kx in range(width):
                        inside = (y - ky)**2 + (x - kx)**2 < radius**2
                        if n < num_long_term and not restrict_long_term or inside:
                            score = float(query[:, y, x] @ feats[n, :, ky,
                                                                  kx])
                            candidates.append((score, n, ky, kx))
            best = sorted(candidates, key=lambda c: -c[0])[:topk]
            weights = [math.exp(s / temperature) for s, *_ in best]
            for w, (_, n, ky, kx) in zip(weights, best):
                out[:, y, x] += w / sum(weights) * labels[n, :, ky, kx]
    return out


@pytest.mark.parametrize('backend', ['dense', 'windowed'])
@pytest.mark.parametrize('restrict_long_term', [False, True])
def test_both_backends_match_the_naive_algorithm(backend,
                                                 restrict_long_term):
    feats, labels = random_frames(4, 8, 6, 7)
    propagator = LabelPropagator(
        radius=2.5,
        topk=5,
        temperature=0.2,
        restrict_long_term=restrict_long_term,
        backend=backend,
        tile_size=4,
        query_chunk=5)
    out = propagator(feats[-1], feats[:-1], labels[:-1])
    expected = naive_propagation(feats[-1], feats[:-1], labels[:-1], 2.5, 5,
                                 0.2, restrict_long_term)
    assert out.shape == (3, 6, 7)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize('backend', ['dense', 'windowed'])
@pytest.mark.parametrize('restrict_long_term', [False, True])
def test_several_long_term_frames_match_the_naive_algorithm(
        backend, restrict_long_term):
    # context [0, 2, 1, 2]: frames 0 and 2 are long-term (compared with every
    # position), frame 2 also short-term, so inside the radius it counts
    # twice
    feats, labels = random_frames(4, 8, 6, 7, seed=1)
    context = [0, 2, 1, 2]
    expected = naive_propagation(feats[3], feats[context], labels[context],
                                 2.5, 6, 0.2, restrict_long_term, 2)
    propagator = LabelPropagator(
        radius=2.5,
        topk=6,
        temperature=0.2,
        restrict_long_term=restrict_long_term,
        backend=backend,
        tile_size=4)
    memory = propagator.init_memory(2, 8, 3, 6, 7, dtype=torch.float64)
    for t in range(3):
        memory.add(t, feats[t], labels[t])
    out = propagator.propagate(feats[3], memory, [context], [2])[0]
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match='distinct'):
        propagator.propagate(feats[3], memory, [[0, 0, 1]], [2])
    with pytest.raises(ValueError, match='cannot start with 5'):
        propagator.propagate(feats[3], memory, [context], [5])


def test_corrected_frames_join_the_long_term_frames_of_the_context():
    propagator = LabelPropagator(context_size=3)
    assert propagator.context_indices(0, 6, [2, 7]) == [0, 2, 3, 4, 5]
    assert propagator.num_long_term(0, 6, [2, 7]) == 2
    # a frame corrected at or after the query, or before the group, is not
    assert propagator.context_indices(3, 5, [1, 5]) == [3, 3, 3, 4]
    assert propagator.num_long_term(3, 5, [1, 5]) == 1
    dedup = LabelPropagator(context_size=3, dedup_context=True)
    assert dedup.context_indices(0, 3, [1]) == [0, 1, 1, 2]


def test_configured_keeps_the_settings_it_does_not_override():
    propagator = LabelPropagator(
        radius=5, topk=4, temperature=0.3, context_size=7,
        dedup_context=True, restrict_long_term=True, backend='dense',
        tile_size=(3, 2), query_chunk=11)
    other = propagator.configured(topk=9, context_size=2)
    assert (other.radius, other.topk, other.temperature, other.context_size,
            other.dedup_context, other.dense.restrict_long_term,
            other.backend, other.windowed.tile_size,
            other.dense.query_chunk) == (5., 9, 0.3, 2, True, True, 'dense',
                                         (3, 2), 11)
    assert propagator.topk == 4
    with pytest.raises(TypeError, match='no argument k'):
        propagator.configured(k=3)


def test_dense_backend_counts_repeated_frames():
    # The context [0, 0, 1] holds frame 0 twice: its positions may fill the
    # top-k twice, exactly as in a context of three distinct frames.
    feats, labels = random_frames(3, 8, 5, 6)
    repeated = torch.stack([feats[0], feats[0], feats[1]])
    repeated_labels = torch.stack([labels[0], labels[0], labels[1]])
    expected = naive_propagation(feats[2], repeated, repeated_labels, 3, 6,
                                 0.1, False)
    propagator = LabelPropagator(radius=3, topk=6, backend='dense')
    memory = propagator.init_memory(1, 8, 3, 5, 6, dtype=torch.float64)
    memory.add(0, feats[0], labels[0])
    memory.add(1, feats[1], labels[1])
    out = propagator.propagate(feats[2], memory, [[0, 0, 1]])[0]
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


def run_video(propagator, feats, labels, starts, check):
    """Propagate through a video whose groups start at ``starts``, using the
    given ``labels`` as the stored soft labels of every frame."""
    channels, height, width = feats.shape[1:]
    memory = propagator.init_memory(
        len(starts), channels, labels.shape[1], height, width,
        dtype=feats.dtype)
    peak = 0
    for t in range(starts[0], feats.shape[0]):
        active = [s for s in starts if s < t]
        if active:
            contexts = [propagator.context_indices(s, t) for s in active]
            outs = propagator.propagate(feats[t], memory, contexts)
            for context, out in zip(contexts, outs):
                check(t, context, out)
        memory.retain(
            propagator.memory_frames([s for s in starts if s <= t], t))
        memory.add(t, feats[t], labels[t])
        peak = max(peak, len(memory.frames))
    return peak


@pytest.mark.parametrize('dedup', [False, True])
@pytest.mark.parametrize('restrict_long_term', [False, True])
def test_padded_contexts_match_between_backends(dedup, restrict_long_term):
    feats, labels = random_frames(10, 8, 9, 11)
    kwargs = dict(
        radius=4,
        topk=7,
        context_size=4,
        dedup_context=dedup,
        restrict_long_term=restrict_long_term)
    windowed = LabelPropagator(backend='windowed', tile_size=5, **kwargs)
    dense = LabelPropagator(backend='dense', **kwargs)
    checked = []

    def check(t, context, out):
        expected = dense(feats[t], feats[context], labels[context])
        torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)
        checked.append((t, context[0]))

    # a second object group is given at frame 3, as in YouTube-VOS
    peak = run_video(windowed, feats, labels, [0, 3], check)
    assert (9, 3) in checked and (9, 0) in checked and (3, 3) not in checked
    assert peak <= windowed.context_size + 2


def test_padded_context_copies_dominate_the_first_step():
    # At t = 1 the reference context is context_size + 1 copies of frame 0.
    # Propagating frame 0 to an identical frame: each position's own copy
    # (dot product 1) fills the whole top-k, so the labels come back
    # unchanged; a deduplicated context mixes 15 different positions.
    feats, labels = random_frames(1, 16, 8, 10)
    frame = (feats[0], labels[0])
    padded = LabelPropagator(radius=3, topk=15, context_size=50)
    memory = padded.init_memory(1, 16, 3, 8, 10, dtype=torch.float64)
    memory.add(0, *frame)
    context = padded.context_indices(0, 1)
    assert context == [0] * 51
    out = padded.propagate(feats[0], memory, [context])[0]
    torch.testing.assert_close(out, labels[0], rtol=0, atol=1e-12)

    dedup = LabelPropagator(
        radius=3, topk=15, context_size=50, dedup_context=True)
    assert dedup.context_indices(0, 1) == [0]
    mixed = dedup.propagate(feats[0], memory, [[0]])[0]
    assert (mixed - labels[0]).abs().max() > 0.01


def test_context_indices():
    propagator = LabelPropagator(context_size=3)
    assert propagator.context_indices(0, 1) == [0, 0, 0, 0]
    assert propagator.context_indices(0, 2) == [0, 0, 0, 1]
    assert propagator.context_indices(0, 5) == [0, 2, 3, 4]
    assert propagator.context_indices(3, 4) == [3, 3, 3, 3]
    assert propagator.context_indices(3, 5) == [3, 3, 3, 4]
    dedup = LabelPropagator(context_size=3, dedup_context=True)
    assert dedup.context_indices(0, 2) == [0, 1]
    assert dedup.context_indices(0, 5) == [0, 2, 3, 4]
    assert dedup.context_indices(3, 5) == [3, 4]
    with pytest.raises(ValueError, match='after'):
        propagator.context_indices(3, 3)
    # the HVC protocol: the first frame plus 50 previous frames, padded
    assert LabelPropagator().context_indices(0, 60) == [0] + list(
        range(10, 60))


def test_memory_frames_keep_the_memory_bounded():
    propagator = LabelPropagator(context_size=3)
    # after storing frame 6, frame 7 needs 4, 5, 6 and the group starts
    assert propagator.memory_frames([0, 2], 6) == [0, 2, 4, 5, 6]
    assert propagator.memory_frames([0], 1) == [0, 1]
    assert propagator.memory_frames([5], 5) == [3, 4, 5]
    for dedup in (False, True):
        propagator = LabelPropagator(context_size=5, dedup_context=dedup)
        feats, labels = random_frames(40, 4, 3, 3)
        assert run_video(propagator, feats, labels, [0, 7, 20],
                         lambda *args: None) == 5 + 3


def test_init_memory_capacity():
    memory = LabelPropagator(context_size=5).init_memory(2, 4, 3, 6, 7)
    assert memory.feats.shape == (7, 6, 7, 4)
    assert memory.labels.shape == (7, 42, 3)


def test_auto_backend_is_dense_on_cuda_and_windowed_elsewhere():
    propagator = LabelPropagator()
    assert propagator.resolve_backend(torch.device('cuda')) == 'dense'
    assert propagator.resolve_backend(torch.device('cpu')) == 'windowed'
    fixed = LabelPropagator(backend='dense')
    assert fixed.resolve_backend(torch.device('cpu')) == 'dense'


def test_forward_checks_the_context():
    feats, labels = random_frames(2, 4, 5, 6)
    propagator = LabelPropagator(radius=2, topk=3)
    with pytest.raises(ValueError, match='do not match'):
        propagator(feats[1], feats, labels[:1])
    with pytest.raises(ValueError, match='do not match'):
        propagator(feats[1], feats, labels[:, :, :4])


@pytest.mark.parametrize('backend', ['dense', 'windowed'])
def test_propagate_checks_the_query_and_the_context(backend):
    feats, labels = random_frames(2, 4, 5, 6)
    propagator = LabelPropagator(radius=2, topk=3, backend=backend)
    memory = propagator.init_memory(1, 4, 3, 5, 6, dtype=torch.float64)
    memory.add(0, feats[0], labels[0])
    with pytest.raises(ValueError, match='do not match'):
        propagator.propagate(feats[1][:, :4], memory, [[0, 0]])
    with pytest.raises(KeyError, match='frame 1'):
        propagator.propagate(feats[1], memory, [[0, 1]])
    with pytest.raises(ValueError, match='at least one frame'):
        propagator.propagate(feats[1], memory, [[]])


@pytest.mark.parametrize('kwargs', [
    dict(radius=0),
    dict(topk=0),
    dict(temperature=0),
    dict(context_size=0),
    dict(tile_size=0),
    dict(query_chunk=0),
    dict(backend='bf16'),
])
def test_invalid_arguments(kwargs):
    with pytest.raises(ValueError):
        LabelPropagator(**kwargs)


def test_build_from_registry():
    propagator = MODELS.build(
        dict(
            type='LabelPropagator',
            radius=6,
            topk=5,
            temperature=0.2,
            context_size=20,
            dedup_context=True,
            restrict_long_term=True,
            backend='dense',
            tile_size=7,
            query_chunk=9))
    assert isinstance(propagator, LabelPropagator)
    assert (propagator.radius, propagator.topk, propagator.temperature,
            propagator.context_size, propagator.dedup_context,
            propagator.backend) == (6.0, 5, 0.2, 20, True, 'dense')
    assert isinstance(propagator.dense, DenseBackend)
    assert isinstance(propagator.windowed, WindowedBackend)
    assert (propagator.windowed.tile_size, propagator.dense.query_chunk,
            propagator.dense.restrict_long_term,
            propagator.windowed.restrict_long_term) == ((7, 7), 9, True,
                                                        True)
