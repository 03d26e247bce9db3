"""Time and peak memory of an HVC training step, chunked vs. dense loss.

Builds the model of a config twice, once with its
``HybridCorrespondenceLoss`` and once with the dense baseline
(``mmhvc.models.losses.dense_reference``), and runs each on random view
pairs of the configured crop size: warm-up steps, then timed steps of
forward + backward + optimizer (``model.train_step``, EMA update included).
It also measures the loss alone (forward + backward) on random maps of the
model's feature size.

Peak memory is measured relative to the memory allocated when the step
starts: on a GPU with ``torch.cuda.max_memory_allocated``; on the CPU as the
maximum of the running sum of the allocations and frees that
``torch.profiler`` (``profile_memory=True``) records during one extra step
(exact for tensors from PyTorch's CPU allocator, independent of what the
system allocator keeps cached).

Example::

    python tools/analysis_tools/benchmark_train.py \\
        configs/hvc/hvc_r18_coco.py --batch-size 8
"""
import argparse
import logging
import statistics
import time
from typing import Callable, List, Tuple

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.structures import BaseDataElement
from torch.profiler import ProfilerActivity, profile

from mmhvc.models.losses.dense_reference import DenseHybridCorrespondenceLoss
from mmhvc.registry import MODELS
from mmhvc.utils import register_all_modules

MIB = 2.**20


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Time and memory of an HVC training step with the '
        'chunked and the dense hybrid correspondence loss')
    parser.add_argument('config', help='training config file path')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument(
        '--crop-size',
        type=int,
        help='view size S; default: the size of RandomResizedCropPair in '
        'the training pipeline of the config')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument(
        '--device', help='default: cuda when available, else cpu')
    parser.add_argument(
        '--loss-only',
        action='store_true',
        help='measure only the loss, not the training step')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config (key=value)')
    return parser.parse_args()


def crop_size_from_cfg(cfg: Config) -> int:
    """The output size of ``RandomResizedCropPair`` in the train pipeline."""
    dataset = cfg.get('train_dataloader', {}).get('dataset', {})
    while 'pipeline' not in dataset and 'dataset' in dataset:
        dataset = dataset['dataset']
    for transform in dataset.get('pipeline', []):
        if transform.get('type') == 'RandomResizedCropPair':
            size = transform['size']
            if isinstance(size, (tuple, list)):
                if size[0] != size[1]:
                    raise ValueError(
                        f'{cfg.filename}: benchmark needs square crops, got '
                        f'RandomResizedCropPair size {size}.')
                size = size[0]
            return int(size)
    raise KeyError(
        f'{cfg.filename}: no RandomResizedCropPair in '
        'train_dataloader.dataset.pipeline; pass --crop-size.')


def peak_memory(fn: Callable[[], None], device: torch.device) -> int:
    """Bytes allocated at the peak of ``fn()`` beyond those held before."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
        base = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        fn()
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device) - base
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


def median_time(fn: Callable[[], None], warmup: int, iters: int,
                device: torch.device) -> float:
    """Median wall time of ``fn()`` in seconds after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        fn()
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def random_boxes(batch: int, generator: torch.Generator) -> torch.Tensor:
    """(B, 2, 4) overlapping crop boxes in normalised image coordinates."""
    corner = torch.rand(batch, 2, 2, generator=generator) * 0.5
    extent = torch.rand(batch, 2, 2, generator=generator) * 0.4 + 0.1
    return torch.cat([corner, corner + extent], dim=2)


def build_model(cfg: Config, dense: bool, seed: int,
                device: torch.device) -> torch.nn.Module:
    """The configured model, its loss swapped for the dense baseline."""
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    if dense:
        loss = model.head.loss_module
        model.head.loss_module = DenseHybridCorrespondenceLoss(
            pos_radius=loss.pos_radius,
            loss_weight=loss.loss_weight,
            eps=loss.eps)
    return model.to(device).train()


