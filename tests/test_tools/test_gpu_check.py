"""tools/analysis_tools/gpu_check.sh and its table, on a CPU-only machine."""
import importlib.util
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ANALYSIS = osp.join(REPO, 'tools', 'analysis_tools')


def cpu_env():
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='', OMP_NUM_THREADS='1')
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    return env


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location(
        'gpu_check_table', osp.join(ANALYSIS, 'gpu_check_table.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_cuda_says_so_and_exits_0(tmp_path):
    out_dir = tmp_path / 'check'
    result = subprocess.run(
        ['bash', osp.join(ANALYSIS, 'gpu_check.sh'),
         str(out_dir)],
        env=cpu_env(),
        capture_output=True,
        text=True,
        timeout=120)
    assert result.returncode == 0, result.stderr
    assert 'no CUDA device' in result.stdout
    assert 'nothing to measure' in result.stdout
    assert not out_dir.exists()


def run_benchmark(args, log_path):
    result = subprocess.run([sys.executable] + args,
                            cwd=REPO,
                            env=cpu_env(),
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    log_path.write_text(result.stdout)
    return result.stdout


def numbers_after(name, text):
    """The numbers of the benchmark table row that starts with ``name``."""
    rows = []
    for line in text.splitlines():
        words = line.split()
        if words[:1] == [name] and all(
                re.fullmatch(r'[-+.\de]+', w) for w in words[1:]):
            rows.append([float(w) for w in words[1:]])
    (row, ) = rows
    return row


def cells(table):
    rows = {}
    for line in table.splitlines()[2:]:
        measurement, value = [
            c.strip() for c in re.split(r'(?<!\\)\|', line)[1:-1]
        ]
        rows[measurement] = value
    return rows


def test_table_from_real_benchmark_output(tool, tmp_path, capsys):
    out_dir = tmp_path / 'check'
    (out_dir / 'train' / '20240101_000000' / 'vis_data').mkdir(parents=True)
    with open(out_dir / 'train' / '20240101_000000' / 'vis_data' /
              'scalars.json', 'w') as f:
        for i, (time, memory) in enumerate([(9.0, 7000), (0.50, 9100),
                                            (0.40, 9050), (0.30, 9000)]):
            f.write(json.dumps(dict(step=i + 1, time=time, data_time=0.1,
                                    memory=memory, loss=-1.)) + '\n')
    # The benchmarks themselves, on tiny inputs on the CPU: the table reads
    # the format they print today.
    train_text = run_benchmark([
        osp.join(ANALYSIS, 'benchmark_train.py'),
        'configs/hvc/hvc_r18_coco.py', '--batch-size', '2', '--crop-size',
        '32', '--warmup', '0', '--iters', '1', '--device', 'cpu', '--threads',
        '1'
    ], out_dir / 'benchmark_train.log')
    prop_text = run_benchmark([
        osp.join(ANALYSIS, 'benchmark_propagation.py'), '--grid', '6', '8',
        '--channels', '8', '--labels', '2', '--context-size', '3',
        '--start-frame', '4', '--frames', '1', '--dense-frames', '1',
        '--threads', '1'
    ], out_dir / 'benchmark_propagation.log')

    tool.main([str(out_dir), '--gpu', 'Test GPU', '--batch-size', '2'])
    table = capsys.readouterr().out
    assert table.splitlines()[0] == '| measurement (Test GPU) | value |'
    rows = cells(table)
    train = ('`tools/train.py configs/hvc/hvc_r18_coco.py --amp`, batch 2, '
             'generated images')
    # Iterations 2-4: median of 0.5, 0.4, 0.3; the peak over all four.
    assert rows[f'{train}: median time per step (iterations 2-4)'] == (
        '0.400 s (data 0.100 s)')
    assert rows[f'{train}: peak GPU memory'] == '9100 MiB'

    chunked = numbers_after('chunked', train_text)
    dense = numbers_after('dense', train_text)
    bench = ('`benchmark_train.py`, batch 2, mmhvc (chunked loss) / dense '
             'reference')
    assert rows[f'{bench}: training step, median time'] == (
        f'{chunked[0]:.1f} ms / {dense[0]:.1f} ms '
        f'({chunked[0] / dense[0]:.2f}x)')
    assert rows[f'{bench}: loss forward + backward, peak memory'].startswith(
        f'{chunked[3]:.0f} MiB / {dense[3]:.0f} MiB')

    windowed = numbers_after('windowed', prop_text)
    dense = numbers_after('dense', prop_text)
    prop = '`benchmark_propagation.py`, windowed / dense'
    assert rows[f'{prop}: time per frame'].startswith(
        f'{windowed[1]:.3f} s / {dense[1]:.3f} s')
    assert rows[f'{prop}: peak memory'].startswith(f'{windowed[4]:.0f} MiB')
    difference = re.search(r'over 1 frames: (\S+);', prop_text).group(1)
    assert rows[f'{prop}: max abs. difference of the soft labels '
                '(1 frames)'] == difference
    assert rows[f'{prop}: settings'].startswith('grid 6x8, C=8')


def test_missing_results_point_to_the_logs(tool, tmp_path, capsys):
    tool.main([str(tmp_path), '--gpu', 'Test GPU'])
    rows = cells(capsys.readouterr().out)
    assert list(rows.values()) == [
        f'no result (see {tmp_path}/{name}.log)'
        for name in ('train', 'benchmark_train', 'benchmark_propagation')
    ]
