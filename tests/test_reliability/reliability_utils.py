"""Helpers of the reliability tests: tiny training data and config, running
the tools in subprocesses, loading checkpoints."""
import os
import os.path as osp
import subprocess
import sys
import textwrap
from typing import List, Optional

import cv2
import numpy as np
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

TINY_TRAIN_CONFIG = """
_base_ = [
    '{repo}/configs/_base_/models/hvc_r18.py',
    '{repo}/configs/_base_/default_runtime.py',
]
model = dict(
    neck=dict(hid_channels=16, out_channels=16),
    head=dict(
        predictor=dict(in_channels=16, hid_channels=16, out_channels=16),
        flow=dict(in_channels=16, hid_channels=8)))
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='StaticImageDataset',
        data_root='{data_root}',
        data_prefix=dict(img_path='images'),
        pipeline=[
            dict(type='LoadImageWithCheck'),
            dict(type='RandomResizedCropPair', size=32),
            dict(type='PackCropPairInputs'),
        ]))
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=8)
param_scheduler = []
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(by_epoch=False, interval=2, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0, deterministic=True)
"""


def write_images(folder: str, num: int = 6, size=(40, 56)) -> None:
    """Random BGR JPEG images ``000.jpg`` ... in ``folder``."""
    rng = np.random.default_rng(0)
    os.makedirs(folder)
    for i in range(num):
        cv2.imwrite(
            osp.join(folder, f'{i:03d}.jpg'),
            rng.integers(0, 256, size + (3, ), dtype=np.uint8))


def write_tiny_train_config(root: str) -> str:
    """Write six 40x56 images to ``<root>/images`` and the config of a small
    HVC trained on them (32x32 crops, batch 2, 8 iterations, a checkpoint
    every 2 iterations, one kept); return the config path."""
    write_images(osp.join(root, 'images'))
    path = osp.join(root, 'tiny_hvc.py')
    with open(path, 'w') as f:
        f.write(
            textwrap.dedent(
                TINY_TRAIN_CONFIG.format(repo=REPO, data_root=root)))
    return path


def tool_env(**overrides: str) -> dict:
    """The environment of a tool subprocess: one thread, this Python."""
    env = dict(os.environ, OMP_NUM_THREADS='1', **overrides)
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    return env


def run_tool(cmd, cwd=REPO, check=True, **env_overrides):
    """Run a command in a subprocess; with ``check`` assert that it
    succeeded. Keyword arguments are extra environment variables."""
    result = subprocess.run(
        cmd,
        cwd=cwd,
        env=tool_env(**env_overrides),
        capture_output=True,
        text=True,
        timeout=600)
    if check:
        assert result.returncode == 0, (result.stdout[-3000:] +
                                        result.stderr[-3000:])
    return result


# Runs tools/train.py with faults injected, each chosen by an environment
# variable:
# - TORN_CHECKPOINT=<name>: LocalBackend.put, through which MMEngine writes
#   checkpoints, writes half of the file whose name contains <name>, then
#   the process kills itself (SIGKILL): a torn write.
# - SLOW_ITER_S=<s>: sleep before every iteration (numbers unchanged), so
#   that a kill from outside lands mid-run.
TRAIN_WRAPPER = textwrap.dedent("""
    import os, runpy, signal, sys, time
    from mmengine.fileio.backends.local_backend import LocalBackend
    from mmengine.runner.loops import IterBasedTrainLoop

    env = os.environ
    torn = env.get('TORN_CHECKPOINT')
    delay = float(env.get('SLOW_ITER_S', '0'))
    put, run_iter = LocalBackend.put, IterBasedTrainLoop.run_iter

    def torn_put(self, obj, filepath):
        if torn and torn in os.path.basename(str(filepath)):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            os.kill(os.getpid(), signal.SIGKILL)
        return put(self, obj, filepath)

    def slow_run_iter(self, data_batch):
        time.sleep(delay)
        return run_iter(self, data_batch)

    LocalBackend.put = torn_put
    IterBasedTrainLoop.run_iter = slow_run_iter
    sys.argv = ['tools/train.py'] + sys.argv[1:]
    runpy.run_path('tools/train.py', run_name='__main__')
""")


def write_train_wrapper(folder: str) -> str:
    """Write :data:`TRAIN_WRAPPER` to ``folder``; return its path."""
    path = osp.join(folder, 'train_with_faults.py')
    with open(path, 'w') as f:
        f.write(TRAIN_WRAPPER)
    return path


def train_cmd(config: str, work_dir: str, *options: str,
              wrapper: Optional[str] = None) -> List[str]:
    """The command line of tools/train.py, or of a wrapper running it."""
    script = wrapper or 'tools/train.py'
    return [sys.executable, script, config, '--work-dir', work_dir
            ] + list(options)


def load_checkpoint(path: str) -> dict:
    """Load a Runner checkpoint with torch's default (weights only)."""
    import mmhvc  # noqa: F401  (allow-lists the Runner checkpoint types)
    return torch.load(path, map_location='cpu')
