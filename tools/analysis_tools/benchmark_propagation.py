"""Speed and peak memory of label propagation: dense reference vs. windowed.

Propagates random soft labels through a synthetic video of random
L2-normalised features with the test-time protocol (long-term frame 0 plus
the ``context_size`` previous frames, clamped to frame 0 and not
deduplicated unless ``--dedup``), once with the dense masked reference
(``mmhvc.testing.dense_label_propagation``) and once with
:class:`~mmhvc.models.propagation.LabelPropagator`, and checks that both
give the same soft labels (maximum absolute difference).

Method:

- Frame ``t`` has features drawn from a generator seeded with ``t`` and
  random soft labels; both variants see the same inputs, and the stored
  labels of every frame are these random labels (not the predictions), so
  that the variants stay comparable frame by frame.
- Query frame ``start`` warms up (untimed); the timed query frames are
  ``start + 1 .. start + frames``. With the default ``--start-frame 60``
  every context holds ``context_size + 1`` distinct frames (the steady state
  of a long video); ``--start-frame 1`` measures a video from its start,
  where the padded context repeats frame 0.
- The dense reference scores all ``context_size + 1`` context entries at
  every frame, so its cost does not depend on ``t``; it is timed on the
  first ``--dense-frames`` query frames only, and the agreement is checked
  on those. In float32 a position can differ where two neighbours' dot
  products tie to within rounding (about 1e-7) at the top-k boundary; the
  number of positions whose labels differ by more than 1e-4 is printed.
- Times are wall-clock (and process CPU) seconds of the propagation calls
  alone (feature generation excluded); the median per frame is reported,
  frames/s is its inverse, and for the windowed propagator also the mean
  over all its frames (the rate over a whole video).
- Each variant runs in its own subprocess of this script. Peak memory on
  the CPU is that process's peak resident set size (``ru_maxrss``), shown
  in total and above the resident size before the variant allocated
  anything (after imports); on a GPU it is
  ``torch.cuda.max_memory_allocated``.

Example (480p frames give a 60 x 107 feature grid)::

    python tools/analysis_tools/benchmark_propagation.py --image-size 480 854
"""
import argparse
import json
import math
import os
import os.path as osp
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

import torch
import torch.nn.functional as F

from mmhvc.models.propagation import LabelPropagator
from mmhvc.testing import dense_label_propagation

