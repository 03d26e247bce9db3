import pytest
import torch
import torch.nn.functional as F

from mmhvc.models.propagation import (ContextMemory, LabelPropagator,
                                      WindowedBackend)
from mmhvc.models.propagation.neighbourhood import Neighbourhood
from mmhvc.models.propagation.windowed import (key_row_scores,
                                               make_query_tiles)

torch.set_num_threads(1)

DEVICES = [
    'cpu',
    pytest.param(
        'cuda',
        marks=pytest.mark.skipif(
            not torch.cuda.is_available(),
            reason='no CUDA device here')),
]


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


def dense(query, feats, labels, **kwargs):
    """The dense backend on the context ``feats``, frame 0 long-term."""
    return LabelPropagator(backend='dense', **kwargs)(query, feats, labels)


def fill_memory(kernel, feats, labels, capacity=None):
    """A memory holding ``feats``/``labels`` as frames 0 .. N-1, on their
    device, with ``capacity`` slots (default N)."""
    num, channels, height, width = feats.shape
    memory = ContextMemory(capacity or num, channels, labels.shape[1],
                           height, width, device=feats.device,
                           dtype=feats.dtype)
    for i in range(num):
        memory.add(i, feats[i], labels[i])
    return memory


def propagate(kernel, query, feats, labels):
    """Propagate with the context ``feats`` in order, frame 0 long-term."""
    memory = fill_memory(kernel, feats, labels)
    return kernel.propagate(query, memory, [list(range(len(feats)))])[0]


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('restrict_long_term', [False, True])
@pytest.mark.parametrize(
    'height, width, channels, frames, radius, topk, tile_size', [
        (9, 13, 8, 4, 3, 5, 4),
        (11, 7, 16, 3, 4.5, 15, 5),
        (6, 5, 4, 2, 1, 3, 2),
        (10, 12, 8, 3, 12, 15, 12),
    ])
def test_matches_dense_reference(height, width, channels, frames, radius,
                                 topk, tile_size, restrict_long_term, device):
    feats, labels = random_frames(frames + 1, channels, height, width)
    feats, labels = feats.to(device), labels.to(device)
    kernel = WindowedBackend(
        radius=radius,
        topk=topk,
        tile_size=tile_size,
        restrict_long_term=restrict_long_term)
    out = propagate(kernel, feats[-1], feats[:-1], labels[:-1])
    expected = dense(
        feats[-1],
        feats[:-1],
        labels[:-1],
        radius=radius,
        topk=topk,
        restrict_long_term=restrict_long_term)
    assert out.shape == (3, height, width)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


def test_float32_matches_dense_reference():
    feats, labels = random_frames(4, 32, 20, 26, dtype=torch.float32)
    kernel = WindowedBackend()
    out = propagate(kernel, feats[-1], feats[:-1], labels[:-1])
    expected = dense(feats[-1], feats[:-1], labels[:-1])
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-5)


def test_near_ties_match_dense_reference():
    # Hundreds of candidates per query lie close to the k-th best.
    feats, labels = clustered_frames(6, 32, 14, 18)
    kernel = WindowedBackend(
        radius=5, topk=15, tile_size=6)
    out = propagate(kernel, feats[0], feats[1:], labels[1:])
    expected = dense(
        feats[0], feats[1:], labels[1:], radius=5, topk=15)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


def test_contexts_sharing_a_memory_match_dense_reference():
    # Two contexts with repeated and shared frames, one call: each result is
    # the dense propagation of its own expanded context.
    feats, labels = random_frames(6, 8, 7, 9)
    kernel = WindowedBackend(radius=3, topk=6, tile_size=4)
    memory = fill_memory(kernel, feats[:5], labels[:5])
    contexts = [[0, 0, 0, 1, 2], [3, 3, 4, 1]]
    outs = kernel.propagate(feats[5], memory, contexts)
    for context, out in zip(contexts, outs):
        expected = dense(
            feats[5], feats[context], labels[context], radius=3, topk=6)
        torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


