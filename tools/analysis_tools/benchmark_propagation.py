"""Speed, peak memory and agreement of label propagation: the dense
reference against the windowed propagator, on real video features.

Features (``--features``):

- ``real`` (default): the frames of each video are resized to
  ``--image-size`` (480 x 854, a 60 x 107 feature grid) and encoded by the
  propagation encoder of ``--config`` with the weights of ``--checkpoint``,
  or a random initialisation seeded with ``--seed``. ``--data`` is a
  DAVIS-layout root (``JPEGImages/480p/<video>``), a folder of frame folders
  (e.g. ``../shared/data/real/videos``) or one folder of frames. The default
  is the demo videos generated at 480 x 854 with 60 frames into
  ``data/demo_davis_480p`` (made on the fly when absent).
- ``random``: a synthetic video of random L2-normalised features on the
  grid of ``--grid`` or ``--image-size`` with ``--channels`` channels
  (setting either of ``--grid`` and ``--channels`` selects it). Their dot
  products are well separated, unlike those of real features.

Method:

- Each frame gets smooth random soft labels (a softmax over ``--labels``
  channels of low-frequency noise, seeded by the frame index), and these
  are the stored labels of every frame for both variants (not their
  predictions), so the variants see the same inputs frame by frame. Both
  use the test-time context of the config's propagator (long-term frame 0
  plus the ``context_size`` previous frames, padded with frame 0 unless
  ``--dedup``), with its radius, top-k and temperature.
- Exact ties (identical pixels in two frames give identical features) are
  broken the same way for both variants by adding ``--perturb`` times
  standard normal noise to every feature and normalising again.
- Phases: the padded early frames (query frames 1 and 2, whose context
  repeats frame 0), the steady state (query frames ``--start-frame`` ..,
  default ``context_size + 1``, whose context holds ``context_size + 1``
  distinct frames; ``--dense-frames`` of them) and the whole video (every
  frame from 1 on, ``--frames`` at most). The dense reference is timed on
  the early and steady frames; it scores all ``context_size + 1`` entries
  at every frame, so its cost does not depend on the frame and its mean
  over a whole video is that of the frames it is timed on. The windowed
  propagator is timed on every frame.
- Times are wall-clock seconds of the propagation calls alone (feature
  encoding and label generation excluded); the windowed propagator first
  makes one untimed call, which builds its query blocks for the grid.
  frames/s is the inverse of the time per frame. Each variant runs in its
  own subprocess; peak memory on the CPU is that process's peak resident
  set size (``VmHWM``), in total and above the resident size once the
  features are loaded; on a GPU it is ``torch.cuda.max_memory_allocated``.
- Agreement on the frames both variants propagate: the fraction of
  positions whose argmax label is the same, and the largest difference of
  the soft labels. Where many candidates of a query score within float32
  rounding of its k-th best (smooth, upsampled frames), two float32
  computations that sum in different orders choose different neighbours;
  ``--float64-check`` also runs the dense reference in float64 (untimed)
  and reports how often each float32 variant agrees with it.

Examples (2 threads, as in docs/benchmarks.md)::

    python tools/analysis_tools/benchmark_propagation.py --threads 2 \
        --checkpoint work_dirs/demo/random_init.pth
    python tools/analysis_tools/benchmark_propagation.py --threads 2 \
        --data ../shared/data/real/videos --checkpoint CKPT
    python tools/analysis_tools/benchmark_propagation.py --threads 2 \
        --features random
"""
import argparse
import contextlib
import glob
import json
import math
import os
import os.path as osp
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Sequence

import cv2
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmhvc.models.propagation import LabelPropagator
from mmhvc.testing import dense_label_propagation

MIB = 2.**20
VARIANTS = ('dense', 'windowed')
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_DATA = 'data/demo_davis_480p'
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')


