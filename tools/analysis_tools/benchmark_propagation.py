"""Speed of label propagation on real video features.

Modes (``--mode``):

- ``backends`` (default): the windowed and the dense backend of the
  config's propagator on the same features, every frame's stored labels
  being the same smooth random soft labels (``--labels`` channels) for both
  and the context the test-time one. The windowed backend propagates every
  frame from 1 on, the dense one frames 1, 1 + S, ... (S =
  ``--dense-stride``) and the first steady-state frame. Per backend:
  seconds per frame in the steady state (``t > context_size``: a context of
  ``context_size + 1`` distinct frames) and over the whole video (dense:
  over its frames), and peak memory; the windowed backend's fraction of the
  products-only floor (floor time / windowed time, steady state); the
  argmax agreement of the two on the frames both propagate.
- ``floor``: one steady-state frame (``--frame``) of one video: work and
  seconds of the dense backend, of the windowed backend, of its matrix
  products alone (the same ``key_row_scores`` calls and long-term products
  without selection: the floor) and of the least work (each query's disk
  in the distinct short-term frames plus the whole long-term frame) at the
  rate of one large product.
- ``end-to-end``: the model's ``propagate_video`` (what ``tools/test.py``
  runs) from a first-frame mask of ``--labels - 1`` boxes, once per
  ``--encode-batch`` value, encoding timed apart; masks compared with the
  first run's.

Frames are resized to ``--image-size`` (480 x 854: a 60 x 107 grid) and
encoded by the encoder of ``--config`` with ``--checkpoint`` or a random
initialisation. ``--data``: a DAVIS root, a folder of frame folders (e.g.
``../shared/data/real/videos``) or of frames; by default two demo videos
generated into ``data/demo_davis_480p``. Exact ties (identical pixels) are
broken by adding ``--perturb`` times normal noise to the features. Times
are wall-clock seconds after one untimed call. ``--fp16`` encodes and
propagates under autocast to float16, as the model's ``fp16`` option does
on CUDA. Peak memory of a pass, in total and above its start: resident size
(``VmHWM``) on the CPU, ``torch.cuda.max_memory_allocated`` on a GPU.

Example: ``python tools/analysis_tools/benchmark_propagation.py --threads 2
--data ../shared/data/real/videos --mode end-to-end --encode-batch 1 4``
"""
import argparse
import contextlib
import ctypes
import math
import os
import os.path as osp
import platform
import statistics
import sys
import time
from typing import (Any, Callable, ContextManager, Dict, Iterator, List,
                    Optional, Sequence, Tuple, Union)

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.runner import set_random_seed
from mmengine.structures import BaseDataElement
from terminaltables import AsciiTable

from mmhvc.apis import init_model
from mmhvc.datasets.synthetic import write_demo_videos
from mmhvc.fileio import is_image_file, list_frames, read_image
from mmhvc.models.propagation import (ContextMemory, DenseBackend,
                                      LabelPropagator, WindowedBackend)
from mmhvc.models.propagation.windowed import key_row_scores, plan_slots

MODES = ('backends', 'floor', 'end-to-end')
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_DATA = 'data/demo_davis_480p'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add = parser.add_argument
    add('--mode', choices=MODES, default='backends')
    add('--data', help=f'videos (default: {DEMO_DATA}, generated if absent)')
    add('--videos', nargs='+', help='only these videos')
    add('--frames', type=int, help='frames per video at most')
    add('--image-size', type=int, nargs=2, default=[480, 854],
        metavar=('H', 'W'))
    add('--config',
        default=osp.join(REPO, 'configs/propagation/demo_davis_r18.py'))
    add('--checkpoint', help='encoder weights (default: random init)')
    add('--seed', type=int, default=0, help='seed of the random init')
    add('--cfg-options', nargs='+', action=DictAction,
        help='config overrides, e.g. model.propagator.context_size=20')
    add('--labels', type=int, default=4, help='background + objects')
    add('--perturb', type=float, default=1e-5, help='tie-breaking noise')
    add('--dense-stride', type=int, default=10,
        help='backends: the dense backend propagates every S-th frame')
    add('--frame', type=int, help='floor: frame (default context_size + 1)')
    add('--repeats', type=int, default=3, help='floor: timed runs (median)')
    add('--encode-batch', type=int, nargs='+', default=[1, 4],
        help='end-to-end: frames encoded at once, one run per value')
    add('--fp16', action='store_true', help='autocast to float16')
    add('--threads', type=int, help='torch threads')
    add('--device', default='cpu')
    args = parser.parse_args(argv)
    if args.mode == 'floor' and len(args.videos or []) > 1:
        parser.error('--mode floor measures one video')
    if min(args.dense_stride, *args.encode_batch) < 1:
        parser.error('--dense-stride and --encode-batch must be >= 1')
    return args


