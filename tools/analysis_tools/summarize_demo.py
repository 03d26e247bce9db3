"""The closing table of ``tools/run_demo.sh``.

Reads what the demo's steps left in its work dir and prints one markdown
table: the J&F, J and F of the randomly initialised and of the trained
encoder, the gain, how long each step took and where its outputs are.

The work dir is laid out by ``tools/run_demo.sh``::

    WORK_DIR/
      logs/step_times.tsv        one "<step>\\t<seconds>" line per step
      logs/<step>.log            the complete output of each step
      train/<timestamp>/vis_data/vis_image/   training pictures
      test_random_init/<timestamp>/results/   masks and CSV files
      test_trained/<timestamp>/results/       masks and CSV files
      test_trained/<timestamp>/vis/           overlays (--show-dir vis)

The scores are read from the ``global_results*.csv`` file that
``DAVISMetric`` writes into each run's ``results`` folder (fractions with
three decimals, as in the official CSV files), so the table does not depend
on how the metric names are prefixed in the log. With several runs in one
test folder, the latest (by timestamp) that has a results file is used.

Example::

    python tools/analysis_tools/summarize_demo.py work_dirs/demo \\
        --out work_dirs/demo/summary.md
"""
import argparse
import csv
import glob
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

SCORES = ('J&F-Mean', 'J-Mean', 'F-Mean')

#: ``(step name in step_times.tsv, label in the table)``, in the order the
#: demo runs them.
STEPS = (
    ('data', 'generate the demo data'),
    ('train', 'train HVC'),
    ('test_random_init', 'evaluate: random initialisation'),
    ('test_trained', 'evaluate: trained encoder'),
)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Summarise a run of tools/run_demo.sh in one table')
    parser.add_argument('work_dir', help='the work dir of the demo')
    parser.add_argument(
        '--train-label',
        default='HVC, trained',
        help='name of the trained encoder in the table')
    parser.add_argument('--out', help='also write the table to this file')
    return parser.parse_args(argv)


def read_step_times(path: str) -> Dict[str, float]:
    """Seconds per step from ``<step>\\t<seconds>`` lines; {} if absent."""
    if not osp.isfile(path):
        return {}
    times = {}
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            fields = line.rstrip('\n').split('\t')
            try:
                times[fields[0]] = float(fields[1])
            except (IndexError, ValueError):
                raise ValueError(
                    f'{path}:{number}: expected "<step>\\t<seconds>", got '
                    f'{line.rstrip()!r}') from None
    return times


def latest_run(folder: str, required: str) -> str:
    """The latest ``<timestamp>`` folder of ``folder`` that holds a file
    matching the glob pattern ``required`` (relative to the run folder)."""
    runs = sorted(
        path for path in glob.glob(osp.join(folder, '*'))
        if osp.isdir(path) and glob.glob(osp.join(path, required)))
    if not runs:
        raise FileNotFoundError(
            f'no run folder in {folder} has {required}; did this step of '
            'the demo finish?')
    return runs[-1]


def read_global_scores(results_dir: str) -> Dict[str, str]:
    """``J&F-Mean``, ``J-Mean`` and ``F-Mean`` as written in the global
    results CSV of a DAVIS evaluation (strings, e.g. ``'0.480'``)."""
    files = sorted(glob.glob(osp.join(results_dir, 'global_results*.csv')))
    if len(files) != 1:
        raise FileNotFoundError(
            f'expected one global_results*.csv in {results_dir}, found '
            f'{len(files)}')
    with open(files[0], newline='', encoding='utf-8') as f:
        rows = list(csv.reader(f))
    if len(rows) != 2:
        raise ValueError(f'{files[0]}: expected a header and one row of '
                         f'scores, got {len(rows)} rows')
    header, values = rows
    missing = [name for name in SCORES if name not in header]
    if missing:
        raise KeyError(f'{files[0]}: no column {missing} in {header}')
    return {name: values[header.index(name)] for name in SCORES}


def format_seconds(seconds: Optional[float]) -> str:
    if seconds is None:
        return ''
    if seconds < 60:
        return f'{seconds:.0f} s'
    return f'{int(seconds // 60)} min {seconds % 60:02.0f} s'


def gain(trained: str, random: str) -> str:
    """Difference of two scores written with three decimals."""
    return f'{float(trained) - float(random):+.3f}'


def summary_rows(work_dir: str, train_label: str) -> List[List[str]]:
    """The rows of the table, header first."""
    times = read_step_times(osp.join(work_dir, 'logs', 'step_times.tsv'))
    random_run = latest_run(
        osp.join(work_dir, 'test_random_init'), 'results/global_results*.csv')
    trained_run = latest_run(
        osp.join(work_dir, 'test_trained'), 'results/global_results*.csv')
    random = read_global_scores(osp.join(random_run, 'results'))
    trained = read_global_scores(osp.join(trained_run, 'results'))

    outputs = {
        'data': 'data/demo_davis',
        'test_random_init': f'masks: {osp.join(random_run, "results")}',
        'test_trained': f'masks: {osp.join(trained_run, "results")}',
    }
    train_dir = osp.join(work_dir, 'train')
    if osp.isdir(train_dir):
        try:
            train_run = latest_run(train_dir, 'vis_data/vis_image/*.png')
            outputs['train'] = ('training pictures: ' +
                                osp.join(train_run, 'vis_data', 'vis_image'))
        except FileNotFoundError:
            outputs['train'] = f'checkpoints: {train_dir}'
    overlays = osp.join(trained_run, 'vis')
    if osp.isdir(overlays):
        outputs['test_trained'] += f'; overlays: {overlays}'

    empty = ['', '', '']
    scores = {
        'test_random_init': [random[name] for name in SCORES],
        'test_trained': [trained[name] for name in SCORES],
    }
    labels = dict(STEPS)
    labels['test_trained'] = f'evaluate: {train_label}'
    rows = [['step', 'time'] + list(SCORES) + ['output']]
    for step, _ in STEPS:
        if step == 'data' and step not in times:
            continue  # the data were there before this run
        rows.append([labels[step], format_seconds(times.get(step))] +
                    scores.get(step, empty) + [outputs.get(step, '')])
    rows.append(['gain (trained - random initialisation)', ''] +
                [gain(trained[name], random[name])
                 for name in SCORES] + [''])
    return rows


def markdown_table(rows: Sequence[Sequence[str]]) -> str:
    """A markdown table with the columns padded to equal width."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(cells: Sequence[str]) -> str:
        return '| ' + ' | '.join(
            cell.ljust(width) for cell, width in zip(cells, widths)) + ' |'

    separator = '| ' + ' | '.join('-' * w for w in widths) + ' |'
    return '\n'.join([line(rows[0]), separator] +
                     [line(row) for row in rows[1:]])


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    try:
        table = markdown_table(summary_rows(args.work_dir, args.train_label))
    except (FileNotFoundError, KeyError, ValueError) as error:
        raise SystemExit(f'error: {error.args[0] if error.args else error}')
    print(table)
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w', encoding='utf-8') as f:
            f.write(table + '\n')


if __name__ == '__main__':
    main()
