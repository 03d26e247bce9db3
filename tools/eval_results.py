"""Score a results folder against a benchmark's annotations, without
propagating: the folder of a ``tools/test.py`` run, the masks another method
produced, or the result archives published with the HVC checkpoints.

Examples::

    python tools/eval_results.py configs/propagation/davis2017_val_r18.py \\
        work_dirs/davis2017_val_r18/20260101_120000/results
    python tools/eval_results.py configs/propagation/davis2017_val_r18.py \\
        hvc_coco/

The folder holds one sub-folder per sequence, laid out as the config's
metric writes it (DAVIS, VIP: ``<seq>/<frame>.png``; VOST: the annotated
frames' ``<video>/<frame>.png``; JHMDB:
``<seq>/keypoints.json``; YouTube-VOS: ``Annotations/<video>/``). The
tables are printed and their CSV files written into the folder, as the
official evaluators do. A sequence or a frame without results is an error
that names it.
"""
import argparse
import os.path as osp

from mmengine.config import DictAction
from mmengine.logging import MMLogger

from mmhvc.registry import DATASETS, METRICS
from mmhvc.utils import (explain_build_error, load_tool_config,
                         register_all_modules)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Score a results folder (no propagation)')
    parser.add_argument('config', help='the propagation config of the '
                        'benchmark (its test dataset and evaluator)')
    parser.add_argument('results', help='the results folder')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config (key=value)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    register_all_modules()
    if not osp.isdir(args.results):
        raise SystemExit(f'error: results folder not found: {args.results}')
    cfg = load_tool_config(args.config, cfg_options=args.cfg_options)
    MMLogger.get_instance('mmhvc', log_level='INFO')
    evaluator = cfg.test_evaluator
    try:
        dataset = DATASETS.build(cfg.test_dataloader.dataset)
        metrics = [
            METRICS.build(metric) for metric in (
                evaluator if isinstance(evaluator, list) else [evaluator])
        ]
    except (KeyError, TypeError) as error:
        message = explain_build_error(error, cfg)
        if message is None:
            raise
        raise type(error)(message) from error
    for metric in metrics:
        metric.dataset_meta = dataset.metainfo
        scores = metric.score_folder(args.results, dataset)
        print(' '.join(f'{name}: {value}' for name, value in scores.items()))


if __name__ == '__main__':
    main()
