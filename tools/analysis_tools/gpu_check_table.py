"""The markdown table of ``tools/analysis_tools/gpu_check.sh``.

Reads what the check left in its output folder and prints one table for
docs/benchmarks.md, headed by the GPU's name:

- ``train/<timestamp>/vis_data/scalars.json``: MMEngine's per-iteration
  log of the AMP training run (``time`` and ``data_time`` in seconds per
  iteration, ``memory``: peak ``torch.cuda.max_memory_allocated`` in MiB
  since the previous log line); the first iteration (warm-up) is left out
  of the times;
- ``benchmark_train.log``: the table of
  ``tools/analysis_tools/benchmark_train.py`` (rows ``dense`` and
  ``chunked``: step time in ms, step peak in MiB, loss time in ms, loss
  peak in MiB);
- ``benchmark_propagation_fp32.log`` and ``benchmark_propagation_fp16.log``:
  the output of ``tools/analysis_tools/benchmark_propagation.py --mode
  backends`` in float32 and under float16 autocast (rows ``all dense`` and
  ``all windowed``: frames, steady-state s/frame and frames/s, whole-video
  s/frame and frames/s, peak MiB, +MiB; the lines of the floor fraction and
  the argmax agreement; the settings on the first line). The backend that
  is faster in the steady state is the one ``backend='auto'`` should pick
  in that precision.

A step that left no result gets ``no result (see <log>)`` in its rows.

Example::

    python tools/analysis_tools/gpu_check_table.py work_dirs/gpu_check
"""
import argparse
import glob
import json
import os.path as osp
import re
import statistics
from typing import Dict, List, Optional, Sequence

NO_RESULT = 'no result (see {})'
#: Log name suffix and description of each precision of the propagation
#: benchmark.
PRECISIONS = (('fp32', 'float32'), ('fp16', 'float16 autocast'))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Markdown table of a gpu_check.sh run')
    parser.add_argument('out_dir', help='the output folder of gpu_check.sh')
    parser.add_argument('--config', default='configs/hvc/hvc_r18_coco.py')
    parser.add_argument('--batch-size', type=int, default=128)
    parser.add_argument(
        '--gpu',
        help='name of the GPU (default: torch.cuda.get_device_name with the '
        'torch and CUDA versions)')
    return parser.parse_args(argv)


def read_text(path: str) -> str:
    if not osp.isfile(path):
        return ''
    with open(path, encoding='utf-8', errors='replace') as f:
        return f.read()


def train_log_stats(train_dir: str) -> Optional[Dict[str, float]]:
    """Median ``time`` and ``data_time`` (s) over the iterations after the
    first, the largest ``memory`` (MiB) and the number of iterations, from
    the latest run's ``scalars.json``; None without a logged iteration."""
    logs = sorted(glob.glob(osp.join(train_dir, '*', 'vis_data',
                                     'scalars.json')))
    if not logs:
        return None
    with open(logs[-1], encoding='utf-8') as f:
        entries = [json.loads(line) for line in f if line.strip()]
    entries = [e for e in entries if 'time' in e]
    if not entries:
        return None
    timed = entries[1:] or entries
    stats = dict(
        iters=len(entries),
        time=statistics.median(e['time'] for e in timed),
        data_time=statistics.median(e.get('data_time', 0.) for e in timed))
    memory = [e['memory'] for e in entries if 'memory' in e]
    if memory:
        stats['memory'] = max(memory)
    return stats


def table_rows(text: str,
               names: Sequence[str],
               num_values: int,
               prefix: Sequence[str] = ()) -> Dict[str, List[Optional[float]]]:
    """Rows of a fixed-width table printed by a benchmark: lines whose words
    are ``prefix``, one of ``names`` and ``num_values`` numbers (``-`` for
    none)."""
    rows = {}
    for line in text.splitlines():
        words = line.split()[len(prefix):]
        if line.split()[:len(prefix)] != list(prefix) or \
                len(words) != num_values + 1 or words[0] not in names:
            continue
        try:
            rows[words[0]] = [
                None if w == '-' else float(w) for w in words[1:]
            ]
        except ValueError:
            continue
    return rows


def pair(ours: Optional[float], dense: Optional[float], fmt: str,
         unit: str) -> str:
    """``'<mmhvc> <unit> / <dense> <unit> (<ratio>)'``."""
    if ours is None or dense is None:
        return '-'
    ratio = f' ({ours / dense:.2f}x)' if dense else ''
    return f'{ours:{fmt}} {unit} / {dense:{fmt}} {unit}{ratio}'