def load_config(args: argparse.Namespace) -> Config:
    """``--config`` with ``--cfg-options`` merged in."""
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options or {})
    return cfg


def build_propagator(args: argparse.Namespace) -> LabelPropagator:
    """The config's propagator."""
    settings = dict(load_config(args).model.propagator)
    settings.pop('type', None)
    return LabelPropagator(**settings)


def list_videos(root: str) -> Dict[str, List[str]]:
    """Frame files of each video under a DAVIS root, a folder of frame
    folders or a folder of frames."""
    if not osp.isdir(root):
        raise FileNotFoundError(f'--data {root}: no such folder')
    davis = osp.join(root, 'JPEGImages', '480p')
    base = davis if osp.isdir(davis) else root

    def has_frames(folder: str) -> bool:
        return osp.isdir(folder) and any(map(is_image_file,
                                             os.listdir(folder)))

    videos = {
        name: list_frames(osp.join(base, name))
        for name in sorted(os.listdir(base))
        if has_frames(osp.join(base, name))
    }
    if not videos and has_frames(root):
        videos = {osp.basename(osp.normpath(root)): list_frames(root)}
    if not videos:
        raise FileNotFoundError(f'--data {root}: no frames found (expected '
                                'JPEGImages/480p/<video>/, <video>/ folders '
                                'or images)')
    return videos


def select_videos(args: argparse.Namespace) -> Dict[str, List[str]]:
    """Frame files of the videos to measure (``--frames`` at most; in
    ``floor`` mode one video)."""
    if args.data is None and not osp.isdir(osp.join(DEMO_DATA, 'JPEGImages')):
        print(f'generating the demo videos in {DEMO_DATA}', file=sys.stderr)
        write_demo_videos(
            DEMO_DATA, num_videos=2, size=(480, 854), num_frames=60, seed=0)
    videos = list_videos(args.data or DEMO_DATA)
    missing = sorted(set(args.videos or []) - set(videos))
    if missing:
        raise KeyError(f'videos {missing} are not in {args.data}')
    names = args.videos or list(videos)[:1 if args.mode == 'floor' else None]
    return {name: videos[name][:args.frames] for name in names}


def load_frames(paths: Sequence[str], size: Sequence[int],
                device: Union[str, torch.device]) -> torch.Tensor:
    """``(T, 3, H, W)`` uint8 BGR frames resized (bilinear) to ``size``."""
    frames = [
        cv2.resize(read_image(p), size[::-1], interpolation=cv2.INTER_LINEAR)
        for p in paths
    ]
    return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).to(device)


def build_model(args: argparse.Namespace, **options: Any) -> torch.nn.Module:
    """The config's test-time model, with the model ``options``, and
    ``--checkpoint`` or a seeded random initialisation."""
    set_random_seed(args.seed)
    # init_weights reports every parameter at INFO level; keep it quiet.
    MMLogger.get_instance('benchmark_propagation', log_level='WARNING')
    with contextlib.redirect_stdout(sys.stderr):  # loading messages
        return init_model(load_config(args), args.checkpoint, args.device,
                          {f'model.{k}': v for k, v in options.items()})


def video_features(
        args: argparse.Namespace) -> Iterator[Tuple[str, torch.Tensor]]:
    """Per video, its name and ``(T, C, h, w)`` features on ``--device``,
    perturbed and normalised, in the dtype the encoder returns."""
    model = build_model(args)
    generator = torch.Generator().manual_seed(1)
    for name, paths in select_videos(args).items():
        frames = load_frames(paths, args.image_size, args.device)
        with autocast(args):
            feats = torch.cat([f.cpu() for f in model.iter_feats(frames)])
        noise = torch.randn(feats.shape, generator=generator)
        yield name, F.normalize(feats.float() + args.perturb * noise,
                                dim=1).to(args.device, feats.dtype)


