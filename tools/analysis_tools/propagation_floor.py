"""How fast exact windowed label propagation can be on this machine: the
work of one steady-state frame, the time of the kernel's matrix products
alone, and how closely real features tie.

For one query frame (default ``context_size + 1``, whose context holds
``context_size + 1`` distinct frames) of one video (``--videos NAME``,
default the first), encoded as ``benchmark_propagation.py`` encodes it
(same options):

- Work, in multiply-adds of ``C``-channel dot products: the dense
  reference (every query against every position of every context entry),
  the windowed kernel's products (its query blocks and key rows, in every
  slot of the memory, plus the long-term frame) and the least work of
  scoring each candidate once (each query's disk in the distinct
  short-term frames plus the whole long-term frame).
- Time: the dense reference, the windowed propagator, the kernel's matrix
  products alone (the same calls on the same memory, without the top-k
  selection), and the least work at the rate of one large product on this
  machine. The speed-up of the products alone bounds that of any top-k
  selection over them.
- Products: the kernel's most common key-row product and a large one,
  timed in float32, in bfloat16 and as a split-bfloat16 score.
- Ties: for ``--samples`` query positions, exact (float64) scores of the
  candidates; per query the number of candidates within ``2 e`` of its
  k-th best, for the error ``e`` of a bfloat16 score and smaller errors. A
  reduced-precision first pass with error ``e`` keeps the neighbours of
  exact scoring only if every candidate in that band is scored again.

Example (2 threads, as in docs/benchmarks.md)::

    python tools/analysis_tools/propagation_floor.py --threads 2 \
        --checkpoint work_dirs/demo/train/iter_240.pth
"""
import argparse
import contextlib
import importlib.util
import os.path as osp
import statistics
import tempfile
import time
from collections import Counter
from typing import Callable, Dict, List, Optional, Sequence

import torch
from terminaltables import AsciiTable

from mmhvc.models.propagation import LabelPropagator
from mmhvc.models.propagation.bf16_prefilter import bf16_score_error
from mmhvc.models.propagation.context_memory import ContextMemory
from mmhvc.models.propagation.query_tiles import (disk_reach,
                                                  make_query_tiles)
from mmhvc.models.propagation.slot_plan import plan_slots
from mmhvc.models.propagation.topk_kernel import key_row_scores
from mmhvc.testing import dense_label_propagation

_spec = importlib.util.spec_from_file_location(
    'benchmark_propagation',
    osp.join(osp.dirname(osp.abspath(__file__)), 'benchmark_propagation.py'))
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

#: Score errors whose tie bands are counted besides bfloat16's.
ERRORS = (1e-3, 1e-4, 1e-5)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Work, product-only time and ties of exact windowed '
        'label propagation on real video features')
    bench.add_video_arguments(parser)
    parser.add_argument('--image-size', type=int, nargs=2,
                        metavar=('H', 'W'),
                        help='frame size (default 480 854)')
    parser.add_argument('--frame', type=int,
                        help='query frame (default context_size + 1)')
    parser.add_argument('--samples', type=int, default=200,
                        help='query positions whose ties are counted')
    parser.add_argument('--repeats', type=int, default=3,
                        help='timed runs of the windowed variants (median)')
    args = parser.parse_args(argv)
    bench.check_video_arguments(parser, args)
    if args.videos and len(args.videos) > 1:
        parser.error('--videos: one video is measured, got '
                     f'{len(args.videos)}')
    return args


