"""An evaluation killed with SIGKILL and resumed gives the tables of an
uninterrupted run.

On a generated DAVIS-layout dataset of three sequences, a random ResNet-18
checkpoint is evaluated once without interruption. Another run kills
itself while it writes a mask of the second sequence (leaving a torn
temporary file, as a kill during a write does); ``--resume`` then
propagates only the sequences without a results folder and must write the
same
CSV files and print the same table. The same with two gloo processes
through ``tools/dist_test.sh``, and a resume with another checkpoint is
refused.
"""
import csv
import glob
import os
import os.path as osp
import shutil
import socket
import sys
import textwrap

import pytest
import torch
from reliability_utils import REPO, run_tool

from mmhvc.datasets.synthetic import Options, write_davis

CONFIG = osp.join(REPO, 'configs', 'propagation', 'demo_davis_r18.py')
SEQUENCES = ['demo00', 'demo01', 'demo02']
CSV_FILES = ('global_results-val.csv', 'per-sequence_results-val.csv')

# Runs tools/test.py; with KILL_AT_MASK=<n>, the n-th mask this process
# writes is left as a torn temporary file and the process kills itself.
TEST_WRAPPER = textwrap.dedent("""
    import os, runpy, signal, sys
    from mmhvc.evaluation.metrics import prediction_files
    from mmhvc.fileio import temp_path

    limit = int(os.environ.get('KILL_AT_MASK', '0'))
    write, written = prediction_files.write_indexed_png, []

    def write_or_die(path, label_map, palette=None):
        written.append(path)
        if len(written) == limit:
            with open(temp_path(path), 'wb') as f:
                f.write(b'\\x89PNG torn')
            os.kill(os.getpid(), signal.SIGKILL)
        return write(path, label_map, palette)

    prediction_files.write_indexed_png = write_or_die
    sys.argv = [{test_py!r}] + sys.argv[1:]
    runpy.run_path({test_py!r}, run_name='__main__')
""")


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp('resume')
    data = str(root / 'davis')
    write_davis(
        data,
        Options(seed=1, size=(48, 64), frames=(6, 8),
                objects=(2, 3), overwrite=False), 3, 0)
    ckpt = str(root / 'random.pth')
    run_tool([
        sys.executable, 'tools/analysis_tools/random_init_checkpoint.py',
        CONFIG, ckpt
    ])
    # A tools/ folder whose test.py is the wrapper, beside a copy of
    # dist_test.sh, so that the script starts the wrapper on every rank.
    tools = root / 'tools'
    tools.mkdir()
    (tools / 'test.py').write_text(
        TEST_WRAPPER.format(test_py=osp.join(REPO, 'tools', 'test.py')))
    shutil.copy(osp.join(REPO, 'tools', 'dist_test.sh'), tools)
    work_dir = str(root / 'uninterrupted')
    result = run_test(data, ckpt, work_dir)
    return dict(
        data=data,
        ckpt=ckpt,
        tools=str(tools),
        run_dir=only_run_dir(work_dir),
        table=printed_global_table(result.stdout + result.stderr))


def free_port() -> str:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def run_test(data, ckpt, work_dir, *options, script=None, check=True, **env):
    """Run tools/test.py (or ``script``) on the demo data; return the
    completed process."""
    script = script or osp.join(REPO, 'tools', 'test.py')
    return run_tool(
        [
            sys.executable, script, CONFIG, ckpt, '--work-dir', work_dir,
            '--cfg-options', f'test_dataloader.dataset.data_root={data}'
        ] + list(options),
        check=check,
        **env)


def run_dist_test(data,
                  ckpt,
                  work_dir,
                  tools_dir,
                  *options,
                  check=True,
                  **env):
    """Run ``<tools_dir>/dist_test.sh`` with 2 processes, from a folder
    outside the repository (MMEngine gathers through ``./.dist_test``)."""
    return run_tool([
        'bash',
        osp.join(tools_dir,
                 'dist_test.sh'), CONFIG, ckpt, '2', '--work-dir', work_dir,
        *options, '--cfg-options', f'test_dataloader.dataset.data_root={data}'
    ],
                    cwd=osp.dirname(work_dir),
                    check=check,
                    PORT=free_port(),
                    **env)


def only_run_dir(work_dir):
    """The one run folder with an evaluation_run.json in ``work_dir``."""
    runs = glob.glob(osp.join(work_dir, '*', 'evaluation_run.json'))
    assert len(runs) == 1, runs
    return osp.dirname(runs[0])


def tables(run_dir):
    tables = []
    for name in CSV_FILES:
        with open(osp.join(run_dir, 'results', name)) as f:
            tables.append(list(csv.reader(f)))
    return tables


