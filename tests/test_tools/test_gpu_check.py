"""tools/analysis_tools/gpu_check.sh and its table, on a CPU-only machine."""
import importlib.util
import json
import os
import os.path as osp
import re
import subprocess
import sys

import cv2
import numpy as np
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


def numbers_after(names, text):
    """The numbers of the benchmark table row that starts with the words
    ``names``."""
    rows = []
    for line in text.splitlines():
        words = line.split()
        if words[:len(names)] == names and all(
                re.fullmatch(r'[-+.\de]+', w) for w in words[len(names):]):
            rows.append([float(w) for w in words[len(names):]])
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
    frames = tmp_path / 'videos' / 'pan'
    frames.mkdir(parents=True)
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    for t in range(4):
        cv2.imwrite(str(frames / f'{t:05d}.jpg'), base[:, t:t + 56].copy())
    prop_texts = [
        run_benchmark([
            osp.join(ANALYSIS, 'benchmark_propagation.py'), '--data',
            str(frames.parent), '--image-size', '40', '56', '--labels', '2',
            '--cfg-options', 'model.propagator.context_size=2',
            '--dense-stride', '1', '--threads', '1', *precision
        ], out_dir / f'benchmark_propagation_{key}.log')
        for key, precision in (('fp32', []), ('fp16', ['--fp16']))
    ]
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

    chunked = numbers_after(['chunked'], train_text)
    dense = numbers_after(['dense'], train_text)
    bench = ('`benchmark_train.py`, batch 2, mmhvc (chunked loss) / dense '
             'reference')
    assert rows[f'{bench}: training step, median time'] == (
        f'{chunked[0]:.1f} ms / {dense[0]:.1f} ms '
        f'({chunked[0] / dense[0]:.2f}x)')
    assert rows[f'{bench}: loss forward + backward, peak memory'].startswith(
        f'{chunked[3]:.0f} MiB / {dense[3]:.0f} MiB')

    picks = []
    for prop_text, precision in zip(prop_texts,
                                    ('float32', 'float16 autocast')):
        windowed = numbers_after(['all', 'windowed'], prop_text)
        dense = numbers_after(['all', 'dense'], prop_text)
        prop = f'`benchmark_propagation.py`, {precision}, windowed / dense'
        assert rows[f'{prop}: steady state, time per frame'] == (
            f'{windowed[1]:.4g} s / {dense[1]:.4g} s '
            f'({windowed[1] / dense[1]:.2f}x)')
        assert rows[f'{prop}: whole video, time per frame'].startswith(
            f'{windowed[3]:.4g} s / {dense[3]:.4g} s')
        assert rows[f'{prop}: peak memory'].startswith(
            f'{windowed[5]:.0f} MiB / {dense[5]:.0f} MiB')
        assert rows[f'{prop}: peak memory above the start of the pass'] \
            .startswith(f'{windowed[6]:.0f} MiB / {dense[6]:.0f} MiB')
        floor = re.search(r'windowed at (\S+) of the floor', prop_text)
        assert rows[f'{prop}: windowed time at the products-only floor'] \
            == floor.group(1)
        agreement = re.search(r'argmax agreement over 3 frames: (\S+);',
                              prop_text)
        assert rows[f'{prop}: argmax agreement'] == agreement.group(1)
        assert rows[f'{prop}: settings'].startswith('grid 5x7, C=256, L=2')
        assert rows[f'{prop}: settings'].endswith(precision)
        picks.append('windowed' if windowed[1] < dense[1] else 'dense')
    auto = rows["`backend='auto'` should pick (faster in the steady state)"]
    assert auto == (picks[0] if picks[0] == picks[1] else
                    f'{picks[0]} in float32, {picks[1]} in float16 autocast')


def test_propagation_steps_time_both_backends_in_both_precisions():
    # The benchmark options of gpu_check.sh, as the benchmark parses them.
    with open(osp.join(ANALYSIS, 'gpu_check.sh')) as f:
        script = f.read()
    command = re.search(r'PROPAGATION=\(python (.*?)\)', script,
                        re.S).group(1).split()
    assert command[0] == 'tools/analysis_tools/benchmark_propagation.py'
    spec = importlib.util.spec_from_file_location(
        'benchmark_propagation', osp.join(REPO, command[0]))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    args = bench.parse_args(command[1:])
    assert (args.mode, args.device, args.dense_stride) == ('backends',
                                                           'cuda', 1)
    steps = re.findall(r'^step (benchmark_propagation_\w+) \d+ '
                       r'"\$\{PROPAGATION\[@\]\}"(.*)$', script, re.M)
    assert sorted((name, extra.split()) for name, extra in steps) == [
        ('benchmark_propagation_fp16', ['--fp16']),
        ('benchmark_propagation_fp32', [])
    ]


def test_missing_results_point_to_the_logs(tool, tmp_path, capsys):
    tool.main([str(tmp_path), '--gpu', 'Test GPU'])
    rows = cells(capsys.readouterr().out)
    assert list(rows.values()) == [
        f'no result (see {tmp_path}/{name}.log)'
        for name in ('train', 'benchmark_train', 'benchmark_propagation_fp32',
                     'benchmark_propagation_fp16')
    ]