MIB = 2.**20
VARIANTS = ('dense', 'windowed')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Frames/s and peak memory of dense and windowed label '
        'propagation on random features')
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        '--grid', type=int, nargs=2, metavar=('H', 'W'),
        help='feature grid (default 60 107)')
    size.add_argument(
        '--image-size', type=int, nargs=2, metavar=('H', 'W'),
        help='frame size; the grid is ceil(size / 8)')
    parser.add_argument('--channels', type=int, default=256)
    parser.add_argument(
        '--labels', type=int, default=4,
        help='soft-label channels (background + objects)')
    parser.add_argument('--context-size', type=int, default=50)
    parser.add_argument('--topk', type=int, default=15)
    parser.add_argument('--radius', type=float, default=12.)
    parser.add_argument('--temperature', type=float, default=0.1)
    parser.add_argument('--dedup', action='store_true',
                        help='deduplicated context')
    parser.add_argument('--restrict-long-term', action='store_true')
    parser.add_argument(
        '--bf16-prefilter', choices=['auto', 'on', 'off'], default='auto')
    parser.add_argument('--tile-size', type=int, default=12)
    parser.add_argument('--start-frame', type=int, default=60)
    parser.add_argument('--frames', type=int, default=3,
                        help='query frames of the windowed propagator')
    parser.add_argument('--dense-frames', type=int, default=2,
                        help='query frames of the dense reference')
    parser.add_argument('--threads', type=int,
                        help='torch threads (default: torch default)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--variant', choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument('--out', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.image_size is not None:
        args.grid = [math.ceil(s / 8) for s in args.image_size]
    elif args.grid is None:
        args.grid = [60, 107]
    if args.start_frame < 1:
        parser.error('--start-frame must be >= 1 (frame 0 is given)')
    return args


def frame_data(t: int, args: argparse.Namespace) -> tuple:
    """Features ``(C, h, w)`` and soft labels ``(L, h, w)`` of frame t."""
    generator = torch.Generator().manual_seed(t)
    feat = torch.randn(args.channels, *args.grid, generator=generator)
    label = torch.rand(args.labels, *args.grid, generator=generator)
    return (F.normalize(feat, dim=0).to(args.device),
            label.to(args.device))


def resident_mib() -> float:
    """Current resident set size of this process (Linux)."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return float('nan')


def peak_mib(device: torch.device) -> float:
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / MIB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_variant(args: argparse.Namespace) -> None:
    """Child process: time one variant and write its predictions."""
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    prefilter = dict(auto=None, on=True, off=False)[args.bf16_prefilter]
    propagator = LabelPropagator(
        radius=args.radius,
        topk=args.topk,
        temperature=args.temperature,
        context_size=args.context_size,
        dedup_context=args.dedup,
        restrict_long_term=args.restrict_long_term,
        bf16_prefilter=prefilter,
        tile_size=args.tile_size)
    num = args.frames if args.variant == 'windowed' else args.dense_frames
    queries = list(range(args.start_frame, args.start_frame + num + 1))
    baseline = resident_mib()

    if args.variant == 'windowed':
        memory = propagator.init_memory(1, args.channels, args.labels,
                                        *args.grid, device)
        for s in propagator.memory_frames([0], queries[0] - 1):
            memory.add(s, *frame_data(s, args))

        def prepare(t: int) -> None:
            return None

        def step(t: int, feat: torch.Tensor) -> torch.Tensor:
            return propagator.propagate(
                feat, memory, [propagator.context_indices(0, t)])[0]

        def advance(t: int) -> None:
            memory.retain(propagator.memory_frames([0], t))
            memory.add(t, *frame_data(t, args))
    else:
        cache: Dict[int, tuple] = {}

        def prepare(t: int) -> None:
            for s in set(propagator.context_indices(0, t)) - set(cache):
                cache[s] = frame_data(s, args)

        def step(t: int, feat: torch.Tensor) -> torch.Tensor:
            context = propagator.context_indices(0, t)
            return dense_label_propagation(
                feat,
                torch.stack([cache[s][0] for s in context]),
                torch.stack([cache[s][1] for s in context]),
                radius=args.radius,
                topk=args.topk,
                temperature=args.temperature,
                restrict_long_term=args.restrict_long_term)

        def advance(t: int) -> None:
            keep = set(propagator.memory_frames([0], t))
            for s in set(cache) - keep:
                del cache[s]

    preds: List[torch.Tensor] = []
    wall: List[float] = []
    cpu: List[float] = []
    for i, t in enumerate(queries):
        feat = frame_data(t, args)[0]
        prepare(t)
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        pred = step(t, feat)
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        if i > 0:  # the first call warms up
            wall.append(time.perf_counter() - start_wall)
            cpu.append(time.process_time() - start_cpu)
            preds.append(pred.cpu())
        advance(t)
    torch.save(preds, args.out)
    print(
        json.dumps(
            dict(
                frames=queries[1:],
                wall=wall,
                cpu=cpu,
                peak=peak_mib(device),
                baseline=baseline if device.type == 'cpu' else 0.)))


def launch(variant: str, args: argparse.Namespace, out: str) -> dict:
    """Run one variant in a subprocess and read its report."""
    command = [sys.executable, osp.abspath(__file__)] + sys.argv[1:] + [
        '--variant', variant, '--out', out
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, env=os.environ.copy())
    if result.returncode != 0:
        raise RuntimeError(f'the {variant} run failed:\n{result.stderr}')
    report = json.loads(result.stdout.strip().splitlines()[-1])
    report['preds'] = torch.load(out)
    return report


def cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown CPU'


def main() -> None:
    args = parse_args()
    if args.variant is not None:
        run_variant(args)
        return
    height, width = args.grid
    threads = args.threads or torch.get_num_threads()
    print(f'grid {height}x{width}, C={args.channels}, L={args.labels}, '
          f'context {args.context_size} + long-term frame '
          f'({"deduplicated" if args.dedup else "padded"}), '
          f'top-k {args.topk}, radius {args.radius}, '
          f'query frames from {args.start_frame}')
    print(f'device {args.device} ({cpu_name()}, {os.cpu_count()} cores, '
          f'{threads} torch threads), torch {torch.__version__}, '
          f'bf16 prefilter {args.bf16_prefilter}')
    with tempfile.TemporaryDirectory() as tmp:
        reports = {
            v: launch(v, args, osp.join(tmp, f'{v}.pth'))
            for v in VARIANTS
        }
    header = (f'{"variant":<9} {"frames":>6} {"s/frame":>9} {"cpu s":>8} '
              f'{"frames/s":>9} {"peak MiB":>9} {"+MiB":>8}')
    print(header)
    print('-' * len(header))
    per_frame = {}
    for variant, report in reports.items():
        per_frame[variant] = statistics.median(report['wall'])
        print(f'{variant:<9} {len(report["wall"]):>6} '
              f'{per_frame[variant]:>9.3f} '
              f'{statistics.median(report["cpu"]):>8.2f} '
              f'{1 / per_frame[variant]:>9.3f} {report["peak"]:>9.0f} '
              f'{report["peak"] - report["baseline"]:>8.0f}')
    cpu = {v: statistics.median(r['cpu']) for v, r in reports.items()}
    print(f'speed-up (frames/s, windowed / dense): '
          f'{per_frame["dense"] / per_frame["windowed"]:.1f}x; in CPU '
          f'time per frame: {cpu["dense"] / cpu["windowed"]:.1f}x')
    windowed = reports['windowed']
    mean = statistics.mean(windowed['wall'])
    print(f'windowed over all its frames (t = {windowed["frames"][0]}..'
          f'{windowed["frames"][-1]}): {mean:.3f} s/frame, '
          f'{1 / mean:.3f} frames/s, {per_frame["dense"] / mean:.1f}x the '
          'dense frames/s')
    diffs = torch.stack([
        (a - b).abs().amax(0) for a, b in zip(reports['dense']['preds'],
                                              reports['windowed']['preds'])
    ])
    print(f'max |dense - windowed| over {len(diffs)} frames: '
          f'{diffs.max().item():.3g}; positions differing by more than '
          f'1e-4: {int((diffs > 1e-4).sum())} of {diffs.numel()}')


if __name__ == '__main__':
    main()