def smooth_labels(num_frames: int, num_labels: int,
                  grid: Sequence[int]) -> torch.Tensor:
    """``(T, L, h, w)`` soft labels: per frame ``t``, a softmax of noise
    (seeded by ``t``) on a grid four times coarser, upsampled bilinearly."""
    coarse = torch.stack([
        torch.randn(num_labels, *(math.ceil(s / 4) for s in grid),
                    generator=torch.Generator().manual_seed(t))
        for t in range(num_frames)
    ])
    return F.interpolate(coarse * 4, tuple(grid), mode='bilinear',
                         align_corners=True).softmax(1)


def autocast(args: argparse.Namespace) -> ContextManager:
    """Autocast to float16 on ``--device`` with ``--fp16``, else a no-op."""
    if not args.fp16:
        return contextlib.nullcontext()
    return torch.autocast(torch.device(args.device).type, torch.float16)


def timed(fn: Callable[[], Any], device: torch.device) -> Tuple[Any, float]:
    """``fn()`` and its wall-clock seconds (GPU work included)."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    out = fn()
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    return out, time.perf_counter() - start


def median_time(fn: Callable[[], Any], device: torch.device,
                repeats: int) -> float:
    """Median seconds of ``repeats`` calls after one untimed call."""
    fn()
    return statistics.median(timed(fn, device)[1] for _ in range(repeats))


def resident_bytes(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process in bytes (Linux;
    nan elsewhere)."""
    with contextlib.suppress(OSError), open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) * 1024.
    return float('nan')


@contextlib.contextmanager
def peak_memory(device: torch.device) -> Iterator[List[float]]:
    """Yield a list that holds, once the block ends, its peak memory in MiB,
    in total and above the memory at its start: torch's allocations on a
    GPU, the resident size on the CPU (after returning freed heap memory to
    the system)."""
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
        start = torch.cuda.memory_allocated(device)
    else:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL('libc.so.6').malloc_trim(0)
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')  # resets VmHWM
        start = resident_bytes('VmRSS')
    result = []
    yield result
    peak = torch.cuda.max_memory_allocated(device) \
        if device.type == 'cuda' else resident_bytes('VmHWM')
    result += [peak / 2**20, (peak - start) / 2**20]


def replay(propagator: LabelPropagator, feats: torch.Tensor,
           labels: torch.Tensor, queries: Sequence[int],
           step: Callable[..., Any]) -> Dict[int, Any]:
    """Store the frames of a video as the streaming loop does (one label
    group from frame 0), calling ``step`` at each query frame before it is
    stored; the steps' results by frame."""
    _, channels, height, width = feats.shape
    memory = propagator.init_memory(1, channels, labels.shape[1], height,
                                    width, feats.device, feats.dtype)
    memory.add(0, feats[0], labels[0])
    results = {}
    for t in range(1, max(queries) + 1):
        if t in queries:
            results[t] = step(t, memory, propagator.context_indices(0, t))
        memory.retain(propagator.memory_frames([0], t))
        memory.add(t, feats[t], labels[t])
    return results


def kernel_products(backend: WindowedBackend, memory: ContextMemory,
                    context: Sequence[int], query: torch.Tensor
                    ) -> Tuple[int, Callable[[], None]]:
    """The matrix products of the windowed backend for ``query`` ``(C, h,
    w)``: their query-key pairs (multiply-adds / C) and a function that
    runs them (same shapes, same memory, no selection)."""
    channels, height, width = query.shape
    plan = plan_slots(memory, [context], backend.restrict_long_term,
                      query.device)
    tiles = backend.query_tiles(height, width, query.device, query.dtype)
    span = plan.slots.stop - plan.slots.start
    long_terms = {s for g in plan.groups for s in g.long_term}
    num_pos = height * width
    pairs = sum(tile.size * span for tile in tiles) + \
        len(long_terms) * num_pos * num_pos
    queries = query.permute(1, 2, 0)
    buffer = query.new_empty(
        max(max(tile.size * span, num_pos * len(tile.query_pos))
            for tile in tiles))

    def run() -> None:
        for tile in tiles:
            block = queries[tile.rows, tile.cols].reshape(-1, channels)
            for _ in key_row_scores(block, tile, memory.feats, plan.slots,
                                    buffer):
                pass
            for slot in long_terms:
                torch.mm(memory.feats[slot].view(num_pos, channels), block.T,
                         out=buffer[:num_pos * len(block)].view(num_pos, -1))

    return pairs, run


