import pytest
import torch
import torch.nn.functional as F

from mmhvc.models.propagation import ContextMemory, LabelPropagator
from mmhvc.testing import dense_label_propagation
from mmhvc.models.propagation.label_propagator import bf16_score_error
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


def clustered_frames(num, channels, height, width, seed=0):
    """Features close to one of three prototypes: many near-ties."""
    generator = torch.Generator().manual_seed(seed)
    prototypes = F.normalize(
        torch.randn(3, channels, generator=generator, dtype=torch.float64),
        dim=1)
    ids = torch.randint(0, 3, (num, height, width), generator=generator)
    noise = torch.randn(
        num, channels, height, width, generator=generator,
        dtype=torch.float64)
    feats = prototypes[ids].permute(0, 3, 1, 2) + 1e-3 * noise
    labels = torch.rand(num, 3, height, width, generator=generator,
                        dtype=torch.float64)
    return F.normalize(feats, dim=1), labels


@pytest.mark.parametrize('prefilter', [False, True])
@pytest.mark.parametrize('restrict_long_term', [False, True])
@pytest.mark.parametrize(
    'height, width, channels, frames, radius, topk, tile_size', [
        (9, 13, 8, 4, 3, 5, 4),
        (11, 7, 16, 3, 4.5, 15, 5),
        (6, 5, 4, 2, 1, 3, 2),
        (10, 12, 8, 3, 12, 15, 12),
    ])
def test_matches_dense_reference(height, width, channels, frames, radius,
                                 topk, tile_size, restrict_long_term,
                                 prefilter):
    feats, labels = random_frames(frames + 1, channels, height, width)
    propagator = LabelPropagator(
        radius=radius,
        topk=topk,
        tile_size=tile_size,
        restrict_long_term=restrict_long_term,
        bf16_prefilter=prefilter)
    out = propagator(feats[-1], feats[:-1], labels[:-1])
    expected = dense_label_propagation(
        feats[-1],
        feats[:-1],
        labels[:-1],
        radius=radius,
        topk=topk,
        restrict_long_term=restrict_long_term)
    assert out.shape == (3, height, width)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize('prefilter', [False, True])
def test_float32_matches_dense_reference(prefilter):
    feats, labels = random_frames(4, 32, 20, 26, dtype=torch.float32)
    propagator = LabelPropagator(bf16_prefilter=prefilter)
    out = propagator(feats[-1], feats[:-1], labels[:-1])
    expected = dense_label_propagation(feats[-1], feats[:-1], labels[:-1])
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize('prefilter', [False, True])
def test_near_ties_match_dense_reference(prefilter):
    # Hundreds of candidates per query lie within the bfloat16 error bound
    # of the k-th best, so the prefilter must widen its candidate list.
    feats, labels = clustered_frames(6, 32, 14, 18)
    propagator = LabelPropagator(
        radius=5, topk=15, tile_size=6, bf16_prefilter=prefilter)
    out = propagator(feats[0], feats[1:], labels[1:])
    expected = dense_label_propagation(
        feats[0], feats[1:], labels[1:], radius=5, topk=15)
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
    assert peak <= propagator.context_size + 2


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


def test_radius_one_picks_the_same_position():
    # radius 1 leaves only the same position of each (restricted) frame;
    # with topk 1 the label is that of the frame with the best dot product
    feats, labels = random_frames(5, 8, 4, 6)
    propagator = LabelPropagator(radius=1, topk=1, restrict_long_term=True)
    out = propagator(feats[0], feats[1:], labels[1:])
    best = (feats[1:] * feats[0]).sum(1).argmax(0)
    expected = labels[1:].gather(0, best[None, None].expand(1, 3, 4, 6))[0]
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


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


def test_memory_stays_bounded():
    feats, labels = random_frames(40, 4, 3, 3)
    propagator = LabelPropagator(radius=2, topk=3, context_size=5)
    peak = run_video(propagator, feats, labels, [0, 7, 20],
                     lambda *args: None)
    assert peak == propagator.context_size + 3
    memory = propagator.init_memory(1, 4, 3, 3, 3)
    assert memory.feats.shape == (6, 3, 3, 4)
    with pytest.raises(RuntimeError, match='full'):
        for t in range(7):
            memory.add(t, feats[t].float(), labels[t].float())


def test_memory_checks_shapes_and_frames():
    memory = ContextMemory(2, 4, 3, 5, 6)
    with pytest.raises(ValueError, match='features'):
        memory.add(0, torch.zeros(4, 5, 7), torch.zeros(3, 5, 6))
    with pytest.raises(ValueError, match='labels'):
        memory.add(0, torch.zeros(4, 5, 6), torch.zeros(2, 5, 6))
    with pytest.raises(KeyError, match='frame 3'):
        memory.slot(3)
    label = torch.rand(3, 5, 6)
    memory.add(3, torch.zeros(4, 5, 6), label)
    torch.testing.assert_close(memory.label(3), label)


def test_propagate_checks_the_query():
    feats, labels = random_frames(2, 4, 5, 6)
    propagator = LabelPropagator(radius=2, topk=3)
    memory = propagator.init_memory(1, 4, 3, 5, 6, dtype=torch.float64)
    memory.add(0, feats[0], labels[0])
    with pytest.raises(ValueError, match='do not match'):
        propagator.propagate(feats[1][:, :4], memory, [[0, 0]])
    with pytest.raises(KeyError, match='frame 1'):
        propagator.propagate(feats[1], memory, [[0, 1]])
    with pytest.raises(ValueError, match='do not match'):
        propagator(feats[1], feats, labels[:1])


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


def test_bf16_score_error_bounds_the_rounding():
    generator = torch.Generator().manual_seed(0)
    for channels in (16, 256):
        q = F.normalize(torch.randn(200, channels, generator=generator), dim=1)
        k = F.normalize(torch.randn(300, channels, generator=generator), dim=1)
        # vectors with equal components round the same way in every channel
        q[0] = k[0] = channels**-0.5
        exact = q.double() @ k.double().T
        coarse = (q.bfloat16() @ k.bfloat16().T).double()
        assert (coarse - exact).abs().max() <= bf16_score_error(channels)
    assert 0.0058 < bf16_score_error(256) < 0.0063


def test_build_from_registry():
    propagator = MODELS.build(
        dict(type='LabelPropagator', radius=6, topk=5, context_size=20))
    assert isinstance(propagator, LabelPropagator)
    assert propagator.context_size == 20 and propagator.reach == 5
