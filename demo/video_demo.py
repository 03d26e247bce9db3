"""Propagate a first-frame mask through a video and write the results.

Example::

    python demo/video_demo.py data/demo_davis/JPEGImages/480p/demo00 \
        data/demo_davis/Annotations/480p/demo00/00000.png \
        configs/propagation/demo_davis_r18.py work_dirs/demo/train/iter_240.pth \
        --out work_dirs/video_demo

Writes ``OUT/masks/<frame>.png`` (indexed PNGs, the mask's own palette or
the DAVIS palette) and ``OUT/overlay.mp4``.
"""
import argparse
import os.path as osp

import numpy as np

from mmhvc.apis import init_model, propagate_mask, read_first_mask, read_video
from mmhvc.datasets.palette import davis_palette, write_indexed_png
from mmhvc.fileio import write_video
from mmhvc.visualization import overlay_masks


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Propagate a first-frame mask through a video')
    parser.add_argument('video', help='a video file or a folder of frames')
    parser.add_argument('mask', help='the first frame\'s mask (indexed PNG)')
    parser.add_argument('config', help='a propagation config')
    parser.add_argument('checkpoint', help='an mmhvc checkpoint')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--resize-mask',
        action='store_true',
        help='resize a mask whose size differs from the video (nearest)')
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
    palette = davis_palette() if palette is None else palette

    model = init_model(args.config, args.checkpoint, device=args.device)
    model.show_progress = True
    masks = propagate_mask(model, frames, mask)
    print(model.speed_summary())

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
