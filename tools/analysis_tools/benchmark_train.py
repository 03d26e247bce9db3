"""Time and peak memory of an HVC training step, chunked vs. dense loss.

Builds the model of a config twice, once with its
``HybridCorrespondenceLoss`` and once with the dense baseline
(``DenseHybridCorrespondenceLoss`` of ``tests/dense_loss_oracle.py``, the
reference the loss tests check against), and runs each on random view
pairs of the configured crop size: warm-up steps, then timed steps of
forward + backward + optimizer (``model.train_step``, EMA update included),
the two variants taking turns so that load from other processes affects
both alike; the median time is reported. It also measures the loss of one
direction alone (forward + backward) on random maps of the model's feature
size.

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
import os.path as osp
import statistics
import sys
import time
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config, DictAction
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.structures import BaseDataElement
from torch.profiler import ProfilerActivity, profile

from mmhvc.models.losses import HybridCorrespondenceLoss
from mmhvc.registry import MODELS
from mmhvc.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tests'))
from dense_loss_oracle import DenseHybridCorrespondenceLoss  # noqa: E402

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
        '--threads',
        type=int,
        help='CPU threads of PyTorch (torch.set_num_threads); on a busy '
        'machine one thread gives steadier times')
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


def interleaved_medians(steps: Dict[str, Callable[[], None]], warmup: int,
                        iters: int, device: torch.device) -> Dict[str, float]:
    """Median wall time (s) of every step function.

    The variants take turns (warm-up calls first), so that load from other
    processes affects them alike.
    """
    for _ in range(warmup):
        for fn in steps.values():
            fn()
    times: Dict[str, List[float]] = {name: [] for name in steps}
    for _ in range(iters):
        for name, fn in steps.items():
            if device.type == 'cuda':
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            fn()
            if device.type == 'cuda':
                torch.cuda.synchronize(device)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def random_boxes(batch: int, generator: torch.Generator) -> torch.Tensor:
    """(B, 2, 4) overlapping crop boxes in normalised image coordinates."""
    corner = torch.rand(batch, 2, 2, generator=generator) * 0.5
    extent = torch.rand(batch, 2, 2, generator=generator) * 0.4 + 0.1
    return torch.cat([corner, corner + extent], dim=2)


def dense_baseline(loss: HybridCorrespondenceLoss) -> nn.Module:
    """The dense baseline with the settings of ``loss``."""
    return DenseHybridCorrespondenceLoss(
        pos_radius=loss.pos_radius, loss_weight=loss.loss_weight, eps=loss.eps)


def train_step_fn(cfg: Config, dense: bool, args: argparse.Namespace,
                  size: int, device: torch.device) -> Callable[[], None]:
    """One ``train_step`` (forward, EMA update, backward, optimizer) of the
    configured model on a fixed random batch."""
    torch.manual_seed(args.seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    if dense:
        model.head.loss_module = dense_baseline(model.head.loss_module)
    model = model.to(device).train()
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

    return step


def feature_shape(cfg: Config, size: int) -> Tuple[int, int, int]:
    """(C, H, W) of the projector output for an S x S view."""
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        (proj, ) = model.neck(model.backbone(torch.zeros(1, 3, size, size)))
    return tuple(proj.shape[1:])


def loss_step_fn(cfg: Config, dense: bool, args: argparse.Namespace,
                 shape: Tuple[int, int, int],
                 device: torch.device) -> Callable[[], None]:
    """Forward + backward of the loss of one direction on random
    (B, C, H, W) maps (gradients for predictions and both flow fields)."""
    loss = MODELS.build(cfg.model.head.loss)
    if dense:
        loss = dense_baseline(loss)
    gen = torch.Generator().manual_seed(args.seed)
    c, h, w = shape
    maps: List[torch.Tensor] = [
        torch.randn(args.batch_size, ch, h, w, generator=gen).to(device)
        for ch in (c, c, 2, 2)
    ]
    for i in (0, 2, 3):
        maps[i].requires_grad_()
    boxes = random_boxes(args.batch_size, gen).to(device)

    def step() -> None:
        spatial, temporal = loss(*maps, boxes[:, 0], boxes[:, 1])
        (spatial + temporal).backward()
        for i in (0, 2, 3):
            maps[i].grad = None

    return step


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
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
    variants = (('dense', True), ('chunked', False))
    loss_steps = {
        name: loss_step_fn(cfg, dense, args, shape, device)
        for name, dense in variants
    }
    loss_times = interleaved_medians(loss_steps, args.warmup, args.iters,
                                     device)
    loss_peaks = {
        name: peak_memory(fn, device)
        for name, fn in loss_steps.items()
    }
    step_times = step_peaks = {name: None for name, _ in variants}
    if not args.loss_only:
        train_steps = {
            name: train_step_fn(cfg, dense, args, size, device)
            for name, dense in variants
        }
        step_times = interleaved_medians(train_steps, args.warmup,
                                         args.iters, device)
        step_peaks = {
            name: peak_memory(fn, device)
            for name, fn in train_steps.items()
        }
    results = {
        name: (step_times[name], step_peaks[name], loss_times[name],
               loss_peaks[name])
        for name, _ in variants
    }

    columns = ('step time (ms)', 'step peak (MiB)', 'loss time (ms)',
               'loss peak (MiB)')
    scales = (1e3, 1 / MIB, 1e3, 1 / MIB)
    print(f'{"loss":<8}' + ''.join(f'{c:>17}' for c in columns))
    for name, values in results.items():
        cells = ('-' if v is None else f'{v * s:.1f}'
                 for v, s in zip(values, scales))
        print(f'{name:<8}' + ''.join(f'{c:>17}' for c in cells))
    ratios = [
        f'{column.split(" (")[0]} {ours / dense:.3f}' for column, ours, dense
        in zip(columns, results['chunked'], results['dense'])
        if ours is not None
    ]
    print('chunked / dense: ' + ', '.join(ratios))


if __name__ == '__main__':
    main()