def median_time(fn: Callable[[], object], repeats: int) -> float:
    """Median wall-clock seconds of ``repeats`` calls after one untimed
    call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fill_memory(propagator: LabelPropagator, feats: torch.Tensor,
                labels: List[torch.Tensor], frame: int) -> ContextMemory:
    """The memory the propagator holds when it reaches ``frame``, the stored
    labels of every earlier frame being ``labels``."""
    _, channels, height, width = feats.shape
    memory = propagator.init_memory(1, channels, labels[0].shape[0], height,
                                    width, feats.device)
    memory.add(0, feats[0], labels[0])
    for t in range(1, frame):
        memory.retain(propagator.memory_frames([0], t))
        memory.add(t, feats[t], labels[t])
    return memory


def kernel_products(propagator: LabelPropagator, memory: ContextMemory,
                    context: Sequence[int], query: torch.Tensor
                    ) -> Dict[str, object]:
    """The matrix products the kernel computes for ``query`` ``(C, h, w)``:
    their multiply-adds (``pairs``, times ``C``), a function that runs them
    (``run``: same shapes, same memory, no selection) and the most common
    key-row product ``(M, N, K)`` (``shape``)."""
    kernel = propagator.kernel
    channels, height, width = query.shape
    plan = plan_slots(memory, [context], kernel.restrict_long_term,
                      query.device)
    tiles = make_query_tiles(height, width, kernel.tile_size, kernel.radius,
                             query.device, query.dtype)
    span = plan.slots.stop - plan.slots.start
    long_terms = sorted(
        {g.long_term for g in plan.groups if g.long_term is not None})
    num_pos = height * width
    pairs = sum(tile.size * span for tile in tiles) + \
        len(long_terms) * num_pos * num_pos
    queries = query.permute(1, 2, 0)
    block_size = max((t.rows.stop - t.rows.start) *
                     (t.cols.stop - t.cols.start) for t in tiles)
    buffer = query.new_empty(
        max(max(t.size for t in tiles) * span, num_pos * block_size))

    def run() -> None:
        for tile in tiles:
            block = queries[tile.rows, tile.cols].reshape(-1, channels)
            for _ in key_row_scores(block, tile, memory.feats, plan.slots,
                                    buffer):
                pass
            for slot in long_terms:
                torch.mm(memory.feats[slot].view(num_pos, channels),
                         block.T,
                         out=buffer[:num_pos * block.shape[0]].view(
                             num_pos, block.shape[0]))

    shapes = Counter((r.cols.stop - r.cols.start,
                      r.queries.stop - r.queries.start)
                     for t in tiles for r in t.key_rows)
    common = shapes.most_common(1)[0][0] if shapes else (0, 0)
    return dict(pairs=pairs, run=run,
                shape=(common[0] * span, common[1], channels))


def least_pairs(propagator: LabelPropagator, context: Sequence[int],
                height: int, width: int) -> int:
    """Query-candidate pairs of scoring each candidate once: each query's
    disk in the distinct short-term frames and, unless restricted, the
    whole long-term frame."""
    kernel = propagator.kernel
    reach = disk_reach(kernel.radius)
    ys = torch.arange(height)
    xs = torch.arange(width)
    disk = 0
    for dy in range(-reach, reach + 1):
        rows = int(((ys + dy >= 0) & (ys + dy < height)).sum())
        for dx in range(-reach, reach + 1):
            if dy * dy + dx * dx < kernel.radius**2:
                cols = int(((xs + dx >= 0) & (xs + dx < width)).sum())
                disk += rows * cols
    short_term = set(context[1:])
    if kernel.restrict_long_term:
        return disk * len(short_term | {context[0]})
    return disk * len(short_term - {context[0]}) + (height * width)**2


def large_product_rate(channels: int, num_pos: int) -> float:
    """Multiply-adds per second of one large float32 product on this
    machine: a whole frame of keys against 480 queries."""
    keys = torch.randn(num_pos, channels)
    queries = torch.randn(480, channels)
    out = torch.empty(num_pos, 480)
    seconds = median_time(lambda: torch.mm(keys, queries.T, out=out), 5)
    return num_pos * channels * 480 / seconds


@contextlib.contextmanager
def bf16_float32_products():
    """float32 products computed by oneDNN from bfloat16-rounded inputs
    with float32 accumulation and output, while the context is active."""
    matmul = torch.backends.mkldnn.matmul
    previous = matmul.fp32_precision
    matmul.fp32_precision = 'bf16'
    try:
        yield
    finally:
        matmul.fp32_precision = previous


def product_rates(shapes: Sequence[Sequence[int]]) -> List[List[str]]:
    """Per ``(M, N, K)`` product shape, the milliseconds of one float32
    product, of one bfloat16 product (bfloat16 output) and of the three
    products of a split-bfloat16 score with float32 output (one product
    ``3 K`` deep, from bfloat16 inputs, accumulated in float32)."""
    rows = []
    for m, n, k in shapes:
        times = []
        for dtype, depth in ((torch.float32, k), (torch.bfloat16, k),
                             (None, 3 * k)):
            a = torch.randn(m, depth).to(dtype or torch.bfloat16)
            b = torch.randn(n, depth).to(dtype or torch.bfloat16)
            if dtype is None:
                a, b = a.float(), b.float()
            out = torch.empty(m, n, dtype=a.dtype)
            with bf16_float32_products() if dtype is None else \
                    contextlib.nullcontext():
                times.append(
                    median_time(lambda: torch.mm(a, b.T, out=out), 20) *
                    1e3)
        rows.append([f'{m} x {k} x {n}'] + [f'{t:.3f}' for t in times])
    return rows


def tie_bands(propagator: LabelPropagator, feats: torch.Tensor,
              context: Sequence[int], frame: int,
              samples: int) -> Dict[float, List[int]]:
    """Per score error ``e``, the number of candidates within ``2 e`` of the
    k-th best exact score, for ``samples`` random query positions."""
    kernel = propagator.kernel
    _, channels, height, width = feats.shape
    generator = torch.Generator().manual_seed(0)
    picks = torch.randperm(height * width, generator=generator)[:samples]
    query = feats[frame].flatten(1).T[picks].double()
    ys = torch.arange(height * width) // width
    xs = torch.arange(height * width) % width
    inside = (ys - ys[picks, None])**2 + (xs - xs[picks, None])**2 < \
        kernel.radius**2
    short_term = sorted(set(context[1:]) - {context[0]}) \
        if not kernel.restrict_long_term else sorted(set(context))
    scores = [(query @ feats[t].flatten(1).double()).masked_fill(
        ~inside, float('-inf')) for t in short_term]
    if not kernel.restrict_long_term:
        scores.append(query @ feats[context[0]].flatten(1).double())
    scores = torch.cat(scores, 1)
    kth = scores.topk(kernel.topk, dim=1).values[:, -1:]
    errors = (bf16_score_error(channels), ) + ERRORS
    return {e: (scores >= kth - 2 * e).sum(1).tolist() for e in errors}


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    propagator = LabelPropagator(**bench.propagator_settings(args))
    frame = args.frame or propagator.context_size + 1
    args.frames = frame + 1
    if not args.videos:  # the first video
        args.videos = list(bench.list_videos(args.data or
                                             bench.demo_videos()))[:1]
    with tempfile.TemporaryDirectory() as tmp:
        ((name, path), ) = bench.encode_videos(args, tmp).items()
        feats = torch.load(path).to(args.device)
    num_frames, channels, height, width = feats.shape
    if frame >= num_frames:
        raise ValueError(f'{name} has {num_frames} frames; --frame {frame} '
                         'is beyond its last')
    labels = [
        bench.smooth_labels(t, args.labels, (height, width)).to(args.device)
        for t in range(num_frames)
    ]
    memory = fill_memory(propagator, feats, labels, frame)
    context = propagator.context_indices(0, frame)
    products = kernel_products(propagator, memory, context, feats[frame])
    num_pos = height * width
    dense_pairs = num_pos * len(context) * num_pos
    least = least_pairs(propagator, context, height, width)
    windowed_s = median_time(
        lambda: propagator.propagate(feats[frame], memory, [context]),
        args.repeats)
    products_s = median_time(products['run'], args.repeats)
    rate = large_product_rate(channels, num_pos)
    start = time.perf_counter()
    dense_label_propagation(
        feats[frame], feats[context],
        torch.stack([labels[t] for t in context]),
        radius=propagator.radius, topk=propagator.topk,
        temperature=propagator.temperature,
        restrict_long_term=propagator.kernel.restrict_long_term)
    dense_s = time.perf_counter() - start

    print(f'{name}, query frame {frame}: grid {height}x{width}, C={channels}, '
          f'{len(context)} context entries ({len(set(context))} distinct '
          f'frames), top-k {propagator.topk}, radius {propagator.radius}, '
          f'tiles {propagator.kernel.tile_size}; '
          f'{args.checkpoint or "random initialisation"}; '
          f'{bench.device_name(args.device)}, {torch.get_num_threads()} '
          f'threads')
    giga = channels / 1e9
    rows = [['', 'multiply-adds (G)', 'seconds', 'speed-up over dense']]
    for label, pairs, seconds in (
            ('dense reference', dense_pairs, dense_s),
            ('windowed propagator', products['pairs'], windowed_s),
            ('  its matrix products alone', products['pairs'], products_s),
            (f'least work at {rate / 1e9:.0f} G multiply-adds/s',
             least, least * channels / rate)):
        rows.append([label, f'{pairs * giga:.1f}', f'{seconds:.3f}',
                     f'{dense_s / seconds:.1f}x'])
    print(AsciiTable(rows, 'Work and time of one query frame').table)
    print(f'the kernel computes {products["pairs"] / least:.2f} times the '
          f'least work; its products run at '
          f'{products["pairs"] * channels / products_s / 1e9:.0f} G '
          f'multiply-adds/s')

    rows = [['product M x K x N', 'float32 ms', 'bfloat16 ms',
             'split bfloat16 ms']] + product_rates(
                 [products['shape'], (num_pos, 480, channels)])
    print(AsciiTable(rows, 'The most common key-row product of the kernel '
                     'and a large one').table)

    bands = tie_bands(propagator, feats.cpu(), context, frame, args.samples)
    rows = [['score error e', 'median', '90th percentile', 'max']]
    for error, counts in bands.items():
        label = f'{error:.2g}' + (' (bfloat16)' if error not in ERRORS
                                  else '')
        counts = torch.tensor(counts, dtype=torch.float)
        rows.append([label, f'{counts.median():.0f}',
                     f'{counts.quantile(0.9):.0f}', f'{counts.max():.0f}'])
    print(AsciiTable(rows, f'Candidates within 2e of the k-th best score '
                     f'({len(counts)} queries)').table)


if __name__ == '__main__':
    main()
