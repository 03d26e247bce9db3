"""Argument handling of tools/slurm_*.sh and the multi-node dist scripts.

The launchers (``srun``, ``python``) are replaced by a script on ``PATH``
that records its arguments, so no Slurm cluster or GPU is needed.
"""
import importlib.util
import os
import os.path as osp
import stat
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools')

RECORDER = """#!/usr/bin/env bash
# Writes its arguments, one per line, and PYTHONPATH to $RECORD.
printf '%s\\n' "$@" > "$RECORD"
printf '%s\\n' "$PYTHONPATH" > "$RECORD.pythonpath"
"""


def launch(tmp_path, launcher, script, args, **env_overrides):
    """Run ``script`` with a fake ``launcher`` on PATH.

    Returns:
        (completed process, recorded launcher arguments, PYTHONPATH seen
        by the launcher)
    """
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / launcher
    fake.write_text(RECORDER)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    record = tmp_path / 'record.txt'
    env = {
        key: value
        for key, value in os.environ.items() if key not in (
            'GPUS', 'GPUS_PER_NODE', 'CPUS_PER_TASK', 'SRUN_ARGS', 'NNODES',
            'NODE_RANK', 'MASTER_ADDR', 'PORT')
    }
    env.update(env_overrides)
    env['PATH'] = str(bin_dir) + os.pathsep + env['PATH']
    env['RECORD'] = str(record)
    result = subprocess.run(['bash', osp.join(TOOLS, script)] + args,
                            cwd=str(tmp_path), env=env, capture_output=True,
                            text=True, timeout=60)
    if not record.exists():
        return result, None, None
    recorded = record.read_text().splitlines()
    pythonpath = (tmp_path / 'record.txt.pythonpath').read_text().strip()
    return result, recorded, pythonpath


def parse_tool_args(tool, argv, monkeypatch):
    """Parse ``argv`` with the ``parse_args`` of tools/<tool>.py."""
    spec = importlib.util.spec_from_file_location(
        f'mmhvc_tool_{tool}', osp.join(TOOLS, f'{tool}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, 'argv', [f'{tool}.py'] + argv)
    monkeypatch.setenv('LOCAL_RANK', '0')
    return module.parse_args()


def split_command(recorded, tool):
    """srun's own options and the command it runs (after ``python -u``)."""
    start = recorded.index('python')
    assert recorded[start + 1] == '-u'
    assert recorded[start + 2] == osp.join(TOOLS, f'{tool}.py')
    return recorded[:start], recorded[start + 3:]


def test_slurm_train_defaults(tmp_path, monkeypatch):
    result, recorded, pythonpath = launch(
        tmp_path, 'srun', 'slurm_train.sh',
        ['gpu_part', 'hvc_r18', 'cfg.py', 'work_dirs/x'])
    assert result.returncode == 0, result.stderr
    srun_args, command = split_command(recorded, 'train')
    assert srun_args == [
        '-p', 'gpu_part', '--job-name=hvc_r18', '--gres=gpu:8',
        '--ntasks=8', '--ntasks-per-node=8', '--cpus-per-task=5',
        '--kill-on-bad-exit=1'
    ]
    assert command == [
        'cfg.py', '--work-dir', 'work_dirs/x', '--launcher', 'slurm'
    ]
    assert pythonpath.split(os.pathsep)[0] == osp.join(TOOLS, '..')
    args = parse_tool_args('train', command, monkeypatch)
    assert (args.config, args.work_dir, args.launcher) == ('cfg.py',
                                                           'work_dirs/x',
                                                           'slurm')


def test_slurm_train_environment_and_extra_args(tmp_path, monkeypatch):
    result, recorded, _ = launch(
        tmp_path,
        'srun',
        'slurm_train.sh', [
            'p1', 'job', 'cfg.py', 'my runs/hvc', '--amp', '--cfg-options',
            'train_dataloader.batch_size=16'
        ],
        GPUS='16',
        GPUS_PER_NODE='4',
        CPUS_PER_TASK='3',
        SRUN_ARGS='--qos=high  --time=2:00:00')
    assert result.returncode == 0, result.stderr
    srun_args, command = split_command(recorded, 'train')
    assert srun_args == [
        '-p', 'p1', '--job-name=job', '--gres=gpu:4', '--ntasks=16',
        '--ntasks-per-node=4', '--cpus-per-task=3', '--kill-on-bad-exit=1',
        '--qos=high', '--time=2:00:00'
    ]
    # Arguments reach train.py as they were given, spaces included.
    assert command == [
        'cfg.py', '--work-dir', 'my runs/hvc', '--launcher', 'slurm',
        '--amp', '--cfg-options', 'train_dataloader.batch_size=16'
    ]
    args = parse_tool_args('train', command, monkeypatch)
    assert args.amp and args.launcher == 'slurm'
    assert args.work_dir == 'my runs/hvc'
    assert args.cfg_options == {'train_dataloader.batch_size': 16}


def test_slurm_test_passes_checkpoint(tmp_path, monkeypatch):
    result, recorded, _ = launch(
        tmp_path,
        'srun',
        'slurm_test.sh',
        ['p1', 'eval', 'prop.py', 'ckpt.pth', '--work-dir', 'out'],
        GPUS='2',
        GPUS_PER_NODE='2')
    assert result.returncode == 0, result.stderr
    srun_args, command = split_command(recorded, 'test')
    assert '--ntasks=2' in srun_args and '--gres=gpu:2' in srun_args
    assert command == [
        'prop.py', 'ckpt.pth', '--launcher', 'slurm', '--work-dir', 'out'
    ]
    args = parse_tool_args('test', command, monkeypatch)
    assert (args.config, args.checkpoint, args.launcher,
            args.work_dir) == ('prop.py', 'ckpt.pth', 'slurm', 'out')


@pytest.mark.parametrize('script', ['slurm_train.sh', 'slurm_test.sh'])
def test_slurm_scripts_need_four_arguments(tmp_path, script):
    result, recorded, _ = launch(tmp_path, 'srun', script,
                                 ['p1', 'job', 'cfg.py'])
    assert result.returncode == 2
    assert 'usage' in result.stderr
    assert recorded is None


def test_dist_train_multi_node_environment(tmp_path):
    result, recorded, _ = launch(
        tmp_path,
        'python',
        'dist_train.sh', ['cfg.py', '4', '--work-dir', 'wd'],
        NNODES='2',
        NODE_RANK='1',
        MASTER_ADDR='10.1.2.3',
        PORT='29876')
    assert result.returncode == 0, result.stderr
    assert recorded[:7] == [
        '-m', 'torch.distributed.run', '--nnodes=2', '--node_rank=1',
        '--master_addr=10.1.2.3', '--nproc_per_node=4', '--master_port=29876'
    ]
    assert recorded[7].endswith(osp.join('tools', 'train.py'))
    assert recorded[8:] == [
        'cfg.py', '--launcher', 'pytorch', '--work-dir', 'wd'
    ]


def test_dist_test_single_node_defaults(tmp_path):
    result, recorded, _ = launch(tmp_path, 'python', 'dist_test.sh',
                                 ['prop.py', 'ckpt.pth', '2'])
    assert result.returncode == 0, result.stderr
    assert recorded[2:7] == [
        '--nnodes=1', '--node_rank=0', '--master_addr=127.0.0.1',
        '--nproc_per_node=2', '--master_port=29500'
    ]
    assert recorded[8:] == ['prop.py', 'ckpt.pth', '--launcher', 'pytorch']
