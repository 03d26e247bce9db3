"""Draw where query points of one frame go in another frame.

For each query point of frame A, the heat map over frame B is the softmax,
over all positions of B, of the feature dot products divided by the
temperature of the config's propagator; the best match (its maximum) is
marked. The two frames are two images, or two frames of a video (a frame
folder or a video file).

Examples::

    python tools/analysis_tools/vis_correspondence.py \\
        configs/propagation/demo_davis_r18.py CKPT a.jpg b.jpg \\
        --points 40,30 100,60 --out corr.png
    python tools/analysis_tools/vis_correspondence.py \\
        configs/propagation/demo_davis_r18.py CKPT \\
        --video data/demo_davis/JPEGImages/480p/demo00 --frames 0 10 \\
        --points 40,30 100,60 --out corr.png
"""
import argparse
from typing import List, Tuple

import cv2
import numpy as np
import torch
from mmengine.config import DictAction

from mmhvc.apis import init_model
from mmhvc.fileio import iter_frames, read_image, write_image
from mmhvc.visualization import (draw_affinity_heatmaps, pixels_to_cells,
                                 query_heatmaps)


def parse_point(text: str) -> Tuple[float, float]:
    """``'x,y'`` -> ``(x, y)`` pixel coordinates."""
    parts = text.split(',')
    try:
        if len(parts) != 2:
            raise ValueError
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'a point is "x,y" in pixels of frame A, got "{text}"')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Affinity heat maps of query points between two frames')
    parser.add_argument('config', help='propagation config file path')
    parser.add_argument(
        'checkpoint',
        help='an mmhvc training checkpoint or a backbone-only file')
    parser.add_argument(
        'images', nargs='*', help='frame A and frame B (two image files)')
    parser.add_argument(
        '--video', help='frame folder or video file to take A and B from')
    parser.add_argument(
        '--frames',
        nargs=2,
        type=int,
        metavar=('I', 'J'),
        help='with --video: indices of frame A and frame B')
    parser.add_argument(
        '--points',
        nargs='+',
        type=parse_point,
        required=True,
        help='query points x,y in pixels of frame A (before --max-size)')
    parser.add_argument('--out', required=True, help='output image file')
    parser.add_argument(
        '--temperature',
        type=float,
        help='softmax temperature; default: the propagator\'s')
    parser.add_argument(
        '--max-size',
        type=int,
        help='resize both frames so that their longer side is at most this')
    parser.add_argument(
        '--alpha', type=float, default=0.6, help='heat map opacity')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config (key=value)')
    args = parser.parse_args()
    if args.video is None:
        if len(args.images) != 2 or args.frames is not None:
            parser.error('give two images IMG_A IMG_B, or --video with '
                         '--frames I J')
    elif args.images or args.frames is None:
        parser.error('--video takes --frames I J and no image arguments')
    return args


def load_frames(args: argparse.Namespace) -> List[np.ndarray]:
    """Frames A and B, BGR."""
    if args.video is None:
        return [read_image(path) for path in args.images]
    wanted = sorted(set(args.frames))
    frames = dict(zip(wanted, iter_frames(args.video, wanted)))
    return [frames[i] for i in args.frames]


def limit_size(image: np.ndarray, max_size: int) -> Tuple[np.ndarray, float]:
    """Shrink ``image`` to a longer side of at most ``max_size``; return it
    and the scale factor."""
    scale = min(1., max_size / max(image.shape[:2]))
    if scale == 1.:
        return image, 1.
    size = (max(1, round(image.shape[1] * scale)),
            max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def main() -> None:
    args = parse_args()
    frames = load_frames(args)
    points = torch.tensor(args.points, dtype=torch.float64)
    # validate the points against frame A before any resizing
    pixels_to_cells(points, frames[0].shape[:2], (1, 1))
    if args.max_size is not None:
        frame_a, scale = limit_size(frames[0], args.max_size)
        frames = [frame_a, limit_size(frames[1], args.max_size)[0]]
        points = points * scale
    model = init_model(args.config, args.checkpoint, args.device,
                       args.cfg_options)
    temperature = (
        model.propagator.temperature
        if args.temperature is None else args.temperature)
    frames = [np.ascontiguousarray(frame[..., ::-1]) for frame in frames]
    heatmaps = query_heatmaps(model, frames[0], frames[1], points,
                              temperature).cpu()
    canvas = draw_affinity_heatmaps(
        frames[0], frames[1], points, heatmaps, alpha=args.alpha)
    write_image(canvas, args.out)
    print(f'\nwrote {args.out} ({len(points)} query points, temperature '
          f'{temperature:g}, feature grid {tuple(heatmaps.shape[1:])})')


if __name__ == '__main__':
    main()
