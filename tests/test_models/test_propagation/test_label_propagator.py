import pytest
import torch
import torch.nn.functional as F

from mmhvc.models.propagation import (ContextPolicy, LabelPropagator,
                                      TopkKernel)
from mmhvc.registry import MODELS
from mmhvc.testing import dense_label_propagation

torch.set_num_threads(1)


def random_frames(num, channels, height, width, dtype=torch.float64,
                  seed=0):
    generator = torch.Generator().manual_seed(seed)
    feats = torch.randn(
        num, channels, height, width, generator=generator, dtype=dtype)
    labels = torch.rand(num, 3, height, width, generator=generator,
                        dtype=dtype)
    return F.normalize(feats, dim=1), labels


@pytest.mark.parametrize('prefilter', [False, True])
@pytest.mark.parametrize('restrict_long_term', [False, True])
def test_forward_matches_dense_reference(restrict_long_term, prefilter):
    feats, labels = random_frames(4, 8, 9, 13)
    propagator = LabelPropagator(
        radius=3,
        topk=5,
        tile_size=4,
        restrict_long_term=restrict_long_term,
        bf16_prefilter=prefilter)
    out = propagator(feats[-1], feats[:-1], labels[:-1])
    expected = dense_label_propagation(
        feats[-1],
        feats[:-1],
        labels[:-1],
        radius=3,
        topk=5,
        restrict_long_term=restrict_long_term)
    assert out.shape == (3, 9, 13)
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


@pytest.mark.parametrize('prefilter', [False, True])
@pytest.mark.parametrize('dedup', [False, True])
@pytest.mark.parametrize('restrict_long_term', [False, True])
def test_padded_contexts_match_dense_reference(dedup, restrict_long_term,
                                               prefilter):
    feats, labels = random_frames(10, 8, 9, 11)
    propagator = LabelPropagator(
        radius=4,
        topk=7,
        context_size=4,
        tile_size=5,
        dedup_context=dedup,
        restrict_long_term=restrict_long_term,
        bf16_prefilter=prefilter)
    checked = []

    def check(t, context, out):
        expected = dense_label_propagation(
            feats[t],
            feats[context],
            labels[context],
            radius=4,
            topk=7,
            restrict_long_term=restrict_long_term)
        torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)
        checked.append((t, context[0]))

    # a second object group is given at frame 3, as in YouTube-VOS
    peak = run_video(propagator, feats, labels, [0, 3], check)
    assert (9, 3) in checked and (9, 0) in checked and (3, 3) not in checked
    assert peak <= propagator.context.context_size + 2


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


def test_init_memory_sizes_slots_and_coarse_copy():
    memory = LabelPropagator(
        context_size=5, bf16_prefilter=True).init_memory(2, 4, 3, 6, 7)
    assert memory.feats.shape == (7, 6, 7, 4)
    assert memory.labels.shape == (7, 42, 3)
    assert memory.coarse_feats.dtype == torch.bfloat16
    memory = LabelPropagator(bf16_prefilter=False).init_memory(1, 4, 3, 6, 7)
    assert memory.feats.shape[0] == 51 and memory.coarse_feats is None


def test_forward_checks_the_context():
    feats, labels = random_frames(2, 4, 5, 6)
    propagator = LabelPropagator(radius=2, topk=3)
    with pytest.raises(ValueError, match='do not match'):
        propagator(feats[1], feats, labels[:1])
    with pytest.raises(ValueError, match='do not match'):
        propagator(feats[1], feats, labels[:, :, :4])


@pytest.mark.parametrize('kwargs', [
    dict(radius=0),
    dict(topk=0),
    dict(temperature=0),
    dict(context_size=0),
    dict(tile_size=0),
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
            tile_size=7))
    assert isinstance(propagator, LabelPropagator)
    assert isinstance(propagator.context, ContextPolicy)
    assert isinstance(propagator.kernel, TopkKernel)
    assert (propagator.context.context_size,
            propagator.context.dedup_context) == (20, True)
    kernel = propagator.kernel
    assert (kernel.radius, kernel.topk, kernel.temperature,
            kernel.restrict_long_term, kernel.tile_size,
            kernel.reach) == (6.0, 5, 0.2, True, (7, 7), 5)
    assert (propagator.radius, propagator.topk, propagator.temperature,
            propagator.context_size) == (6.0, 5, 0.2, 20)