def least_pairs(propagator: LabelPropagator, context: Sequence[int],
                height: int, width: int) -> int:
    """Query-candidate pairs of scoring each candidate once: each query's
    neighbourhood in the distinct short-term frames and, unless restricted, the
    whole long-term frame."""
    neighbourhood = propagator.windowed.neighbourhood
    reach = neighbourhood.reach
    disk = sum(
        max(height - abs(dy), 0) * max(width - abs(dx), 0)
        for dy in range(-reach, reach + 1)
        for dx in range(-neighbourhood.half_width(dy),
                        neighbourhood.half_width(dy) + 1))
    short_term = set(context[1:])
    if propagator.windowed.restrict_long_term:
        return disk * len(short_term | {context[0]})
    return disk * len(short_term - {context[0]}) + (height * width)**2


def propagation_step(args: argparse.Namespace,
                     backend: Union[DenseBackend, WindowedBackend],
                     feats: torch.Tensor) -> Callable[..., Any]:
    """A step that times ``backend`` (after one untimed call at its first
    frame) and returns ``(seconds, (L, h, w) labels on the CPU)``."""
    warm = []

    def step(t: int, memory: ContextMemory, context: List[int]) -> tuple:
        def call() -> torch.Tensor:
            return backend.propagate(feats[t], memory, [context])[0]

        with autocast(args):
            if not warm:
                warm.append(call())
            pred, seconds = timed(call, feats.device)
        return seconds, pred.float().cpu()

    return step


def mean(values: Sequence[float]) -> float:
    """The mean, or nan for no values."""
    return statistics.mean(values) if values else float('nan')


def describe(args: argparse.Namespace, propagator: LabelPropagator) -> str:
    """The settings and the machine, for the head of a report."""
    device = torch.device(args.device)
    if device.type == 'cuda':
        machine = torch.cuda.get_device_name(device)
    else:
        machine = platform.processor() or 'CPU'
        with contextlib.suppress(OSError), open('/proc/cpuinfo') as f:
            machine = next((line.split(':', 1)[1].strip() for line in f
                            if line.startswith('model name')), machine)
        machine = f'{machine}, {os.cpu_count()} cores'
    return (f'context {propagator.context_size} + long-term frame '
            f'({"deduplicated" if propagator.dedup_context else "padded"}), '
            f'top-k {propagator.topk}, radius {propagator.radius}, tiles '
            f'{propagator.windowed.tile_size}, query chunk '
            f'{propagator.dense.query_chunk}; {osp.basename(args.config)}, '
            f'{args.checkpoint or "random initialisation"}\n'
            f'device {args.device} ({machine}, {torch.get_num_threads()} '
            f'threads), torch {torch.__version__}, '
            f'{"float16 autocast" if args.fp16 else "float32"}')


def run_backends(args: argparse.Namespace) -> None:
    """The ``backends`` mode."""
    propagator = build_propagator(args)
    first_steady = propagator.context_size + 1
    runs = {}
    for name, feats in video_features(args):
        labels = smooth_labels(len(feats), args.labels,
                               feats.shape[2:]).to(feats.device)
        whole = list(range(1, len(feats)))
        steady = [t for t in whole if t >= first_steady]
        run = {}
        for backend, frames in (('windowed', whole), ('dense', sorted(
                set(whole[::args.dense_stride] + steady[:1])))):
            with peak_memory(feats.device) as memory:
                run[backend] = replay(
                    propagator, feats, labels, frames,
                    propagation_step(args, getattr(propagator, backend),
                                     feats))
            run[backend, 'memory'] = memory

        def floor_step(t: int, memory: ContextMemory,
                       context: List[int]) -> float:
            _, products = kernel_products(propagator.windowed, memory,
                                          context, feats[t])
            with autocast(args):
                return median_time(products, feats.device, 1)

        run['floor'] = replay(propagator, feats, labels, steady,
                              floor_step) if steady else {}
        runs[name] = run
        print(f'{name}: {len(feats)} frames', file=sys.stderr, flush=True)
    _, channels, height, width = feats.shape
    print(f'grid {height}x{width}, C={channels}, L={args.labels}; '
          f'{describe(args, propagator)}')
    print_backends(runs, first_steady)


