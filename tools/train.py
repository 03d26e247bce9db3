"""Train an HVC model with MMEngine's Runner.

Examples::

    python tools/train.py configs/hvc/hvc_r18_coco.py
    python tools/train.py configs/hvc/hvc_r18_demo.py --work-dir work_dirs/demo
    bash tools/dist_train.sh configs/hvc/hvc_r18_coco.py 8
"""
import argparse
import logging
import os
import warnings

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmhvc.registry import RUNNERS
from mmhvc.utils import (check_resume_checkpoint, load_tool_config,
                         explain_build_error, find_resume_checkpoint,
                         register_all_modules, setup_cpu_distributed)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train an HVC model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or, without a path, from the '
        'latest complete checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic mixed precision training (needs a GPU)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, e.g. '
        'train_dataloader.batch_size=32 (key=value; lists as [a,b] or a,b)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local_rank or --local-rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def configure_amp(cfg: Config, enable: bool) -> None:
    """Switch the optimizer wrapper to or from ``AmpOptimWrapper``.

    AMP needs a GPU; on a CPU-only machine a config that asks for it trains in
    float32 with a warning instead of failing in ``AmpOptimWrapper``.
    """
    optim_wrapper = cfg.optim_wrapper
    wants_amp = enable or optim_wrapper.get('type') == 'AmpOptimWrapper'
    if not wants_amp:
        return
    if not torch.cuda.is_available():
        warnings.warn('AMP needs a CUDA device; training in float32.')
        optim_wrapper.type = 'OptimWrapper'
        optim_wrapper.pop('loss_scale', None)
        optim_wrapper.pop('dtype', None)
        return
    optim_wrapper.type = 'AmpOptimWrapper'
    optim_wrapper.setdefault('loss_scale', 'dynamic')


def configure_resume(cfg: Config, resume: str) -> None:
    """Point the config at the checkpoint to resume from.

    Without a path (``'auto'``) the latest *complete* checkpoint of the
    work dir is taken (see :func:`mmhvc.utils.find_resume_checkpoint`);
    when there is none, training starts from scratch. A given path must be
    a complete checkpoint.
    """
    if resume == 'auto':
        found = find_resume_checkpoint(cfg.work_dir)
        if found is None:
            print_log(
                f'--resume: no complete checkpoint in {cfg.work_dir}; '
                'training from scratch.',
                logger='current',
                level=logging.WARNING)
        cfg.resume = found is not None
        cfg.load_from = found
    else:
        check_resume_checkpoint(resume)
        cfg.resume = True
        cfg.load_from = resume


def main() -> None:
    args = parse_args()
    register_all_modules(init_default_scope=False)

    cfg = load_tool_config(args.config, args.launcher, args.cfg_options,
                           args.work_dir)

    configure_amp(cfg, args.amp)

    if args.resume is not None:
        configure_resume(cfg, args.resume)

    setup_cpu_distributed(cfg)

    try:
        if 'runner_type' in cfg:
            runner = RUNNERS.build(cfg)
        else:
            runner = Runner.from_cfg(cfg)
        runner.train()
    except (KeyError, TypeError) as error:
        message = explain_build_error(error, cfg)
        if message is None:
            raise
        raise type(error)(message) from error


if __name__ == '__main__':
    main()
