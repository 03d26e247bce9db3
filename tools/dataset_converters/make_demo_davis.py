"""Generate a small synthetic video object segmentation dataset.

The command line of :mod:`mmhvc.datasets.synthetic`: textured shapes that
cross, rotate and occlude each other over a panning background, with exact
masks; the same arguments give byte-identical files.

``--layout davis`` writes the DAVIS layout (JPEGImages/480p,
Annotations/480p with every frame annotated, ImageSets/2016 and 2017);
``--layout ytvos`` the YouTube-VOS layout (valid/ with masks where objects
first appear and meta.json, train/ with every frame annotated).
``--train-images N`` also writes N static textured images (no masks) to
``train_images/`` for label-free training.

Example::

    python tools/dataset_converters/make_demo_davis.py data/demo_davis \
        --num-seqs 4 --size 96x160 --train-images 200
"""
import argparse
from typing import Optional, Sequence, Tuple

from mmengine.utils import ProgressBar

from mmhvc.datasets.synthetic import (Options, write_davis,
                                      write_train_images, write_ytvos)


def _size(text: str) -> Tuple[int, int]:
    """Parse ``'HxW'`` into (H, W)."""
    try:
        height, width = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'size must be HEIGHTxWIDTH, e.g. 96x160, got "{text}"')
    if min(height, width) < 32:
        raise argparse.ArgumentTypeError(
            f'size must be at least 32x32, got "{text}"')
    return height, width


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate a synthetic video object segmentation '
        'dataset in the DAVIS or YouTube-VOS layout')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument(
        '--layout',
        choices=('davis', 'ytvos'),
        default='davis',
        help='folder layout of DAVIS or of YouTube-VOS')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of every random choice')
    parser.add_argument(
        '--num-seqs', type=int, default=4, help='validation sequences')
    parser.add_argument(
        '--num-train-seqs', type=int, default=2,
        help='annotated training sequences')
    parser.add_argument(
        '--frames', type=int, nargs=2, default=(16, 24),
        metavar=('MIN', 'MAX'), help='frames per sequence')
    parser.add_argument(
        '--objects', type=int, nargs=2, default=(2, 3),
        metavar=('MIN', 'MAX'), help='objects per sequence')
    parser.add_argument(
        '--size', type=_size, default=(96, 160), help='frame size HxW')
    parser.add_argument(
        '--train-images', type=int, default=0,
        help='static images to write to <out_dir>/train_images')
    parser.add_argument(
        '--train-size', type=_size, default=None,
        help='size HxW of the static images (default: --size)')
    parser.add_argument(
        '--overwrite', action='store_true',
        help='replace sequences and images left by an earlier run')
    args = parser.parse_args(argv)
    if args.frames[0] < 5 or args.frames[0] > args.frames[1]:
        parser.error('--frames needs 5 <= MIN <= MAX')
    if not 1 <= args.objects[0] <= args.objects[1] <= 254:
        parser.error('--objects needs 1 <= MIN <= MAX <= 254')
    if min(args.num_seqs, args.num_train_seqs, args.train_images) < 0:
        parser.error('counts must not be negative')
    return args


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    opts = Options(
        seed=args.seed,
        size=args.size,
        frames=tuple(args.frames),
        objects=tuple(args.objects),
        overwrite=args.overwrite)
    total = args.num_seqs + args.num_train_seqs + args.train_images
    progress = ProgressBar(total)
    writer = write_davis if args.layout == 'davis' else write_ytvos
    writer(args.out_dir, opts, args.num_seqs, args.num_train_seqs, progress)
    write_train_images(args.out_dir, opts, args.train_images,
                       args.train_size or args.size, progress)
    print(f'\n{args.layout} layout demo data written to {args.out_dir}')


if __name__ == '__main__':
    main()
