"""Show dense features as colours: their first three principal components.

For an image, a frame folder or a video, every model (one per checkpoint,
plus a randomly initialised one with ``--random-init``) gets a column: the
first three principal components of its features, as R, G and B. The axes
of each model are fitted once, on ``--fit-frames`` evenly spaced frames,
and applied to every frame, so the colours of a video are comparable over
time. The first column shows the input.

Output by extension: ``.png``/``.jpg`` (an image; for several frames, one
row per frame for ``--rows`` evenly spaced frames), ``.mp4`` or ``.gif``
(every frame). Several outputs may be given.

Examples::

    python tools/analysis_tools/vis_features.py \\
        configs/propagation/demo_davis_r18.py CKPT --input img.jpg \\
        --out pca.png
    python tools/analysis_tools/vis_features.py \\
        configs/propagation/demo_davis_r18.py CKPT_A CKPT_B --random-init \\
        --input data/demo_davis/JPEGImages/480p/demo00 \\
        --out pca.mp4 pca.gif pca.png
"""
import argparse
import os.path as osp
from typing import Dict, List, Sequence

import cv2
import numpy as np
import torch
from mmengine.config import DictAction
from mmengine.utils import ProgressBar

from mmhvc.apis import init_model
from mmhvc.fileio import count_frames, iter_frames, write_image, write_video
from mmhvc.visualization import (add_title, fit_feature_pca, hstack,
                                 pca_to_rgb, vstack)

IMAGE_OUTPUTS = ('.png', '.jpg', '.jpeg', '.bmp')
VIDEO_OUTPUTS = ('.mp4', '.gif')
INTERPOLATIONS = dict(nearest=cv2.INTER_NEAREST, bilinear=cv2.INTER_LINEAR)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='First three principal components of dense features')
    parser.add_argument('config', help='propagation config file path')
    parser.add_argument(
        'checkpoints',
        nargs='*',
        help='mmhvc training checkpoints or backbone-only files, one '
        'column each')
    parser.add_argument(
        '--input',
        required=True,
        help='an image, a folder of frames or a video file')
    parser.add_argument(
        '--out',
        nargs='+',
        required=True,
        help=f'output files ({", ".join(IMAGE_OUTPUTS + VIDEO_OUTPUTS)})')
    parser.add_argument(
        '--random-init',
        action='store_true',
        help='add a column for a randomly initialised model')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of --random-init')
    parser.add_argument(
        '--labels', nargs='+', help='column titles, one per model')
    parser.add_argument(
        '--max-frames', type=int, help='use at most the first N frames')
    parser.add_argument(
        '--fit-frames',
        type=int,
        default=8,
        help='frames (evenly spaced) the principal axes are fitted on')
    parser.add_argument(
        '--rows',
        type=int,
        default=4,
        help='frames shown in an image output of several frames')
    parser.add_argument(
        '--max-size',
        type=int,
        help='resize frames so that their longer side is at most this')
    parser.add_argument(
        '--interpolation',
        choices=sorted(INTERPOLATIONS),
        default='nearest',
        help='upsampling of the feature grid to the frame size')
    parser.add_argument('--fps', type=float, default=10., help='video fps')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config (key=value)')
    args = parser.parse_args()
    if not args.checkpoints and not args.random_init:
        parser.error('give at least one checkpoint or --random-init')
    for out in args.out:
        if osp.splitext(out)[1].lower() not in IMAGE_OUTPUTS + VIDEO_OUTPUTS:
            parser.error(f'unsupported output {out}: use '
                         f'{", ".join(IMAGE_OUTPUTS + VIDEO_OUTPUTS)}')
    num_models = len(args.checkpoints) + int(args.random_init)
    if args.labels is not None and len(args.labels) != num_models:
        parser.error(f'{num_models} models but {len(args.labels)} labels')
    if min(args.fit_frames, args.rows) < 1:
        parser.error('--fit-frames and --rows must be >= 1')
    return args


def evenly_spaced(total: int, count: int) -> List[int]:
    """At most ``count`` distinct indices spread over ``range(total)``."""
    count = min(count, total)
    if count == 1:
        return [0]
    return sorted({round(k * (total - 1) / (count - 1)) for k in range(count)})


def build_models(args: argparse.Namespace) -> List[torch.nn.Module]:
    models = [
        init_model(args.config, ckpt, args.device,
                               args.cfg_options) for ckpt in args.checkpoints
    ]
    if args.random_init:
        torch.manual_seed(args.seed)
        models.append(
            init_model(args.config, None, args.device,
                                   args.cfg_options))
    return models


def prepare(frame: np.ndarray, max_size: int) -> np.ndarray:
    """Shrink a BGR frame to a longer side of at most ``max_size``."""
    if max_size is None or max(frame.shape[:2]) <= max_size:
        return frame
    scale = max_size / max(frame.shape[:2])
    size = (max(1, round(frame.shape[1] * scale)),
            max(1, round(frame.shape[0] * scale)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def encode(model: torch.nn.Module, frame: np.ndarray,
           device: str) -> torch.Tensor:
    """``(C, h, w)`` features of a BGR ``(H, W, 3)`` frame."""
    tensor = torch.from_numpy(np.ascontiguousarray(frame.transpose(2, 0, 1)))
    return model.extract_feat(tensor.to(device)).cpu()


def compose(frame: np.ndarray, maps: Sequence[np.ndarray],
            labels: Sequence[str], interpolation: int) -> np.ndarray:
    """``[input | model 1 | model 2 ...]`` as one RGB image."""
    height, width = frame.shape[:2]
    panels = [add_title(np.ascontiguousarray(frame[..., ::-1]), 'input')]
    for cells, label in zip(maps, labels):
        panels.append(
            add_title(
                cv2.resize(
                    cells, (width, height), interpolation=interpolation),
                label))
    return hstack(panels)


def main() -> None:
    args = parse_args()
    total = count_frames(args.input)
    if args.max_frames is not None:
        total = min(total, args.max_frames)
    models = build_models(args)
    labels = args.labels or [osp.basename(c) for c in args.checkpoints
                             ] + (['random init'] if args.random_init else [])
    fit_ids = evenly_spaced(total, args.fit_frames)
    progress = ProgressBar(len(fit_ids) + total)

    # pass 1: fit each model's principal axes on a few frames
    fit_feats: Dict[int, List[torch.Tensor]] = {}
    for index, frame in zip(fit_ids, iter_frames(args.input, fit_ids)):
        frame = prepare(frame, args.max_size)
        fit_feats[index] = [encode(m, frame, args.device) for m in models]
        progress.update()
    pcas = [
        fit_feature_pca([fit_feats[i][k] for i in fit_ids])
        for k in range(len(models))
    ]

    # pass 2: colour every frame with the fitted axes
    composed = []
    for index, frame in zip(range(total), iter_frames(args.input)):
        frame = prepare(frame, args.max_size)
        feats = fit_feats.pop(
            index, None) or [encode(m, frame, args.device) for m in models]
        maps = [pca_to_rgb(f, pca) for f, pca in zip(feats, pcas)]
        composed.append(
            compose(frame, maps, labels, INTERPOLATIONS[args.interpolation]))
        progress.update()

    print()
    for out in args.out:
        if osp.splitext(out)[1].lower() in VIDEO_OUTPUTS:
            write_video(composed, out, args.fps)
        else:
            rows = evenly_spaced(len(composed), args.rows)
            image = composed[0] if len(rows) == 1 else vstack(
                [add_title(composed[i], f'frame {i}') for i in rows])
            write_image(image, out)
        print(f'wrote {out}')


if __name__ == '__main__':
    main()