def printed_global_table(log):
    start = log.rindex('Global results for val:')
    lines = log[start:].splitlines()[1:]
    return [line for line in lines[:5] if line.startswith(('+', '|'))]


def written(run_dir):
    """The sequences whose results folder is complete (not hidden)."""
    folder = osp.join(run_dir, 'results')
    return sorted(
        name for name in os.listdir(folder)
        if osp.isdir(osp.join(folder, name)) and not name.startswith('.'))


def check_masks(run_dir, data):
    """Every frame's mask, and nothing half-written, is in the results."""
    for seq in SEQUENCES:
        frames = os.listdir(osp.join(data, 'JPEGImages', '480p', seq))
        assert sorted(os.listdir(osp.join(run_dir, 'results', seq))) == \
            sorted(f.replace('.jpg', '.png') for f in frames)
    assert not glob.glob(osp.join(run_dir, '**', '.*'), recursive=True)


def test_uninterrupted_run_writes_every_sequence(demo):
    check_masks(demo['run_dir'], demo['data'])
    assert written(demo['run_dir']) == SEQUENCES
    per_sequence = tables(demo['run_dir'])[1]
    assert [row[0].rsplit('_', 1)[0] for row in per_sequence[1:]
            ] == sorted(row[0].rsplit('_', 1)[0] for row in per_sequence[1:])
    assert {row[0].rsplit('_', 1)[0]
            for row in per_sequence[1:]} == set(SEQUENCES)
    assert len(demo['table']) == 5


def test_killed_run_resumes_to_the_same_tables(demo, tmp_path):
    data, ckpt, tools = demo['data'], demo['ckpt'], demo['tools']
    expected_tables = tables(demo['run_dir'])
    work_dir = str(tmp_path / 'work')
    frames = len(os.listdir(osp.join(data, 'JPEGImages', '480p', 'demo00')))

    killed = run_test(
        data,
        ckpt,
        work_dir,
        script=osp.join(tools, 'test.py'),
        check=False,
        KILL_AT_MASK=str(frames + 2))
    assert killed.returncode == -9, killed.stderr[-2000:]
    run_dir = only_run_dir(work_dir)
    assert written(run_dir) == ['demo00']
    # demo01 is still a hidden folder: one mask written, the next torn.
    (partial, ) = glob.glob(osp.join(run_dir, 'results', '.demo01.*.tmp'))
    assert [osp.basename(p) for p in glob.glob(osp.join(partial, '*'))
            ] == ['00000.png']
    assert glob.glob(osp.join(partial, '.*.tmp'))

    resumed = run_test(data, ckpt, work_dir, '--resume')
    log = resumed.stdout + resumed.stderr
    assert (f'Resuming the evaluation in {run_dir}: 1 of 3 sequences are '
            'written and not propagated again; 1 half-written file(s) or '
            'folder(s)') in log
    assert 'Iter(test) [2/2]' in log
    assert only_run_dir(work_dir) == run_dir
    assert len(glob.glob(osp.join(work_dir, '2*'))) == 2
    check_masks(run_dir, data)
    assert written(run_dir) == SEQUENCES
    assert tables(run_dir) == expected_tables
    assert printed_global_table(log) == demo['table']

    (tmp_path / 'other.pth').write_bytes(open(ckpt, 'rb').read() + b'\0')
    refused = run_test(
        data, str(tmp_path / 'other.pth'), work_dir, '--resume', check=False)
    assert refused.returncode != 0
    assert (f'Cannot resume {run_dir}: it evaluated another checkpoint '
            f'{ckpt}') in refused.stderr
    assert 'Iter(test)' not in refused.stdout + refused.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU gloo path')
def test_two_processes_killed_and_resumed(demo, tmp_path):
    data, ckpt, tools = demo['data'], demo['ckpt'], demo['tools']
    expected_tables = tables(demo['run_dir'])
    work_dir = str(tmp_path / 'work')
    frames = len(os.listdir(osp.join(data, 'JPEGImages', '480p', 'demo00')))

    # Rank 0 propagates demo00 and demo02, and dies in demo02; rank 1
    # propagates demo01, or is stopped by the launcher before it is done.
    killed = run_dist_test(
        data, ckpt, work_dir, tools, check=False, KILL_AT_MASK=str(frames + 2))
    assert killed.returncode != 0
    run_dir = only_run_dir(work_dir)
    done = written(run_dir)
    assert 'demo00' in done and 'demo02' not in done

    resumed = run_dist_test(data, ckpt, work_dir, osp.join(REPO, 'tools'),
                            '--resume')
    log = resumed.stdout + resumed.stderr
    assert (f'Resuming the evaluation in {run_dir}: {len(done)} of 3 '
            'sequences are written') in log
    check_masks(run_dir, data)
    assert tables(run_dir) == expected_tables
    assert printed_global_table(log) == demo['table']
