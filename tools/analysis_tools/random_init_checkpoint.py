"""Save a randomly initialised model of a config as a checkpoint.

The baseline for "what does training buy": evaluate the saved file with
tools/test.py exactly like a trained checkpoint.

Example::

    python tools/analysis_tools/random_init_checkpoint.py \
        configs/propagation/demo_davis_r18.py work_dirs/random_init.pth
"""
import argparse
import os.path as osp

from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.runner import set_random_seed

from mmhvc.fileio import atomic_torch_save
from mmhvc.registry import MODELS
from mmhvc.utils import register_all_modules


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Save a randomly initialised model as a checkpoint')
    parser.add_argument('config', help='config whose model is initialised')
    parser.add_argument('out', help='output checkpoint path')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    register_all_modules()
    cfg = Config.fromfile(args.config)
    # init_weights reports every parameter at INFO level; keep it quiet.
    MMLogger.get_instance('random_init', log_level='WARNING')
    set_random_seed(args.seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    atomic_torch_save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(seed=args.seed, config=osp.basename(args.config))),
        args.out)
    print(f'random initialisation (seed {args.seed}) saved to {args.out}')


if __name__ == '__main__':
    main()
