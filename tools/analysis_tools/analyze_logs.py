"""Plot training curves and summarise iteration times of MMEngine json logs.

Reads the json-lines scalar logs of a run: ``<work_dir>/<timestamp>/vis_data/
scalars.json`` or ``<work_dir>/<timestamp>/vis_data/<timestamp>.json``.

Examples::

    python tools/analysis_tools/analyze_logs.py plot_curve \\
        work_dirs/demo/20240101_000000/vis_data/scalars.json \\
        --keys loss loss_spatial loss_temporal lr ema_momentum \\
        --out curves.png
    python tools/analysis_tools/analyze_logs.py plot_curve RUN_A.json \\
        RUN_B.json --keys loss --legend run_a run_b --out loss.png
    python tools/analysis_tools/analyze_logs.py cal_train_time \\
        work_dirs/demo/20240101_000000/vis_data/scalars.json
"""
import argparse
import datetime

from mmengine.utils import track_iter_progress

from mmhvc.fileio.train_log import load_scalar_log, train_time_stats
from mmhvc.visualization import plot_scalar_curves


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Analyse MMEngine json scalar logs')
    commands = parser.add_subparsers(dest='command', required=True)

    plot = commands.add_parser(
        'plot_curve', help='plot scalars over the iterations')
    plot.add_argument('logs', nargs='+', help='json scalar logs')
    plot.add_argument(
        '--keys',
        nargs='+',
        default=['loss'],
        help='scalars to plot, one panel each (e.g. loss loss_spatial '
        'loss_temporal lr ema_momentum)')
    plot.add_argument(
        '--legend', nargs='+', help='one label per log (default: the paths)')
    plot.add_argument('--title', help='figure title')
    plot.add_argument('--dpi', type=int, default=100)
    plot.add_argument('--out', required=True, help='output image file')

    timing = commands.add_parser(
        'cal_train_time', help='mean, spread and extremes of iteration times')
    timing.add_argument('logs', nargs='+', help='json scalar logs')
    timing.add_argument(
        '--include-outliers',
        action='store_true',
        help='keep the first logged window (start-up iterations)')
    args = parser.parse_args()
    if args.command == 'plot_curve' and args.legend is not None and \
            len(args.legend) != len(args.logs):
        parser.error(f'{len(args.logs)} logs but {len(args.legend)} legend '
                     'entries')
    return args


def plot_curve(args: argparse.Namespace) -> None:
    logs = [load_scalar_log(path) for path in track_iter_progress(args.logs)]
    plot_scalar_curves(
        logs,
        args.keys,
        args.out,
        legend=args.legend,
        title=args.title,
        sources=args.logs,
        dpi=args.dpi)
    print(f'\nwrote {args.out}')


def cal_train_time(args: argparse.Namespace) -> None:
    for path in args.logs:
        stats = train_time_stats(
            load_scalar_log(path), args.include_outliers, source=path)
        total = datetime.timedelta(seconds=round(stats.mean * stats.last_step))
        print(f'-----Analyse train time of {path}-----')
        print(f'training records used: {stats.num_records}')
        print(f'slowest window: iteration {stats.slowest[0]}, '
              f'{stats.slowest[1]:.4f} s/iter')
        print(f'fastest window: iteration {stats.fastest[0]}, '
              f'{stats.fastest[1]:.4f} s/iter')
        print(f'time std over windows: {stats.std:.4f} s/iter')
        print(f'average iter time: {stats.mean:.4f} s/iter')
        if stats.data_time is not None:
            print(f'average data time: {stats.data_time:.4f} s/iter')
        print(f'{stats.last_step} iterations at that rate: {total}')


def main() -> None:
    args = parse_args()
    if args.command == 'plot_curve':
        plot_curve(args)
    else:
        cal_train_time(args)


if __name__ == '__main__':
    main()
