"""Time of one crop pair of ``RandomResizedCropPair``, OpenCV vs. Pillow.

Loads every image of a folder (BGR uint8, as ``LoadImageWithCheck`` gives
them) and times the transform with each resize backend on the same crop
boxes: before every timed pass over the images NumPy's generator is seeded
alike for both backends, and the backends take turns pass by pass so that
load from other processes affects them alike. One call cuts and resizes the
two views of one image, so the reported time is per pair; it includes the
crop sampling, which both backends share. OpenCV runs single-threaded, as in
the data loader workers of the training configs
(``env_cfg.mp_cfg.opencv_num_threads=0``).

Example::

    python tools/analysis_tools/benchmark_crop_resize.py \\
        /work/shared/data/real/images --size 256 --passes 20
"""
import argparse
import os.path as osp
import statistics
import time
from typing import Dict, List

import cv2
import mmcv
import numpy as np
from mmengine import fileio

from mmhvc.datasets.transforms import RandomResizedCropPair

BACKENDS = ('cv2', 'pillow')
EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Milliseconds per crop pair of RandomResizedCropPair '
        'with the OpenCV and the Pillow resize backends')
    parser.add_argument('image_dir', help='folder of images (not recursive)')
    parser.add_argument(
        '--size', type=int, default=256, help='output view size S (S x S)')
    parser.add_argument(
        '--passes',
        type=int,
        default=20,
        help='timed passes over all images per backend')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def load_images(image_dir: str) -> Dict[str, np.ndarray]:
    """Every image of ``image_dir`` as (H, W, 3) BGR uint8, by file name."""
    if not osp.isdir(image_dir):
        raise FileNotFoundError(f'Image folder {image_dir!r} does not exist')
    names = sorted(
        name for name in fileio.list_dir_or_file(image_dir, list_dir=False)
        if osp.splitext(name)[1].lower() in EXTENSIONS)
    if not names:
        raise FileNotFoundError(f'No images {EXTENSIONS} in {image_dir!r}')
    return {
        name: mmcv.imread(osp.join(image_dir, name), flag='color')
        for name in names
    }


def pass_time(transform: RandomResizedCropPair, images: List[np.ndarray],
              seed: int) -> float:
    """Seconds for one crop pair of every image, crops drawn from ``seed``."""
    np.random.seed(seed)
    start = time.perf_counter()
    for img in images:
        transform(dict(img=img))
    return time.perf_counter() - start


def main() -> None:
    args = parse_args()
    cv2.setNumThreads(0)
    images = load_images(args.image_dir)
    shapes = np.array([img.shape[:2] for img in images.values()])
    print(f'{len(images)} images from {args.image_dir}, height '
          f'{shapes[:, 0].min()}-{shapes[:, 0].max()}, width '
          f'{shapes[:, 1].min()}-{shapes[:, 1].max()} pixels; '
          f'{args.size}x{args.size} views')
    transforms = {
        backend: RandomResizedCropPair(size=args.size, backend=backend)
        for backend in BACKENDS
    }
    batch = list(images.values())
    for i in range(args.warmup):
        for transform in transforms.values():
            pass_time(transform, batch, args.seed + i)
    times: Dict[str, List[float]] = {backend: [] for backend in BACKENDS}
    for i in range(args.passes):
        for backend, transform in transforms.items():
            times[backend].append(
                pass_time(transform, batch, args.seed + args.warmup + i))
    per_pair = {
        backend: 1e3 * statistics.median(t) / len(batch)
        for backend, t in times.items()
    }
    print('| backend | ms per pair (median over passes) |')
    print('| --- | --- |')
    for backend in BACKENDS:
        print(f'| {backend} | {per_pair[backend]:.2f} |')
    print(f'pillow / cv2: {per_pair["pillow"] / per_pair["cv2"]:.2f}')


if __name__ == '__main__':
    main()