def bench_train_step(cfg: Config, dense: bool, args: argparse.Namespace,
                     size: int, device: torch.device) -> Tuple[float, int]:
    """Median step time (s) and step peak memory (bytes)."""
    model = build_model(cfg, dense, args.seed, device)
    optim_cfg = cfg.optim_wrapper.copy()
    if device.type != 'cuda' and optim_cfg.get('type') == 'AmpOptimWrapper':
        optim_cfg.type = 'OptimWrapper'
        optim_cfg.pop('loss_scale', None)
        optim_cfg.pop('dtype', None)
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    gen = torch.Generator().manual_seed(args.seed)
    boxes = random_boxes(args.batch_size, gen)
    data = dict(
        inputs=[
            torch.randint(0, 256, (2, 3, size, size),
                          generator=gen).to(torch.uint8)
            for _ in range(args.batch_size)
        ],
        data_samples=[BaseDataElement(crop_boxes=b) for b in boxes])

    def step() -> None:
        model.train_step(data, optim_wrapper)

    seconds = median_time(step, args.warmup, args.iters, device)
    return seconds, peak_memory(step, device)


def feature_shape(cfg: Config, size: int) -> Tuple[int, int, int]:
    """(C, H, W) of the projector output for an S x S view."""
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        (proj, ) = model.neck(model.backbone(torch.zeros(1, 3, size, size)))
    return tuple(proj.shape[1:])


def bench_loss(cfg: Config, dense: bool, args: argparse.Namespace,
               shape: Tuple[int, int, int], device: torch.device) -> int:
    """Peak memory (bytes) of the loss forward + backward of one direction
    on random (B, C, H, W) maps."""
    loss_cfg = cfg.model.head.loss
    loss = MODELS.build(loss_cfg)
    if dense:
        loss = DenseHybridCorrespondenceLoss(
            pos_radius=loss.pos_radius,
            loss_weight=loss.loss_weight,
            eps=loss.eps)
    gen = torch.Generator().manual_seed(args.seed)
    c, h, w = shape
    b = args.batch_size
    maps: List[torch.Tensor] = [
        torch.randn(b, ch, h, w, generator=gen).to(device)
        for ch in (c, c, 2, 2)
    ]
    for i in (0, 2, 3):
        maps[i].requires_grad_()
    boxes = random_boxes(b, gen).to(device)

    def step() -> None:
        spatial, temporal = loss(*maps, boxes[:, 0], boxes[:, 1])
        (spatial + temporal).backward()
        for i in (0, 2, 3):
            maps[i].grad = None

    step()
    return peak_memory(step, device)


def main() -> None:
    args = parse_args()
    register_all_modules(init_default_scope=True)
    # keep the per-parameter report of init_weights out of the output
    MMLogger.get_instance('benchmark_train', log_level=logging.WARNING)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    device = torch.device(
        args.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    size = args.crop_size or crop_size_from_cfg(cfg)
    shape = feature_shape(cfg, size)
    # CosineEMA reads the schedule length from the message hub, where the
    # Runner would put it.
    MessageHub.get_current_instance().update_info(
        'max_iters', args.warmup + args.iters + 1)

    memory_kind = ('torch.cuda.max_memory_allocated' if device.type == 'cuda'
                   else 'torch.profiler allocation peak')
    print(f'config {args.config}, batch {args.batch_size}, crop {size}, '
          f'maps {shape[1]}x{shape[2]} x {shape[0]} channels, device '
          f'{device}; memory: {memory_kind}, relative to the start of the '
          'step')
    rows = []
    for name, dense in (('dense', True), ('chunked', False)):
        loss_peak = bench_loss(cfg, dense, args, shape, device)
        if args.loss_only:
            rows.append((name, None, None, loss_peak))
            continue
        seconds, step_peak = bench_train_step(cfg, dense, args, size, device)
        rows.append((name, seconds, step_peak, loss_peak))

    print(f'{"loss":<8} {"step time (ms)":>15} {"step peak (MiB)":>16} '
          f'{"loss peak (MiB)":>16}')
    for name, seconds, step_peak, loss_peak in rows:
        step_time = '-' if seconds is None else f'{seconds * 1e3:.1f}'
        step_mem = '-' if step_peak is None else f'{step_peak / MIB:.1f}'
        print(f'{name:<8} {step_time:>15} {step_mem:>16} '
              f'{loss_peak / MIB:>16.1f}')
    (_, dense_s, dense_step, dense_loss), (_, ours_s, ours_step,
                                           ours_loss) = rows
    summary = f'chunked / dense: loss peak {ours_loss / dense_loss:.3f}'
    if not args.loss_only:
        summary += (f', step peak {ours_step / dense_step:.3f}, '
                    f'step time {ours_s / dense_s:.3f}')
    print(summary)


if __name__ == '__main__':
    main()