def smooth_frames(num, channels, height, width, seed=0):
    """Spatially smooth features, like an encoder's on real frames: nearby
    positions and consecutive frames have close dot products."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.randn(1, channels, 4, height // 3 + 2, width // 3 + 2,
                         generator=generator, dtype=torch.float64)
    feats = F.interpolate(coarse, (num, height, width), mode='trilinear',
                          align_corners=True)[0].transpose(0, 1)
    noise = torch.randn(feats.shape, generator=generator,
                        dtype=torch.float64)
    labels = torch.rand(num, 3, height, width, generator=generator,
                        dtype=torch.float64)
    return F.normalize(feats + 0.05 * noise, dim=1), labels


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('spare_slots', [0, 6])
def test_padded_contexts_at_the_borders_match_dense_reference(
        device, spare_slots):
    # Query blocks that do not divide the grid, a radius reaching past the
    # borders, contexts padded with copies of the long-term frame, and a
    # memory with unused slots (scored frame by frame) or without.
    feats, labels = smooth_frames(6, 16, 13, 17)
    feats, labels = feats.to(device), labels.to(device)
    kernel = WindowedBackend(
        radius=4.5, topk=7, tile_size=(5, 3))
    memory = fill_memory(kernel, feats[:5], labels[:5], 5 + spare_slots)
    for context in ([0] * 6, [0, 0, 0, 0, 1, 2], [0, 1, 2, 3, 4],
                    [2, 0, 0, 1, 2, 4]):
        out = kernel.propagate(feats[5], memory, [context])[0]
        expected = dense(
            feats[5], feats[context], labels[context], radius=4.5, topk=7)
        torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize('device', DEVICES)
def test_exact_ties_between_identical_frames(device):
    # Frames 0 and 1 show the same content with the same labels: their
    # candidates tie exactly, and any choice among them gives the dense
    # result. Neighbours with equal labels reproduce them exactly.
    feats, labels = smooth_frames(4, 16, 9, 11, seed=1)
    feats[1], labels[1] = feats[0], labels[0]
    feats, labels = feats.to(device), labels.to(device)
    kernel = WindowedBackend(radius=3, topk=6, tile_size=4)
    memory = fill_memory(kernel, feats[:3], labels[:3])
    for context in ([0, 0, 1, 1, 2], [1, 0, 0, 2], [0, 1]):
        out = kernel.propagate(feats[3], memory, [context])[0]
        expected = dense(
            feats[3], feats[context], labels[context], radius=3, topk=6)
        torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)
    same = labels[:1, :, :1, :1].expand(3, -1, 9, 11).contiguous()
    memory = fill_memory(kernel, feats[:3], same)
    out = kernel.propagate(feats[3], memory, [[0, 0, 1, 2]])[0]
    assert torch.equal(out, same[0])


def test_radius_one_picks_the_same_position():
    # radius 1 leaves only the same position of each (restricted) frame;
    # with topk 1 the label is that of the frame with the best dot product
    feats, labels = random_frames(5, 8, 4, 6)
    kernel = WindowedBackend(radius=1, topk=1, restrict_long_term=True)
    out = propagate(kernel, feats[0], feats[1:], labels[1:])
    best = (feats[1:] * feats[0]).sum(1).argmax(0)
    expected = labels[1:].gather(0, best[None, None].expand(1, 3, 4, 6))[0]
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


def test_propagate_checks_the_query_and_the_context():
    feats, labels = random_frames(2, 4, 5, 6)
    kernel = WindowedBackend(radius=2, topk=3)
    memory = fill_memory(kernel, feats[:1], labels[:1])
    with pytest.raises(ValueError, match='do not match'):
        kernel.propagate(feats[1][:, :4], memory, [[0, 0]])
    with pytest.raises(KeyError, match='frame 1'):
        kernel.propagate(feats[1], memory, [[0, 1]])
    with pytest.raises(ValueError, match='at least one frame'):
        kernel.propagate(feats[1], memory, [[]])


@pytest.mark.parametrize('tile_size', [0, (4, 0), (1, 2, 3)])
def test_invalid_tile_size(tile_size):
    with pytest.raises(ValueError, match='tile_size'):
        WindowedBackend(tile_size=tile_size)


def test_reach_and_disk_half_widths():
    # radius 2.5: offsets with dy**2 + dx**2 < 6.25, i.e. a 21-cell disk
    disc = Neighbourhood('disc', 2.5)
    assert disc.reach == 2
    widths = [disc.half_width(dy) for dy in range(-3, 4)]
    assert widths == [-1, 1, 2, 2, 2, 1, -1]
    assert sum(2 * w + 1 for w in widths if w >= 0) == 21
    assert Neighbourhood('disc', 6).reach == 5
    disc = Neighbourhood('disc', 12)
    assert disc.half_width(11) == 4 and disc.half_width(0) == 11


@pytest.mark.parametrize('slots', [slice(0, 5), slice(1, 4)])
def test_key_row_scores_are_the_dot_products_of_each_key_row(slots):
    # All slots: one product per key row; a sub-range: one per key column.
    feats, labels = random_frames(6, 4, 7, 9)
    kernel = WindowedBackend(radius=3., topk=2)
    memory = fill_memory(kernel, feats[:5], labels[:5])
    (tile, *_) = make_query_tiles(7, 9, (7, 3), Neighbourhood('disc', 3.),
                                  torch.device('cpu'), torch.float64)
    block = feats[5].permute(1, 2, 0)[tile.rows, tile.cols].reshape(-1, 4)
    span = slots.stop - slots.start
    buffer = torch.full((span * tile.size, ), float('nan'),
                        dtype=torch.float64)
    rows = list(key_row_scores(block, tile, memory.feats, slots, buffer))
    assert [row for row, _ in rows] == tile.key_rows
    for row, out in rows:
        keys = feats[slots, :, row.row, row.cols]  # (span, C, columns)
        expected = torch.einsum('sck,qc->ksq', keys, block[row.queries])
        torch.testing.assert_close(out, expected)
    # Every score of the tile is written, none outside its buffer.
    assert not bool(buffer.isnan().any())
