import math

import pytest
import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

from mmhvc.models.losses import (HybridCorrespondenceLoss,
                                 coord_positive_mask, crop_bin_centres,
                                 positive_pair_sums)
from mmhvc.registry import MODELS

from dense_loss_oracle import DenseHybridCorrespondenceLoss

torch.set_num_threads(1)


def overlapping_boxes(n, generator, dtype=torch.float32):
    """Two boxes per sample, the second a jittered copy of the first."""
    xy = torch.rand(n, 2, generator=generator, dtype=torch.float64) * 0.5
    wh = torch.rand(n, 2, generator=generator, dtype=torch.float64) * 0.4
    box_1 = torch.cat([xy, xy + wh + 0.05], 1)
    jitter = torch.randn(n, 4, generator=generator, dtype=torch.float64)
    box_2 = (box_1 + 0.05 * jitter).clamp(0, 1)
    box_2 = torch.cat([box_2[:, :2], torch.max(box_2[:, 2:], box_2[:, :2])],
                      1)
    return box_1.to(dtype), box_2.to(dtype)


def brute_force_mask(box_1, box_2, h, w, radius):
    """Python loops over every pair of positions of one sample."""
    def centre(box, r, c):
        bw, bh = (box[2] - box[0]) / w, (box[3] - box[1]) / h
        return box[0] + (c + 0.5) * bw, box[1] + (r + 0.5) * bh

    def diag(box):
        return math.sqrt(((box[2] - box[0]) / w)**2 +
                         ((box[3] - box[1]) / h)**2)

    box_1, box_2 = box_1.tolist(), box_2.tolist()
    scale = max(diag(box_1), diag(box_2))
    mask = torch.zeros(h * w, h * w, dtype=torch.bool)
    for i in range(h * w):
        x1, y1 = centre(box_1, i // w, i % w)
        for j in range(h * w):
            x2, y2 = centre(box_2, j // w, j % w)
            dist = math.sqrt((x1 - x2)**2 + (y1 - y2)**2)
            mask[i, j] = dist / scale < radius
    return mask


def test_crop_bin_centres():
    boxes = torch.tensor([[0.2, 0.1, 0.6, 0.9]], dtype=torch.float64)
    cx, cy, diag = crop_bin_centres(boxes, (4, 2))
    torch.testing.assert_close(cx, torch.tensor([[0.3, 0.5]],
                                                dtype=torch.float64))
    torch.testing.assert_close(
        cy, torch.tensor([[0.2, 0.4, 0.6, 0.8]], dtype=torch.float64))
    torch.testing.assert_close(diag,
                               torch.tensor([math.hypot(0.2, 0.2)],
                                            dtype=torch.float64))


@pytest.mark.parametrize('h,w,radius', [(4, 4, 0.1), (5, 3, 0.7),
                                        (6, 7, 1.5)])
def test_positive_mask_matches_brute_force(h, w, radius):
    gen = torch.Generator().manual_seed(h * 10 + w)
    box_1, box_2 = overlapping_boxes(3, gen, torch.float64)
    mask = coord_positive_mask(box_1, box_2, (h, w), radius)
    assert mask.dtype == torch.bool and mask.shape == (3, h * w, h * w)
    for n in range(3):
        expected = brute_force_mask(box_1[n], box_2[n], h, w, radius)
        assert torch.equal(mask[n], expected)
    # a block of rows is the matching slice of the full mask
    rows = coord_positive_mask(box_1, box_2, (h, w), radius, slice(1, 3))
    assert torch.equal(rows, mask[:, w:3 * w])


def test_identical_crops_pair_each_position_with_itself():
    boxes = torch.tensor([[0.1, 0.2, 0.5, 0.6]])
    mask = coord_positive_mask(boxes, boxes, (4, 4), 0.1)
    assert torch.equal(mask[0], torch.eye(16, dtype=torch.bool))
    # neighbours sit one bin apart, 1 / sqrt(2) of a (square) bin diagonal
    mask = coord_positive_mask(boxes, boxes, (4, 4), 0.75)
    assert mask[0, 5].sum() == 5  # position (1, 1): itself + 4 neighbours


def test_identical_crops_loss_value():
    torch.manual_seed(0)
    boxes = torch.tensor([[0.1, 0.2, 0.5, 0.6], [0., 0., 1., 1.]])
    pred, target = torch.randn(2, 8, 3, 3), torch.randn(2, 8, 3, 3)
    fwd, bwd = torch.randn(2, 2, 3, 3), torch.randn(2, 2, 3, 3)
    loss = HybridCorrespondenceLoss(pos_radius=0.1)
    spatial, temporal = loss(pred, target, fwd, bwd, boxes, boxes)
    # the positives are exactly the 9 (i, i) pairs of each sample
    cos = F.cosine_similarity(pred, target, dim=1).flatten(1).sum(1) / (
        9 + 1e-6)
    cos_flow = F.cosine_similarity(fwd, bwd, dim=1).flatten(1).sum(1) / (
        9 + 1e-6)
    torch.testing.assert_close(spatial, -2 * cos.mean())
    torch.testing.assert_close(temporal, -2 * cos_flow.mean())


def random_inputs(n, c, h, w, seed, dtype=torch.float32):
    """Maps sharing a per-sample component, so similarities are O(1)."""
    gen = torch.Generator().manual_seed(seed)

    def maps(channels):
        shared = torch.randn(n, channels, 1, 1, generator=gen, dtype=dtype)
        return [
            shared +
            0.5 * torch.randn(n, channels, h, w, generator=gen, dtype=dtype)
            for _ in range(2)
        ]

    boxes = overlapping_boxes(n, gen, dtype)
    return maps(c) + maps(2), boxes


@pytest.mark.parametrize('n,c,h,w,chunk_rows', [(1, 8, 4, 4, 1),
                                                (3, 16, 8, 8, 3),
                                                (2, 32, 16, 12, 4),
                                                (8, 16, 32, 32, 4)])
def test_matches_dense_reference(n, c, h, w, chunk_rows):
    maps, (box_1, box_2) = random_inputs(n, c, h, w, seed=n + h)
    results = []
    for loss in (HybridCorrespondenceLoss(0.1, chunk_rows=chunk_rows),
                 DenseHybridCorrespondenceLoss(0.1)):
        inputs = [m.clone().requires_grad_() for m in maps]
        spatial, temporal = loss(*inputs, box_1, box_2)
        (spatial + 0.5 * temporal).backward()
        results.append((spatial, temporal, [m.grad for m in inputs]))
    (spatial, temporal, grads), (ref_s, ref_t, ref_grads) = results
    assert ref_s.abs() > 0.1 and ref_t.abs() > 0.1
    torch.testing.assert_close(spatial, ref_s, rtol=1e-5, atol=0)
    torch.testing.assert_close(temporal, ref_t, rtol=1e-5, atol=0)
    for grad, ref in zip(grads, ref_grads):
        torch.testing.assert_close(
            grad, ref, rtol=1e-4, atol=1e-5 * ref.abs().max().item())


def test_chunk_size_does_not_change_the_value():
    maps, (box_1, box_2) = random_inputs(
        2, 4, 7, 5, seed=3, dtype=torch.float64)
    values = [
        HybridCorrespondenceLoss(0.3, chunk_rows=k)(*maps, box_1, box_2)
        for k in (1, 2, 7, 100)
    ]
    for value in values[1:]:
        torch.testing.assert_close(value, values[0], rtol=1e-12, atol=0)


def test_positive_pair_sums_gradcheck():
    maps, (box_1, box_2) = random_inputs(
        2, 3, 4, 5, seed=0, dtype=torch.float64)
    maps = [m.requires_grad_() for m in maps]

    def sums(pred, target, fwd, bwd):
        _, out = positive_pair_sums(box_1, box_2, [(pred, target),
                                                   (fwd, bwd)], 0.8, 2)
        return tuple(out)

    assert torch.autograd.gradcheck(sums, tuple(maps))


def test_counts_and_no_grad_to_frozen_target():
    maps, (box_1, box_2) = random_inputs(2, 4, 6, 6, seed=1)
    pred = maps[0].requires_grad_()
    counts, (total, ) = positive_pair_sums(box_1, box_2, [(pred, maps[1])],
                                           0.4)
    mask = coord_positive_mask(box_1, box_2, (6, 6), 0.4)
    assert torch.equal(counts, mask.sum((1, 2)))
    total.sum().backward()
    expected = torch.bmm(mask.float(), maps[1].flatten(2).transpose(1, 2))
    torch.testing.assert_close(pred.grad.flatten(2).transpose(1, 2), expected)


def _peak_allocated_bytes(fn):
    """Peak of the running sum of allocations the profiler records."""
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as p:
        fn()
    events = [
        e for e in p.profiler.kineto_results.events() if e.name() == '[memory]'
    ]
    current = peak = 0
    for event in sorted(events, key=lambda e: e.start_ns()):
        current += event.nbytes()
        peak = max(peak, current)
    return peak


def test_peak_memory_at_most_half_of_dense():
    maps, (box_1, box_2) = random_inputs(4, 64, 16, 16, seed=2)
    pred, target, fwd, bwd = maps
    peaks = []
    for loss in (HybridCorrespondenceLoss(0.1),
                 DenseHybridCorrespondenceLoss(0.1)):
        inputs = [pred.clone().requires_grad_(), target,
                  fwd.clone().requires_grad_(), bwd.clone().requires_grad_()]

        def step():
            spatial, temporal = loss(*inputs, box_1, box_2)
            (spatial + temporal).backward()

        peaks.append(_peak_allocated_bytes(step))
    assert peaks[1] > 4 * 256 * 256 * 4  # dense holds (4, 256, 256) floats
    assert peaks[0] <= 0.5 * peaks[1]


def test_registry_and_bad_arguments():
    loss = MODELS.build(dict(type='HybridCorrespondenceLoss', pos_radius=0.2))
    assert isinstance(loss, HybridCorrespondenceLoss)
    assert loss.pos_radius == 0.2 and loss.loss_weight == 2.0
    with pytest.raises(ValueError, match='pos_radius'):
        HybridCorrespondenceLoss(pos_radius=0)
    maps, (box_1, box_2) = random_inputs(2, 4, 3, 3, seed=0)
    with pytest.raises(ValueError, match='crop boxes'):
        loss(*maps, box_1[:1], box_2)
    with pytest.raises(ValueError, match='same N'):
        loss(maps[0], maps[1][:, :, :2], *maps[2:], box_1, box_2)


def inputs_with_disjoint_views():
    """``random_inputs`` of 3 samples whose sample 0 has disjoint views."""
    maps, (box_1, box_2) = random_inputs(3, 16, 8, 8, seed=4)
    box_1[0] = torch.tensor([0., 0., 0.4, 0.4])
    box_2[0] = torch.tensor([0.6, 0.6, 1., 1.])
    counts = coord_positive_mask(box_1, box_2, (8, 8), 0.1).sum((1, 2))
    assert counts[0] == 0 and (counts[1:] > 0).all()
    return maps, (box_1, box_2)


def _loss_and_grads(maps, box_1, box_2, autocast_dtype=None):
    """Loss terms and input gradients; forward and backward run inside
    ``torch.autocast('cpu', autocast_dtype)`` unless it is None."""
    inputs = [m.clone().requires_grad_() for m in maps]
    with torch.autocast(
            'cpu', dtype=autocast_dtype, enabled=autocast_dtype is not None):
        spatial, temporal = HybridCorrespondenceLoss(0.1)(*inputs, box_1,
                                                          box_2)
        (spatial + 0.5 * temporal).backward()
    return spatial, temporal, [m.grad for m in inputs]


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_half_inputs_under_cpu_autocast_compute_in_float32(dtype):
    maps, (box_1, box_2) = inputs_with_disjoint_views()
    half = [m.to(dtype) for m in maps]
    spatial, temporal, grads = _loss_and_grads(half, box_1, box_2, dtype)
    ref_s, ref_t, ref_grads = _loss_and_grads([m.float() for m in half],
                                              box_1, box_2)
    assert spatial.dtype == temporal.dtype == torch.float32
    assert torch.equal(spatial, ref_s) and torch.equal(temporal, ref_t)
    for grad, ref in zip(grads, ref_grads):
        assert grad.dtype == dtype and torch.isfinite(grad).all()
        assert torch.equal(grad, ref.to(dtype))


def test_float32_inputs_ignore_cpu_autocast():
    maps, (box_1, box_2) = inputs_with_disjoint_views()
    spatial, temporal, grads = _loss_and_grads(maps, box_1, box_2,
                                               torch.float16)
    ref_s, ref_t, ref_grads = _loss_and_grads(maps, box_1, box_2)
    assert torch.equal(spatial, ref_s) and torch.equal(temporal, ref_t)
    for grad, ref in zip(grads, ref_grads):
        assert torch.equal(grad, ref)