def add_video_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared with ``propagation_floor.py``: the videos, their
    encoder and the propagator's settings."""
    parser.add_argument(
        '--data', help='DAVIS-layout root, folder of frame folders or '
        f'folder of frames (default: {DEMO_DATA}, generated if absent)')
    parser.add_argument('--videos', nargs='+', help='only these videos')
    parser.add_argument(
        '--config',
        default=osp.join(REPO, 'configs/propagation/demo_davis_r18.py'),
        help='propagation config: encoder and propagator settings')
    parser.add_argument('--checkpoint', help='encoder weights (default: a '
                        'random initialisation)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the random initialisation')
    parser.add_argument(
        '--labels', type=int, default=4,
        help='soft-label channels (background + objects)')
    parser.add_argument('--context-size', type=int)
    parser.add_argument('--topk', type=int)
    parser.add_argument('--radius', type=float)
    parser.add_argument('--temperature', type=float)
    parser.add_argument('--dedup', action='store_true',
                        help='deduplicated context')
    parser.add_argument('--restrict-long-term', action='store_true')
    parser.add_argument(
        '--bf16-prefilter', choices=['auto', 'on', 'off'], default='auto',
        help="auto: the propagator's setting (off unless the config sets "
        'it)')
    parser.add_argument('--tile-size', type=int, nargs='+',
                        metavar='N', help='query blocks: rows [columns]')
    parser.add_argument('--perturb', type=float, default=1e-5,
                        help='std of the tie-breaking feature noise')
    parser.add_argument('--threads', type=int,
                        help='torch threads (default: torch default)')
    parser.add_argument('--device', default='cpu')


