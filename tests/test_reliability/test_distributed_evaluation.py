"""Evaluation runs: separate result folders, and 2 CPU processes = 1.

On a generated DAVIS-layout dataset of three sequences (an odd number:
MMEngine's ``DefaultSampler`` pads the second process's share with a
repeat of the first sequence, which must not be counted twice), a random
ResNet-18 checkpoint is evaluated twice by one process and once by two
gloo processes (``tools/dist_test.sh``), all in one work dir.
"""
import csv
import glob
import os
import os.path as osp
import socket
import sys

import pytest
import torch
from reliability_utils import REPO, run_tool

from mmhvc.datasets.synthetic import Options, write_davis

CONFIG = osp.join(REPO, 'configs', 'propagation', 'demo_davis_r18.py')


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp('eval')
    data = str(root / 'davis')
    write_davis(
        data,
        Options(seed=0, size=(48, 64), frames=(6, 8),
                objects=(2, 3), overwrite=False), 3, 0)
    ckpt = str(root / 'random.pth')
    run_tool([
        sys.executable, 'tools/analysis_tools/random_init_checkpoint.py',
        CONFIG, ckpt
    ])
    return data, ckpt


def free_port() -> str:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def read_csv(path):
    with open(path) as f:
        return list(csv.reader(f))


def global_table(log: str) -> str:
    """The printed global J&F table of a run's output."""
    lines = log[log.index('Global results for val:'):].splitlines()[1:]
    table = []
    for line in lines:
        if not line.startswith(('+', '|')):
            break
        table.append(line)
    return '\n'.join(table)


def check_complete(run_dir, data, sequences):
    """Every sequence has all its masks; both CSV files are there; nothing
    half-written is left."""
    results = osp.join(run_dir, 'results')
    for seq in sequences:
        frames = os.listdir(osp.join(data, 'JPEGImages', '480p', seq))
        masks = os.listdir(osp.join(results, seq))
        assert sorted(masks) == sorted(f.replace('.jpg', '.png')
                                       for f in frames)
    assert not glob.glob(osp.join(run_dir, '**', '.*'), recursive=True)
    per_sequence = read_csv(osp.join(results, 'per-sequence_results-val.csv'))
    return read_csv(osp.join(results, 'global_results-val.csv')), per_sequence


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU gloo path')
def test_reruns_get_own_folders_and_two_processes_match_one(demo, tmp_path):
    data, ckpt = demo
    with open(osp.join(data, 'ImageSets', '2017', 'val.txt')) as f:
        sequences = f.read().split()
    assert len(sequences) == 3
    work_dir = str(tmp_path / 'work')
    data_option = f'test_dataloader.dataset.data_root={data}'

    logs = []
    for _ in range(2):
        result = run_tool([
            sys.executable, 'tools/test.py', CONFIG, ckpt, '--work-dir',
            work_dir, '--cfg-options', data_option
        ])
        logs.append(result.stdout + result.stderr)
    # cwd outside the repository: MMEngine gathers results through a
    # '.dist_test' folder in the working directory.
    result = run_tool([
        'bash', osp.join(REPO, 'tools', 'dist_test.sh'), CONFIG, ckpt, '2',
        '--work-dir', work_dir, '--show-dir', 'vis', '--cfg-options',
        data_option
    ],
                      cwd=str(tmp_path),
                      PORT=free_port())
    logs.append(result.stdout + result.stderr)
    assert 'rank 0 of 2 runs on the CPU over gloo' in logs[-1]

    run_dirs = sorted(glob.glob(osp.join(work_dir, '2*')))
    assert len(run_dirs) == 3
    tables = [check_complete(d, data, sequences) for d in run_dirs]
    assert tables[0] == tables[1] == tables[2]
    global_rows, per_sequence = tables[0]
    objects = [row[0] for row in per_sequence[1:]]
    # Each object of each sequence once, in dataset order.
    assert len(objects) == len(set(objects))
    assert [name.rsplit('_', 1)[0] for name in objects] == sorted(
        name.rsplit('_', 1)[0] for name in objects)
    assert {name.rsplit('_', 1)[0] for name in objects} == set(sequences)
    assert global_table(logs[0]) == global_table(logs[2])
    for seq in sequences:
        assert osp.getsize(osp.join(run_dirs[2], 'vis', f'{seq}.mp4')) > 0
