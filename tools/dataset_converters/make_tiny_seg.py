"""Generate a tiny two-class segmentation dataset in mmseg's layout.

Each sample is a noisy background with one filled ellipse of a random colour;
the label map is 1 inside the ellipse and 0 elsewhere. Files::

    OUT/img_dir/{train,val}/<index>.png   uint8 BGR images
    OUT/ann_dir/{train,val}/<index>.png   uint8 label maps (0, 1)

which ``BaseSegDataset(img_suffix='.png', seg_map_suffix='.png')`` reads
(configs/seg/fcn_hvc-r18-d8_tiny_cpu.py). The same arguments give the same
files.

Example::

    python tools/dataset_converters/make_tiny_seg.py data/tiny_seg
"""
import argparse
import os
import os.path as osp
from typing import List, Optional, Tuple

import cv2
import numpy as np


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate a tiny segmentation dataset (mmseg layout)')
    parser.add_argument('out_dir', help='output dataset root')
    parser.add_argument(
        '--size', type=int, default=64, help='image side in pixels')
    parser.add_argument(
        '--num-train', type=int, default=4, help='training samples')
    parser.add_argument(
        '--num-val', type=int, default=2, help='validation samples')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    args = parser.parse_args(argv)
    if args.size < 8:
        parser.error(f'--size must be >= 8, got {args.size}')
    if args.num_train < 1 or args.num_val < 1:
        parser.error('--num-train and --num-val must be >= 1')
    return args


def make_sample(rng: np.random.Generator,
                size: int) -> Tuple[np.ndarray, np.ndarray]:
    """One (size, size, 3) uint8 image and its (size, size) uint8 labels."""
    image = rng.integers(0, 96, (size, size, 3), dtype=np.uint8)
    labels = np.zeros((size, size), dtype=np.uint8)
    center = tuple(int(c) for c in rng.integers(size // 4, 3 * size // 4, 2))
    axes = tuple(int(a) for a in rng.integers(size // 8, size // 3, 2))
    angle = float(rng.uniform(0, 180))
    cv2.ellipse(labels, center, axes, angle, 0, 360, 1, thickness=-1)
    colour = rng.integers(128, 256, 3, dtype=np.uint8)
    image[labels == 1] = colour
    return image, labels


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    rng = np.random.default_rng(args.seed)
    for split, count in (('train', args.num_train), ('val', args.num_val)):
        img_dir = osp.join(args.out_dir, 'img_dir', split)
        ann_dir = osp.join(args.out_dir, 'ann_dir', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for index in range(count):
            image, labels = make_sample(rng, args.size)
            name = f'{index:04d}.png'
            cv2.imwrite(osp.join(img_dir, name), image)
            cv2.imwrite(osp.join(ann_dir, name), labels)
    print(f'wrote {args.num_train} train and {args.num_val} val samples of '
          f'{args.size}x{args.size} to {args.out_dir}')


if __name__ == '__main__':
    main()
