import pytest
import torch
import torch.nn.functional as F

from mmhvc.models.propagation import (DenseBackend, LabelPropagator,
                                      WindowedBackend)
from mmhvc.models.propagation.neighbourhood import Neighbourhood
from mmhvc.registry import MODELS

torch.set_num_threads(1)

# long-term frames 0 and 2, short-term frames with repeats (2 and 0 among
# them too)
CONTEXT = [0, 2, 1, 1, 3, 2, 0, 3]


def random_frames(num, channels, height, width, num_labels=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    feats = torch.randn(
        num, channels, height, width, generator=generator,
        dtype=torch.float64)
    labels = torch.rand(num, num_labels, height, width, generator=generator,
                        dtype=torch.float64)
    return F.normalize(feats, dim=1), labels


def square_mask(height, width, size):
    """The ``(h * w, h * w)`` 0/1 mask of DINO's ``restrict_neighborhood``:
    query ``(i, j)`` (rows) sees key ``(y, x)`` (columns) iff both lie in
    the ``(2 * size + 1)``-cell square centred on the query."""
    mask = torch.zeros(height, width, height, width)
    for i in range(height):
        for j in range(width):
            for y in range(i - size, i + size + 1):
                for x in range(j - size, j + size + 1):
                    if 0 <= y < height and 0 <= x < width:
                        mask[i, j, y, x] = 1
    return mask.view(height * width, height * width)


def brute_force_square(query, feats, labels, size, topk, temperature,
                       restricted):
    """DINO-style propagation from the context ``feats`` ``(N, C, h, w)``
    (in context order, repeats included) with labels ``(N, L, h, w)``;
    frame ``n`` is masked to the square iff ``restricted[n]``."""
    num, channels, height, width = feats.shape
    num_pos = height * width
    mask = square_mask(height, width, size)
    queries = query.reshape(channels, num_pos).T
    scores = torch.einsum('pc,ncr->pnr', queries,
                          feats.reshape(num, channels, num_pos))
    for n in range(num):
        if restricted[n]:
            scores[:, n] = scores[:, n].masked_fill(mask == 0, float('-inf'))
    values, index = (scores.reshape(num_pos, -1) / temperature).topk(
        topk, dim=1)
    weights = values.softmax(dim=1)
    flat = labels.permute(0, 2, 3, 1).reshape(num * num_pos, -1)
    out = torch.einsum('pk,pkl->pl', weights, flat[index])
    return out.T.reshape(-1, height, width)


def propagate(propagator, query, feats, labels, contexts, num_long_term):
    """Propagate ``query`` with ``propagator`` from a memory holding
    ``feats``/``labels`` as frames 0 .. N-1."""
    num, channels, height, width = feats.shape
    memory = propagator.init_memory(
        max(num_long_term), channels, labels.shape[1], height, width,
        dtype=feats.dtype)
    for t in range(num):
        memory.add(t, feats[t], labels[t])
    return propagator.propagate(query, memory, contexts, num_long_term)


def test_reach_and_half_widths_of_both_shapes():
    # radius 12: the strict disc reaches 11 cells (23 x 23 bounding box),
    # the inclusive square 12 (25 x 25 cells, DINO's default)
    disc, square = Neighbourhood('disc', 12), Neighbourhood('square', 12)
    assert (disc.reach, square.reach) == (11, 12)
    assert [square.half_width(dy) for dy in (-13, -12, 0, 12, 13)] == \
        [-1, 12, 12, 12, -1]
    assert sum(2 * square.half_width(dy) + 1
               for dy in range(-12, 13)) == 25 * 25
    assert Neighbourhood('square', 2.5).reach == 2
    assert Neighbourhood('disc', 2.5).reach == 2


@pytest.mark.parametrize('shape', ['disc', 'square'])
@pytest.mark.parametrize('radius', [0.5, 1, 2, 2.5, 5, 12])
def test_half_width_and_contains_agree_with_the_definition(shape, radius):
    neighbourhood = Neighbourhood(shape, radius)
    dy, dx = torch.meshgrid(
        torch.arange(-15, 16), torch.arange(-15, 16), indexing='ij')
    if shape == 'disc':
        expected = dy * dy + dx * dx < radius**2
    else:
        expected = (dy.abs() <= radius) & (dx.abs() <= radius)
    inside = neighbourhood.contains(dy, dx)
    assert torch.equal(inside, expected)
    for row, offset in zip(inside, range(-15, 16)):
        half = neighbourhood.half_width(offset)
        assert torch.equal(row, torch.arange(-15, 16).abs() <= half)
    rows = inside.any(1).nonzero()
    assert int(rows.max()) - 15 == neighbourhood.reach


@pytest.mark.parametrize('backend', ['dense', 'windowed'])
@pytest.mark.parametrize('restrict_long_term', [False, True])
@pytest.mark.parametrize('size', [1, 2, 4])
def test_square_matches_a_dino_style_brute_force(backend,
                                                 restrict_long_term, size):
    feats, labels = random_frames(5, 8, 9, 11)
    propagator = LabelPropagator(
        radius=size,
        topk=7,
        temperature=0.07,
        restrict_long_term=restrict_long_term,
        backend=backend,
        tile_size=4,
        query_chunk=13,
        neighbourhood='square')
    for context, num in ((CONTEXT, 2), (CONTEXT[1:], 1)):
        out = propagate(propagator, feats[4], feats[:4], labels[:4],
                        [context], [num])[0]
        restricted = [restrict_long_term or n >= num
                      for n in range(len(context))]
        expected = brute_force_square(feats[4], feats[context],
                                      labels[context], size, 7, 0.07,
                                      restricted)
        torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize('shape', ['disc', 'square'])
@pytest.mark.parametrize('restrict_long_term', [False, True])
@pytest.mark.parametrize('radius', [1, 2, 3.5, 5, 15])
@pytest.mark.parametrize('tile_size', [1, 3, (4, 2), (9, 11)])
def test_windowed_matches_dense(shape, restrict_long_term, radius,
                                tile_size):
    # several contexts sharing a memory in one call, with repeated frames
    # and one or two long-term frames; radius 15 reaches past the 9 x 11
    # grid
    feats, labels = random_frames(5, 8, 9, 11, seed=1)
    kwargs = dict(
        radius=radius,
        topk=6,
        restrict_long_term=restrict_long_term,
        neighbourhood=shape)
    windowed = LabelPropagator(backend='windowed', tile_size=tile_size,
                               **kwargs)
    dense = LabelPropagator(backend='dense', **kwargs)
    contexts = [CONTEXT, [3, 3, 3, 1, 0], [1, 0]]
    num_long_term = [2, 1, 2]
    outs = propagate(windowed, feats[4], feats[:4], labels[:4], contexts,
                     num_long_term)
    expected = propagate(dense, feats[4], feats[:4], labels[:4], contexts,
                         num_long_term)
    for out, reference in zip(outs, expected):
        torch.testing.assert_close(out, reference, rtol=0, atol=1e-12)


def test_square_at_the_default_radius_matches_dense_in_float32():
    feats, labels = random_frames(4, 32, 20, 31, seed=2)
    feats = feats.float()
    labels = labels.float()
    kwargs = dict(neighbourhood='square', restrict_long_term=True)
    windowed = LabelPropagator(backend='windowed', **kwargs)
    dense = LabelPropagator(backend='dense', **kwargs)
    out = windowed(feats[3], feats[:3], labels[:3])
    expected = dense(feats[3], feats[:3], labels[:3])
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-5)