def print_backends(runs: Dict[str, dict], first_steady: int) -> None:
    """The table of the ``backends`` mode (per video, then ``all``) and its
    summary lines."""
    header = (f'{"video":<12} {"backend":<9} {"frames":>6} '
              f'{"steady s/fr":>11} {"frames/s":>9} {"whole s/fr":>10} '
              f'{"frames/s":>9} {"peak MiB":>9} {"+MiB":>7}')
    print(header + '\n' + '-' * len(header))
    means = {}
    for name in list(runs) + ['all']:
        chosen = runs.values() if name == 'all' else [runs[name]]
        for backend in ('dense', 'windowed'):
            times = [(t, s) for run in chosen
                     for t, (s, _) in run[backend].items()]
            steady = mean([s for t, s in times if t >= first_steady])
            whole = mean([s for _, s in times])
            means[backend] = (steady, whole)
            peak, extra = (max(run[backend, 'memory'][i] for run in chosen)
                           for i in (0, 1))
            print(f'{name:<12} {backend:<9} {len(times):>6} {steady:>11.4g} '
                  f'{1 / steady:>9.4g} {whole:>10.4g} {1 / whole:>9.4g} '
                  f'{peak:>9.0f} {extra:>7.0f}')
    print(f'speed-up of windowed over dense (all videos): steady state '
          f'{means["dense"][0] / means["windowed"][0]:.1f}x, whole video '
          f'{means["dense"][1] / means["windowed"][1]:.1f}x')
    pairs = [(run['floor'][t], run['windowed'][t][0])
             for run in runs.values() for t in run['floor']]
    floor, ours = mean([f for f, _ in pairs]), mean([w for _, w in pairs])
    print(f'products-only floor over {len(pairs)} steady-state frames: '
          f'{floor:.4g} s/frame; windowed at {floor / ours:.2f} of the '
          'floor (floor time / windowed time)')
    same, diff = [], 0.
    for run in runs.values():
        for t, (_, ref) in run['dense'].items():
            pred = run['windowed'][t][1]
            same.append((ref.argmax(0) == pred.argmax(0)).flatten())
            diff = max(diff, float((ref - pred).abs().max()))
    print(f'argmax agreement over {len(same)} frames: '
          f'{float(torch.cat(same).float().mean()):.5f}; '
          f'max |dense - windowed| {diff:.3g}')


def run_floor(args: argparse.Namespace) -> None:
    """The ``floor`` mode."""
    propagator = build_propagator(args)
    frame = args.frame or propagator.context_size + 1
    args.frames = frame + 1
    ((name, feats), ) = video_features(args)
    num_frames, channels, height, width = feats.shape
    if frame >= num_frames:
        raise ValueError(f'{name} has {num_frames} frames; --frame {frame} '
                         'is beyond its last')
    labels = smooth_labels(num_frames, args.labels,
                           (height, width)).to(feats.device)

    def step(t: int, memory: ContextMemory, context: List[int]) -> None:
        device, num_pos = feats.device, height * width
        pairs, products = kernel_products(propagator.windowed, memory,
                                          context, feats[t])
        least = least_pairs(propagator, context, height, width)
        keys, block = (torch.randn(n, channels, device=device,
                                   dtype=feats.dtype) for n in (num_pos, 480))
        rate = num_pos * 480 / median_time(lambda: keys @ block.T, device, 5)
        with autocast(args):
            seconds = [
                timed(lambda: propagator.dense.propagate(
                    feats[t], memory, [context]), device)[1],
                median_time(lambda: propagator.windowed.propagate(
                    feats[t], memory, [context]), device, args.repeats),
                median_time(products, device, args.repeats)
            ]
        print(f'{name}, query frame {t}: grid {height}x{width}, '
              f'C={channels}, {len(context)} context entries '
              f'({len(set(context))} distinct frames); '
              f'{describe(args, propagator)}')
        rows = [['', 'multiply-adds (G)', 'seconds', 'speed-up over dense']]
        for what, work, time_s in (
                ('dense backend', num_pos**2 * len(set(context)), seconds[0]),
                ('windowed backend', pairs, seconds[1]),
                ('  its matrix products alone (floor)', pairs, seconds[2]),
                (f'least work at {rate * channels / 1e9:.0f} G '
                 'multiply-adds/s', least, least / rate)):
            rows.append([what, f'{work * channels / 1e9:.4g}',
                         f'{time_s:.4g}', f'{seconds[0] / time_s:.1f}x'])
        print(AsciiTable(rows, 'Work and time of one query frame').table)
        print(f'the kernel computes {pairs / least:.2f} times the least '
              f'work, at {pairs * channels / seconds[2] / 1e9:.0f} G '
              f'multiply-adds/s; windowed at {seconds[2] / seconds[1]:.2f} '
              'of the floor')

    replay(propagator, feats, labels, [frame], step)