def check_video_arguments(parser: argparse.ArgumentParser,
                          args: argparse.Namespace) -> None:
    if args.tile_size is not None and len(args.tile_size) > 2:
        parser.error('--tile-size takes one or two numbers')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Frames/s, peak memory and agreement of dense and '
        'windowed label propagation on real (or random) features')
    parser.add_argument('--features', choices=('real', 'random'))
    add_video_arguments(parser)
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        '--grid', type=int, nargs=2, metavar=('H', 'W'),
        help='feature grid of random features')
    size.add_argument(
        '--image-size', type=int, nargs=2, metavar=('H', 'W'),
        help='frame size (default 480 854; random features: grid '
        'ceil(size / 8))')
    parser.add_argument('--channels', type=int,
                        help='channels of random features (default 256)')
    parser.add_argument('--start-frame', type=int,
                        help='first steady-state query frame (default '
                        'context_size + 1)')
    parser.add_argument('--frames', type=int,
                        help='frames per video at most (random features: '
                        'query frames from --start-frame, default 3)')
    parser.add_argument('--dense-frames', type=int, default=1,
                        help='steady-state frames of the dense reference')
    parser.add_argument(
        '--float64-check', action='store_true',
        help='also compare both variants with a float64 dense run (untimed)')
    parser.add_argument('--variant', choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument('--input', help=argparse.SUPPRESS)
    parser.add_argument('--out', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    check_video_arguments(parser, args)
    if args.features is None:
        synthetic = args.grid is not None or args.channels is not None
        args.features = 'random' if synthetic else 'real'
    if args.features == 'real' and (args.grid or args.channels):
        parser.error('--grid and --channels describe random features')
    args.channels = args.channels or 256
    return args


def propagator_settings(args: argparse.Namespace) -> dict:
    """Keyword arguments of the propagator: the config's, then the flags."""
    cfg = Config.fromfile(args.config)
    settings = dict(cfg.model.propagator)
    settings.pop('type', None)
    flags = dict(
        context_size=args.context_size,
        topk=args.topk,
        radius=args.radius,
        temperature=args.temperature,
        bf16_prefilter=dict(auto=None, on=True, off=False)[
            args.bf16_prefilter])
    if args.tile_size is not None:
        flags['tile_size'] = tuple(args.tile_size) if len(
            args.tile_size) == 2 else args.tile_size[0]
    settings.update({k: v for k, v in flags.items() if v is not None})
    if args.dedup:
        settings['dedup_context'] = True
    if args.restrict_long_term:
        settings['restrict_long_term'] = True
    return settings


def smooth_labels(t: int, num_labels: int,
                  grid: Sequence[int]) -> torch.Tensor:
    """``(L, h, w)`` soft labels of frame ``t``: a softmax of noise on a grid
    four times coarser, upsampled bilinearly."""
    generator = torch.Generator().manual_seed(t)
    coarse = torch.randn(1, num_labels, *(math.ceil(s / 4) for s in grid),
                         generator=generator)
    fine = F.interpolate(coarse * 4, tuple(grid), mode='bilinear',
                         align_corners=True)
    return fine[0].softmax(0)


def list_frames(folder: str) -> List[str]:
    return sorted(
        f for f in glob.glob(osp.join(folder, '*'))
        if f.lower().endswith(IMAGE_EXTENSIONS))


def list_videos(root: str) -> Dict[str, List[str]]:
    """Frame files of each video under a DAVIS root, a folder of frame
    folders or a folder of frames."""
    if not osp.isdir(root):
        raise FileNotFoundError(f'--data {root}: no such folder')
    davis = osp.join(root, 'JPEGImages', '480p')
    base = davis if osp.isdir(davis) else root
    videos = {
        name: list_frames(osp.join(base, name))
        for name in sorted(os.listdir(base))
        if osp.isdir(osp.join(base, name))
    }
    videos = {name: files for name, files in videos.items() if files}
    if not videos and list_frames(root):
        videos = {osp.basename(osp.normpath(root)): list_frames(root)}
    if not videos:
        raise FileNotFoundError(f'--data {root}: no frames found (expected '
                                'JPEGImages/480p/<video>/, <video>/ '
                                'folders or images)')
    return videos


def demo_videos() -> str:
    """The 480 x 854 demo videos, generated when absent."""
    if not osp.isdir(osp.join(DEMO_DATA, 'JPEGImages')):
        print(f'generating the demo videos in {DEMO_DATA}', file=sys.stderr,
              flush=True)
        subprocess.run([
            sys.executable,
            osp.join(REPO, 'tools/dataset_converters/make_demo_davis.py'),
            DEMO_DATA, '--size', '480x854', '--frames', '60', '60',
            '--num-seqs', '2', '--num-train-seqs', '0', '--seed', '0'
        ],
                       check=True,
                       stdout=sys.stderr)
    return DEMO_DATA


def encode_videos(args: argparse.Namespace, tmp: str) -> Dict[str, str]:
    """Encode each video; per video, a file with its ``(T, C, h, w)``
    features (perturbed and normalised)."""
    from mmengine.runner import set_random_seed

    from mmhvc.apis import init_model
    set_random_seed(args.seed)
    with contextlib.redirect_stdout(sys.stderr):  # loading messages
        model = init_model(args.config, args.checkpoint, args.device)
    videos = list_videos(args.data or demo_videos())
    if args.videos:
        missing = sorted(set(args.videos) - set(videos))
        if missing:
            raise KeyError(f'videos {missing} are not in {args.data}')
        videos = {name: videos[name] for name in args.videos}
    height, width = args.image_size or (480, 854)
    files = {}
    for name, frames in videos.items():
        feats = []
        for path in frames[:args.frames]:
            image = cv2.imread(path)
            if image is None:
                raise ValueError(f'{path}: not an image OpenCV can read')
            if image.shape[:2] != (height, width):
                image = cv2.resize(image, (width, height),
                                   interpolation=cv2.INTER_LINEAR)
            frame = torch.from_numpy(image).permute(2, 0, 1).to(args.device)
            feats.append(model.extract_feat(frame).cpu())
        files[name] = osp.join(tmp, f'{name}.pth')
        torch.save(perturbed(torch.stack(feats), args.perturb), files[name])
        print(f'encoded {name}: {len(feats)} frames', file=sys.stderr,
              flush=True)
    return files


def random_video(args: argparse.Namespace, tmp: str) -> Dict[str, str]:
    """A synthetic video of random normalised features."""
    grid = args.grid or [math.ceil(s / 8)
                         for s in (args.image_size or (480, 854))]
    start = args.start_frame or propagator_settings(args).get(
        'context_size', 50) + 1
    num = start + max(args.frames or 3, args.dense_frames)
    generator = torch.Generator().manual_seed(0)
    feats = F.normalize(
        torch.randn(num, args.channels, *grid, generator=generator), dim=1)
    path = osp.join(tmp, 'random.pth')
    torch.save(perturbed(feats, args.perturb), path)
    return {'random': path}


def perturbed(feats: torch.Tensor, std: float) -> torch.Tensor:
    generator = torch.Generator().manual_seed(1)
    noise = torch.randn(feats.shape, generator=generator)
    return F.normalize(feats + std * noise, dim=1)


def status_mib(field: str) -> float:
    """A memory field of this process's ``/proc/self/status`` (Linux), in
    MiB: ``VmRSS`` (resident now) or ``VmHWM`` (peak resident since the
    program started; ``ru_maxrss`` would include the parent's size at the
    fork)."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024
    return float('nan')


def peak_mib(device: torch.device) -> float:
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / MIB
    return status_mib('VmHWM')


def phase_frames(args: argparse.Namespace, propagator: LabelPropagator,
                 num_frames: int) -> Dict[str, List[int]]:
    """Query frames of the early phase, the steady state and the whole
    video."""
    start = args.start_frame or propagator.context_size + 1
    return dict(
        early=[t for t in (1, 2) if t < num_frames],
        steady=[t for t in range(start, start + args.dense_frames)
                if t < num_frames],
        whole=list(range(1, num_frames)))


def run_variant(args: argparse.Namespace) -> None:
    """Child process: time one variant on one video and write its report
    and its predictions at the frames the dense reference propagates."""
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    propagator = LabelPropagator(**propagator_settings(args))
    feats = torch.load(args.input).to(device)
    num_frames, channels, height, width = feats.shape
    labels = [
        smooth_labels(t, args.labels, (height, width)).to(device)
        for t in range(num_frames)
    ]
    phases = phase_frames(args, propagator, num_frames)
    scored = sorted(set(phases['early'] + phases['steady']))
    queries = phases['whole'] if args.variant == 'windowed' else scored
    baseline = status_mib('VmRSS')
    memory = propagator.init_memory(1, channels, args.labels, height, width,
                                    device)
    memory.add(0, feats[0], labels[0])

    def step(t: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        context = propagator.context_indices(0, t)
        if args.variant == 'windowed':
            return propagator.propagate(feats[t], memory, [context])[0]
        return dense_label_propagation(
            feats[t].to(dtype),
            feats[context].to(dtype),
            torch.stack([labels[s] for s in context]).to(dtype),
            radius=propagator.radius,
            topk=propagator.topk,
            temperature=propagator.temperature,
            restrict_long_term=propagator.kernel.restrict_long_term)

    wall, cpu, preds = {}, {}, {}
    for i, t in enumerate(queries):
        if i == 0 and args.variant == 'windowed':
            step(t)  # builds the query blocks of the grid
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        pred = step(t)
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        wall[t] = time.perf_counter() - start_wall
        cpu[t] = time.process_time() - start_cpu
        if t in scored:
            preds[t] = pred.cpu()
            if args.float64_check and args.variant == 'dense':
                preds[-t] = step(t, torch.float64).float().cpu()
        if args.variant == 'windowed':
            memory.retain(propagator.memory_frames([0], t))
            memory.add(t, feats[t], labels[t])
    torch.save(preds, args.out)
    print(
        json.dumps(
            dict(
                wall=wall,
                cpu=cpu,
                phases=phases,
                peak=peak_mib(device),
                baseline=baseline if device.type == 'cpu' else 0.)))


def launch(variant: str, args: argparse.Namespace, video: str,
           out: str) -> dict:
    """Run one variant on one video in a subprocess and read its report."""
    command = [sys.executable, osp.abspath(__file__)] + sys.argv[1:] + [
        '--variant', variant, '--input', video, '--out', out
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, env=os.environ.copy())
    if result.returncode != 0:
        raise RuntimeError(f'the {variant} run failed:\n{result.stderr}')
    report = json.loads(result.stdout.strip().splitlines()[-1])
    report['wall'] = {int(t): s for t, s in report['wall'].items()}
    report['cpu'] = {int(t): s for t, s in report['cpu'].items()}
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


def device_name(device: str) -> str:
    if torch.device(device).type == 'cuda':
        return torch.cuda.get_device_name(torch.device(device))
    return f'{cpu_name()}, {os.cpu_count()} cores'


def mean_time(report: dict, frames: List[int]) -> float:
    return statistics.mean(report['wall'][t] for t in frames) \
        if frames else float('nan')


def frame_span(frames: List[int]) -> str:
    if not frames:
        return '-'
    return str(frames[0]) if len(frames) == 1 else \
        f'{frames[0]}-{frames[-1]}'


def agreement(dense: dict, windowed: dict) -> tuple:
    """Fraction of positions with the same argmax label, the largest soft
    label difference and the number of frames compared."""
    frames = sorted(t for t in dense['preds'] if t > 0)
    same = [(dense['preds'][t].argmax(0) == windowed['preds'][t].argmax(0))
            for t in frames]
    diff = max(float((dense['preds'][t] - windowed['preds'][t]).abs().max())
               for t in frames)
    return float(torch.stack(same).float().mean()), diff, len(frames)


def print_video(name: str, reports: Dict[str, dict]) -> None:
    """Per-phase times and speed-ups of one video."""
    dense, windowed = reports['dense'], reports['windowed']
    phases = windowed['phases']
    for phase in ('early', 'steady', 'whole'):
        frames = phases[phase]
        dense_frames = phases['early'] + phases['steady'] \
            if phase == 'whole' else frames
        ours = mean_time(windowed, frames)
        ref = mean_time(dense, dense_frames)
        print(f'{name:<14} {phase:<7} {frame_span(frames):>7} '
              f'{ref:>12.3f} {ours:>14.3f} {1 / ours:>9.2f} '
              f'{ref / ours:>9.1f}x')


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    if args.variant is not None:
        run_variant(args)
        return
    threads = args.threads or torch.get_num_threads()
    propagator = LabelPropagator(**propagator_settings(args))
    with tempfile.TemporaryDirectory() as tmp:
        videos = random_video(args, tmp) if args.features == 'random' else \
            encode_videos(args, tmp)
        _, channels, height, width = torch.load(
            next(iter(videos.values())), mmap=True).shape
        print(f'grid {height}x{width}, C={channels}, L={args.labels}, '
              f'context {propagator.context_size} + long-term frame '
              f'({"deduplicated" if args.dedup else "padded"}), top-k '
              f'{propagator.topk}, radius {propagator.radius}, '
              f'{args.features} features'
              + ('' if args.features == 'random' else
                 f' ({osp.basename(args.config)}, '
                 f'{args.checkpoint or "random initialisation"})'))
        print(f'device {args.device} ({device_name(args.device)}, '
              f'{threads} torch threads), torch {torch.__version__}, '
              f'tiles {propagator.kernel.tile_size}, bf16 prefilter '
              f'{"on" if propagator.kernel.bf16_prefilter else "off"}',
              flush=True)
        reports = {}
        for name, path in videos.items():
            reports[name] = {
                v: launch(v, args, path, osp.join(tmp, f'{name}_{v}.pth'))
                for v in VARIANTS
            }
    header = (f'{"video":<14} {"phase":<7} {"frames":>7} {"dense s/fr":>12} '
              f'{"windowed s/fr":>14} {"frames/s":>9} {"speed-up":>10}')
    print(header)
    print('-' * len(header))
    for name, pair in reports.items():
        print_video(name, pair)
    print_summary(reports)


def print_summary(reports: Dict[str, Dict[str, dict]]) -> None:
    """Medians over all videos' steady-state frames, peak memory and the
    agreement of the two variants."""
    header = (f'{"variant":<9} {"frames":>6} {"s/frame":>9} {"cpu s":>8} '
              f'{"frames/s":>9} {"peak MiB":>9} {"+MiB":>8}')
    print(header)
    print('-' * len(header))
    per_frame = {}
    for variant in VARIANTS:
        runs = [pair[variant] for pair in reports.values()]
        steady = [(r, t) for r in runs for t in r['phases']['steady']] or \
            [(r, t) for r in runs for t in r['wall']]
        per_frame[variant] = statistics.median(r['wall'][t] for r, t in steady)
        cpu = statistics.median(r['cpu'][t] for r, t in steady)
        peak = max(r['peak'] for r in runs)
        extra = max(r['peak'] - r['baseline'] for r in runs)
        print(f'{variant:<9} {len(steady):>6} {per_frame[variant]:>9.3f} '
              f'{cpu:>8.2f} {1 / per_frame[variant]:>9.3f} {peak:>9.0f} '
              f'{extra:>8.0f}')
    print(f'speed-up in the steady state (frames/s, windowed / dense): '
          f'{per_frame["dense"] / per_frame["windowed"]:.1f}x')
    steady = [(pair, t) for pair in reports.values()
              for t in pair['windowed']['phases']['steady']]
    diffs = torch.stack([(pair['dense']['preds'][t] -
                          pair['windowed']['preds'][t]).abs().amax(0)
                         for pair, t in steady])
    print(f'max |dense - windowed| over {len(steady)} frames: '
          f'{diffs.max().item():.3g}; positions differing by more than '
          f'1e-4: {int((diffs > 1e-4).sum())} of {diffs.numel()}')
    results = [agreement(pair['dense'], pair['windowed'])
               for pair in reports.values()]
    frames = sum(n for _, _, n in results)
    same = sum(a * n for a, _, n in results) / frames
    print(f'argmax agreement over {frames} frames (early and steady): '
          f'{same:.5f}; max |dense - windowed| '
          f'{max(d for _, d, _ in results):.3g}')
    if any(t < 0 for pair in reports.values() for t in pair['dense']['preds']):
        for variant in VARIANTS:
            rates = [
                agreement64(pair['dense'], pair[variant])
                for pair in reports.values()
            ]
            print(f'argmax agreement of the float32 {variant} with the '
                  f'float64 dense reference: '
                  f'{sum(rates) / len(rates):.5f}')


def agreement64(dense: dict, variant: dict) -> float:
    """Fraction of positions where ``variant`` has the argmax label of the
    float64 dense run (stored under the negated frame indices)."""
    frames = sorted(t for t in dense['preds'] if t > 0)
    return float(
        torch.stack([
            variant['preds'][t].argmax(0) == dense['preds'][-t].argmax(0)
            for t in frames
        ]).float().mean())


if __name__ == '__main__':
    main()
