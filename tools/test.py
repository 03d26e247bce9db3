"""Evaluate a checkpoint by label propagation with MMEngine's test loop.

Examples::

    python tools/test.py configs/propagation/davis2017_val_r18.py CKPT
    python tools/test.py CONFIG CKPT --show-dir overlays
    python tools/test.py CONFIG CKPT --resume   # continue a killed run
    bash tools/dist_test.sh CONFIG CKPT 2
"""
import argparse
import os
import os.path as osp

from mmengine.config import DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmhvc.checkpoint import load_model_weights
from mmhvc.datasets import BaseVideoDataset
from mmhvc.engine.runner import (check_fingerprint, evaluation_fingerprint,
                                 find_latest_run)
from mmhvc.registry import DATASETS, RUNNERS
from mmhvc.utils import (explain_build_error, load_tool_config,
                         register_all_modules, setup_cpu_distributed)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Evaluate a checkpoint by label propagation')
    parser.add_argument('config', help='propagation config file path')
    parser.add_argument(
        'checkpoint',
        help='an mmhvc training checkpoint or a backbone-only file')
    parser.add_argument(
        '--work-dir',
        help='the dir for logs, metrics and masks; each run writes into its '
        'own timestamped sub-folder')
    parser.add_argument(
        '--show-dir',
        help='write mask overlays (and one video per sequence) to this dir '
        'inside the run folder')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='continue the latest run folder of the work dir: sequences '
        'whose results folders are written are not propagated again')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config (key=value)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def is_video_dataset(dataset_cfg: dict) -> bool:
    """Whether a dataset config builds a :class:`BaseVideoDataset`."""
    dataset_type = dataset_cfg.get('type')
    if isinstance(dataset_type, str):
        dataset_type = DATASETS.get(dataset_type)
    return isinstance(dataset_type, type) and issubclass(
        dataset_type, BaseVideoDataset)


def setup_evaluation_run(cfg, checkpoint: str, resume: bool) -> None:
    """Check the data up front and make the run resumable.

    The test dataset checks every sequence's files before the first is
    propagated. The test loop (``VideoTestLoop``) stores the evaluation's
    fingerprint in its run folder; with ``resume`` it continues the latest
    run folder of the work dir, after checking that it evaluated the same
    config and checkpoint (a new run starts when there is none).
    """
    fingerprint = evaluation_fingerprint(cfg, checkpoint)
    if is_video_dataset(cfg.test_dataloader.dataset):
        cfg.test_dataloader.dataset['check_files'] = True
    loop = cfg.get('test_cfg') or dict(type='TestLoop')
    if loop.get('type') != 'VideoTestLoop':
        if resume:
            raise ValueError('--resume needs test_cfg = dict(type='
                             f'"VideoTestLoop"), got {loop.get("type")} (see '
                             'configs/_base_/propagation_runtime.py)')
        return
    loop['fingerprint'] = fingerprint
    run_dir = find_latest_run(cfg.work_dir) if resume else None
    if resume and run_dir is None:
        print_log(
            f'--resume: no evaluation run in {cfg.work_dir} to continue; '
            'starting a new one.',
            logger='current')
    if run_dir is not None:
        check_fingerprint(run_dir, fingerprint)
        loop['run_dir'] = run_dir
        visualization = (cfg.get('default_hooks') or {}).get('visualization')
        if visualization and visualization.get('out_dir') and \
                not osp.isabs(visualization['out_dir']):
            visualization['out_dir'] = osp.join(run_dir,
                                                visualization['out_dir'])


def main() -> None:
    args = parse_args()
    register_all_modules(init_default_scope=False)

    cfg = load_tool_config(args.config, args.launcher, args.cfg_options,
                           args.work_dir)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    # Loaded below, refusing missing keys and shape mismatches, instead of
    # through load_from, which MMEngine loads non-strictly.
    cfg.load_from = None

    if args.show_dir is not None:
        hooks = cfg.setdefault('default_hooks', {})
        visualization = hooks.get('visualization') or dict(
            type='VOSVisualizationHook')
        visualization['draw'] = True
        visualization['out_dir'] = args.show_dir
        hooks['visualization'] = visualization

    # Every sequence's files are checked before the first is propagated.
    setup_evaluation_run(cfg, args.checkpoint, args.resume)
    setup_cpu_distributed(cfg)

    try:
        if 'runner_type' in cfg:
            runner = RUNNERS.build(cfg)
        else:
            runner = Runner.from_cfg(cfg)
        load_model_weights(runner.model, args.checkpoint)
        runner.test()
        model = getattr(runner.model, 'module', runner.model)
        if hasattr(model, 'speed_summary'):
            runner.logger.info(model.speed_summary())
    except (KeyError, TypeError) as error:
        message = explain_build_error(error, cfg)
        if message is None:
            raise
        raise type(error)(message) from error


if __name__ == '__main__':
    main()