def gpu_name() -> str:
    """The GPU's name with the versions of torch and CUDA."""
    import torch
    if not torch.cuda.is_available():
        return f'no CUDA device, torch {torch.__version__}'
    return (f'{torch.cuda.get_device_name(0)}, torch {torch.__version__}, '
            f'CUDA {torch.version.cuda}')


def check_rows(out_dir: str, config: str, batch: int) -> List[List[str]]:
    """The rows ``[measurement, value]`` of the table."""
    rows = []
    train_log = osp.join(out_dir, 'train.log')
    stats = train_log_stats(osp.join(out_dir, 'train'))
    what = (f'`tools/train.py {config} --amp`, batch {batch}, generated '
            'images')
    if stats is None:
        rows.append([what, NO_RESULT.format(train_log)])
    else:
        rows.append([
            f'{what}: median time per step (iterations 2-{stats["iters"]})',
            f'{stats["time"]:.3f} s (data {stats["data_time"]:.3f} s)'
        ])
        if 'memory' in stats:
            rows.append([
                f'{what}: peak GPU memory',
                f'{stats["memory"]:.0f} MiB'
            ])

    bench_log = osp.join(out_dir, 'benchmark_train.log')
    bench = table_rows(read_text(bench_log), ('dense', 'chunked'), 4)
    what = (f'`benchmark_train.py`, batch {batch}, mmhvc (chunked loss) / '
            'dense reference')
    if set(bench) != {'dense', 'chunked'}:
        rows.append([what, NO_RESULT.format(bench_log)])
    else:
        ours, dense = bench['chunked'], bench['dense']
        rows += [
            [f'{what}: training step, median time',
             pair(ours[0], dense[0], '.1f', 'ms')],
            [f'{what}: training step, peak memory',
             pair(ours[1], dense[1], '.0f', 'MiB')],
            [f'{what}: loss forward + backward, median time',
             pair(ours[2], dense[2], '.1f', 'ms')],
            [f'{what}: loss forward + backward, peak memory',
             pair(ours[3], dense[3], '.0f', 'MiB')],
        ]
    return rows + propagation_rows(out_dir)


def propagation_rows(out_dir: str) -> List[List[str]]:
    """The rows of the propagation benchmark in each precision, and the
    backend that ``backend='auto'`` should pick."""
    rows, picks = [], []
    for key, precision in PRECISIONS:
        log = osp.join(out_dir, f'benchmark_propagation_{key}.log')
        text = read_text(log)
        prop = table_rows(text, ('dense', 'windowed'), 7, prefix=('all', ))
        what = f'`benchmark_propagation.py`, {precision}, windowed / dense'
        if set(prop) != {'dense', 'windowed'}:
            rows.append([what, NO_RESULT.format(log)])
            continue
        ours, dense = prop['windowed'], prop['dense']
        rows += [
            [f'{what}: steady state, time per frame',
             pair(ours[1], dense[1], '.4g', 's')],
            [f'{what}: whole video, time per frame',
             pair(ours[3], dense[3], '.4g', 's')],
            [f'{what}: peak memory', pair(ours[5], dense[5], '.0f', 'MiB')],
            [f'{what}: peak memory above the start of the pass',
             pair(ours[6], dense[6], '.0f', 'MiB')],
        ]
        for label, pattern in (
                ('windowed time at the products-only floor',
                 r'windowed at (\S+) of the floor'),
                ('argmax agreement', r'argmax agreement over \d+ frames: '
                 r'(\S+);')):
            found = re.search(pattern, text)
            if found:
                rows.append([f'{what}: {label}', found.group(1)])
        if text.startswith('grid'):
            rows.append([f'{what}: settings',
                         '; '.join(text.splitlines()[:2])])
        faster = 'windowed' if ours[1] < dense[1] else 'dense'
        picks.append((faster, precision))
    if picks:
        agree = len(picks) == len(PRECISIONS) and len(set(
            faster for faster, _ in picks)) == 1
        rows.append([
            "`backend='auto'` should pick (faster in the steady state)",
            picks[0][0] if agree else ', '.join(
                f'{faster} in {precision}' for faster, precision in picks)
        ])
    return rows


def markdown_table(header: Sequence[str],
                   rows: Sequence[Sequence[str]]) -> str:
    escaped = [[cell.replace('|', '\\|') for cell in row] for row in rows]
    lines = ['| ' + ' | '.join(header) + ' |',
             '| ' + ' | '.join('---' for _ in header) + ' |']
    lines += ['| ' + ' | '.join(row) + ' |' for row in escaped]
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    gpu = args.gpu or gpu_name()
    print(markdown_table([f'measurement ({gpu})', 'value'],
                         check_rows(args.out_dir, args.config,
                                    args.batch_size)))


if __name__ == '__main__':
    main()