def first_mask(height: int, width: int, num_objects: int) -> torch.Tensor:
    """``(H, W)`` uint8 ids ``1..num_objects`` of side-by-side boxes over
    the middle half of the rows."""
    mask = torch.zeros(height, width, dtype=torch.uint8)
    for i in range(num_objects):
        cols = slice((2 * i + 1) * width // (2 * num_objects + 1),
                     (2 * i + 2) * width // (2 * num_objects + 1))
        mask[height // 4:3 * height // 4, cols] = i + 1
    return mask


def run_end_to_end(args: argparse.Namespace) -> None:
    """The ``end-to-end`` mode."""
    device = torch.device(args.device)
    model = build_model(args, fp16=args.fp16)
    encode, encoding = model.extract_feats, []

    def timed_encode(frames: torch.Tensor) -> torch.Tensor:
        feats, seconds = timed(lambda: encode(frames), device)
        encoding.append(seconds)
        return feats

    model.extract_feats = timed_encode
    given = BaseDataElement(
        metainfo=dict(
            given_frames=[0], object_ids=list(range(1, args.labels))),
        given_masks=first_mask(*args.image_size,
                               args.labels - 1)[None].to(device))
    videos = select_videos(args)
    model.propagate_video(  # warm-up
        load_frames(next(iter(videos.values()))[:2], args.image_size, device),
        given)
    rows = [['video', 'encode_batch', 'frames', 'encode s/frame',
             'propagate s/frame', 'total s/frame', 'frames/s']]
    totals = {batch: torch.zeros(3) for batch in args.encode_batch}
    masks = {}
    for name, paths in videos.items():
        video = load_frames(paths, args.image_size, device)
        for batch in args.encode_batch:
            model.encode_batch = batch
            encoding.clear()
            out, seconds = timed(lambda: model.propagate_video(video, given),
                                 device)
            masks[name, batch] = out['pred_masks']
            totals[batch] += torch.tensor(
                [len(video), seconds, sum(encoding)])
            rows.append([
                name, str(batch), str(len(video)),
                f'{sum(encoding) / len(video):.3f}',
                f'{(seconds - sum(encoding)) / len(video):.3f}',
                f'{seconds / len(video):.3f}', f'{len(video) / seconds:.2f}'
            ])
        print(f'{name}: {len(video)} frames', file=sys.stderr, flush=True)
    print(f'frames {args.image_size[0]}x{args.image_size[1]}, '
          f'{args.labels - 1} objects, backend '
          f'{model.propagator.resolve_backend(device)}; '
          f'{describe(args, model.propagator)}')
    print(AsciiTable(rows, 'propagate_video').table)
    before = args.encode_batch[0]
    for batch in args.encode_batch[1:]:
        (after, after_s, after_enc), (frames, before_s, before_enc) = (
            totals[batch].tolist(), totals[before].tolist())
        differ = sum(int((masks[name, batch] != masks[name, before]).sum())
                     for name in videos)
        pixels = sum(masks[name, batch].numel() for name in videos)
        print(f'encode_batch {batch} vs {before}: {after / after_s:.3f} vs '
              f'{frames / before_s:.3f} frames/s '
              f'({before_s / after_s:.2f}x), encoding {after_enc / after:.3f}'
              f' vs {before_enc / frames:.3f} s/frame; masks ' +
              ('identical' if differ == 0 else
               f'differ at {differ} of {pixels} pixels'))


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Run the mode of the command line."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    runners = dict(backends=run_backends, floor=run_floor)
    runners['end-to-end'] = run_end_to_end
    runners[args.mode](args)


if __name__ == '__main__':
    main()