def test_square_reaches_further_than_the_disc():
    # radius 2 at the centre of a 9 x 9 grid, one restricted frame and
    # top-k 25: the square holds 25 cells, the disc 13, so the square
    # spreads labels from its corners and the disc does not
    feats, labels = random_frames(2, 8, 9, 9, num_labels=1)
    labels = torch.zeros_like(labels)
    labels[0, 0, 2, 2] = 1.
    outs = {}
    for shape in ('disc', 'square'):
        propagator = LabelPropagator(
            radius=2, topk=25, restrict_long_term=True, neighbourhood=shape)
        outs[shape] = propagator(feats[1], feats[:1], labels[:1])[0, 4, 4]
    assert float(outs['disc']) == 0.
    assert float(outs['square']) > 0.


@pytest.mark.parametrize('cls', [LabelPropagator, DenseBackend,
                                 WindowedBackend])
def test_invalid_neighbourhood(cls):
    with pytest.raises(ValueError,
                       match=r"neighbourhood must be one of \('disc', "
                       r"'square'\), got 'circle'"):
        cls(neighbourhood='circle')


def test_neighbourhood_is_configured_and_built():
    propagator = LabelPropagator(radius=5, neighbourhood='square')
    assert propagator.neighbourhood == 'square'
    assert propagator.configured(topk=3).neighbourhood == 'square'
    disc = propagator.configured(neighbourhood='disc')
    assert (disc.dense.neighbourhood.shape,
            disc.windowed.neighbourhood.shape) == ('disc', 'disc')
    assert LabelPropagator().neighbourhood == 'disc'
    built = MODELS.build(
        dict(type='LabelPropagator', radius=12, neighbourhood='square'))
    assert built.windowed.neighbourhood.reach == 12
    assert built.dense.neighbourhood.reach == 12
