"""Propagate the mask of one frame through a video and write the results.

Example::

    python demo/video_demo.py data/demo_davis/JPEGImages/480p/demo00 \
        data/demo_davis/Annotations/480p/demo00/00000.png \
        configs/propagation/demo_davis_r18.py work_dirs/demo/train/iter_240.pth \
        --out work_dirs/video_demo

Writes ``OUT/masks/<frame>.png`` (indexed PNGs, the mask's own palette or
the DAVIS palette) and ``OUT/overlay.mp4``. ``--start-frame N`` says that
the mask is frame N's; ``--direction backward`` (or ``both``) propagates
toward frame 0 as well. Frames that no direction reaches get empty masks.
"""
import argparse
import os.path as osp
import time

import numpy as np
from mmengine.utils import ProgressBar

from mmhvc.apis import (DIRECTIONS, init_model, propagate_masks,
                        read_first_mask, read_video)
from mmhvc.datasets.palette import davis_palette, write_indexed_png
from mmhvc.fileio import write_video
from mmhvc.visualization import overlay_masks


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Propagate the mask of one frame through a video')
    parser.add_argument('video', help='a video file or a folder of frames')
    parser.add_argument(
        'mask', help='the mask (indexed PNG) of the start frame')
    parser.add_argument('config', help='a propagation config')
    parser.add_argument('checkpoint', help='an mmhvc checkpoint')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--resize-mask',
        action='store_true',
        help='resize a mask whose size differs from the video (nearest)')
    parser.add_argument(
        '--start-frame',
        type=int,
        default=0,
        help='index of the frame the mask belongs to (default 0)')
    parser.add_argument(
        '--direction',
        choices=DIRECTIONS,
        default='forward',
        help='propagate to the later frames, the earlier ones, or both')
    parser.add_argument('--device', default='cpu', help='e.g. cuda:0')
    parser.add_argument('--fps', type=int, default=10, help='overlay fps')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    frames, names = read_video(args.video)
    height, width = frames[0].shape[:2]
    mask, palette = read_first_mask(
        args.mask, size=(height, width) if args.resize_mask else None)
    if mask.shape != (height, width):
        raise SystemExit(
            f'error: the mask {args.mask} is {mask.shape[1]}x{mask.shape[0]} '
            f'(WxH) but the video is {width}x{height}; pass --resize-mask to '
            'resize it')
    if not 0 <= args.start_frame < len(frames):
        raise SystemExit(
            f'error: --start-frame {args.start_frame} is outside the video '
            f'{args.video} (frames 0-{len(frames) - 1})')
    palette = davis_palette() if palette is None else palette

    model = init_model(args.config, args.checkpoint, device=args.device)
    forward, backward = len(frames) - args.start_frame, args.start_frame + 1
    count = dict(
        forward=forward, backward=backward,
        both=forward + backward)[args.direction]
    progress = ProgressBar(count)
    started = time.perf_counter()
    masks = propagate_masks(
        model,
        frames, {args.start_frame: mask},
        args.direction,
        progress=lambda t: progress.update())
    seconds = time.perf_counter() - started
    print(f'\npropagated {count} frames in {seconds:.1f} s: '
          f'{count / seconds:.2f} frames/s (encoding included)')

    overlays = []
    for frame, name, pred in zip(frames, names, masks):
        write_indexed_png(
            osp.join(args.out, 'masks', f'{name}.png'), pred, palette)
        overlays.append(
            overlay_masks(
                np.ascontiguousarray(frame[..., ::-1]), pred,
                np.asarray(palette)))
    write_video(overlays, osp.join(args.out, 'overlay.mp4'), args.fps)
    print(f'{len(frames)} masks written to {osp.join(args.out, "masks")}, '
          f'overlay video {osp.join(args.out, "overlay.mp4")}')


if __name__ == '__main__':
    main()
