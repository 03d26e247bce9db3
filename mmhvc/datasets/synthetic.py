"""Small synthetic video object segmentation datasets, written in the
DAVIS or the YouTube-VOS layout, and static images for label-free training.

The scenes are those of :mod:`mmhvc.datasets.synthetic_scene`. The output
is deterministic: the same options give byte-identical files.

:func:`write_davis` writes the DAVIS layout (``JPEGImages/480p``,
``Annotations/480p`` with every frame annotated, ``ImageSets/2016`` and
``2017``). All objects of a DAVIS sequence are in its first frame, so in
every other validation sequence one object enters from outside the image
border, only partly visible at frame 0.

:func:`write_ytvos` writes the YouTube-VOS layout (``valid/JPEGImages``,
``valid/Annotations`` with masks only at the frames where objects first
appear, ``valid/meta.json``, and ``train/`` with every frame annotated).
Frame stems count in steps of five, as in the YouTube-VOS validation set. In
every other validation video one object is absent at first and enters at a
later frame.

:func:`write_train_images` writes static textured images (no masks) to
``train_images/``. :func:`write_demo_videos` writes the few short DAVIS
sequences of the demos. ``tools/dataset_converters/make_demo_davis.py`` is
the command line over these functions.
"""
import json
import os.path as osp
import shutil
from dataclasses import dataclass
from typing import List, Optional, Tuple

import cv2
import numpy as np
from mmengine.utils import ProgressBar

from mmhvc.fileio import atomic_write_bytes
from .palette import davis_palette, write_indexed_png
from .synthetic_scene import Track, render_image, render_sequence

# Random streams: each output item draws from its own generator, seeded by
# (seed, stream, index), so items do not depend on each other.
STREAM_VAL, STREAM_TRAIN, STREAM_IMAGES = 0, 1, 2
JPEG_QUALITY = 95
YTVOS_FRAME_STEP = 5


def write_jpeg(path: str, image: np.ndarray) -> None:
    """Encode an ``np.uint8`` ``(H, W, 3)`` image as JPEG (quality
    ``JPEG_QUALITY``) and write it atomically."""
    ok, encoded = cv2.imencode('.jpg', image,
                               [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError(f'JPEG encoding failed for {path}')
    atomic_write_bytes(path, encoded.tobytes())


def _clear(folder: str, overwrite: bool) -> None:
    """Remove a folder left by an earlier run (only with ``overwrite``)."""
    if osp.exists(folder):
        if not overwrite:
            raise FileExistsError(
                f'{folder} exists: set overwrite (--overwrite of '
                'make_demo_davis.py) to replace it')
        shutil.rmtree(folder)


@dataclass
class Options:
    """Sizes and counts of the generated data.

    Attributes:
        seed: Seed of every random choice.
        size: ``(H, W)`` of the frames.
        frames: ``(min, max)`` frames per sequence.
        objects: ``(min, max)`` objects per sequence.
        overwrite: Replace sequences and images left by an earlier run
            (otherwise an existing one raises ``FileExistsError``).
    """
    seed: int
    size: Tuple[int, int]
    frames: Tuple[int, int]
    objects: Tuple[int, int]
    overwrite: bool


def _sequence(
        opts: Options, stream: int, index: int, entering: Optional[str]
) -> Tuple[np.ndarray, np.ndarray, List[Track]]:
    """Draw sequence ``index`` of a random stream."""
    rng = np.random.default_rng([opts.seed, stream, index])
    num_frames = int(rng.integers(opts.frames[0], opts.frames[1] + 1))
    num_objects = int(rng.integers(opts.objects[0], opts.objects[1] + 1))
    if entering is not None:
        num_objects = max(num_objects, 2)
    return render_sequence(rng, opts.size, num_frames, num_objects, entering)


def write_davis(out_dir: str,
                opts: Options,
                num_val: int,
                num_train: int,
                progress: Optional[ProgressBar] = None) -> None:
    """Write sequences in the DAVIS layout (every frame annotated).

    Args:
        out_dir: The dataset root.
        opts: Sizes, counts and seed.
        num_val: Validation sequences ``demo00``, ``demo01``, ...
        num_train: Training sequences ``train00``, ...
        progress: Updated once per sequence; None for none.
    """
    palette = davis_palette()
    splits = dict(
        val=[f'demo{i:02d}' for i in range(num_val)],
        train=[f'train{i:02d}' for i in range(num_train)])
    for split, names in splits.items():
        stream = STREAM_VAL if split == 'val' else STREAM_TRAIN
        for index, name in enumerate(names):
            entering = 'border' if split == 'val' and index % 2 == 0 else None
            frames, labels, _ = _sequence(opts, stream, index, entering)
            frame_dir = osp.join(out_dir, 'JPEGImages', '480p', name)
            ann_dir = osp.join(out_dir, 'Annotations', '480p', name)
            _clear(frame_dir, opts.overwrite)
            _clear(ann_dir, opts.overwrite)
            for t in range(len(frames)):
                write_jpeg(osp.join(frame_dir, f'{t:05d}.jpg'), frames[t])
                write_indexed_png(
                    osp.join(ann_dir, f'{t:05d}.png'), labels[t], palette)
            _advance(progress)
        text = ''.join(name + '\n' for name in names).encode()
        for year in ('2016', '2017'):
            atomic_write_bytes(
                osp.join(out_dir, 'ImageSets', year, f'{split}.txt'), text)


def write_ytvos(out_dir: str,
                opts: Options,
                num_val: int,
                num_train: int,
                progress: Optional[ProgressBar] = None) -> None:
    """Write videos in the YouTube-VOS layout.

    valid/ gets masks only where objects first appear (holding only those
    objects); train/ gets every frame's mask.

    Args:
        out_dir: The dataset root.
        opts: Sizes, counts and seed.
        num_val: Videos ``valid000``, ``valid001``, ... of ``valid/``.
        num_train: Videos ``train000``, ... of ``train/``.
        progress: Updated once per video; None for none.
    """
    palette = davis_palette()
    for split, count in (('valid', num_val), ('train', num_train)):
        stream = STREAM_VAL if split == 'valid' else STREAM_TRAIN
        videos = {}
        for index in range(count):
            name = f'{split}{index:03d}'
            entering = 'late' if split == 'valid' and index % 2 == 0 else None
            frames, labels, tracks = _sequence(opts, stream, index, entering)
            stems = [f'{t * YTVOS_FRAME_STEP:05d}' for t in range(len(frames))]
            frame_dir = osp.join(out_dir, split, 'JPEGImages', name)
            ann_dir = osp.join(out_dir, split, 'Annotations', name)
            _clear(frame_dir, opts.overwrite)
            _clear(ann_dir, opts.overwrite)
            for stem, frame in zip(stems, frames):
                write_jpeg(osp.join(frame_dir, stem + '.jpg'), frame)
            objects = {}
            for track in tracks:
                visible = [
                    stems[t] for t in range(track.first_frame, len(frames))
                    if np.any(labels[t] == track.obj_id)
                ]
                objects[str(track.obj_id)] = dict(
                    category=track.shape.kind, frames=visible)
            videos[name] = dict(objects=objects)
            for t, stem in enumerate(stems):
                new_ids = [tr.obj_id for tr in tracks if tr.first_frame == t]
                if split == 'valid' and not new_ids:
                    continue
                label = labels[t]
                if split == 'valid':
                    label = np.where(np.isin(label, new_ids), label,
                                     0).astype(np.uint8)
                write_indexed_png(
                    osp.join(ann_dir, stem + '.png'), label, palette)
            _advance(progress)
        meta = json.dumps(dict(videos=videos), indent=2, sort_keys=True)
        atomic_write_bytes(
            osp.join(out_dir, split, 'meta.json'), meta.encode() + b'\n')


def write_train_images(out_dir: str,
                       opts: Options,
                       count: int,
                       size: Tuple[int, int],
                       progress: Optional[ProgressBar] = None) -> None:
    """Write ``count`` static images ``000000.jpg``, ... of ``size``
    ``(H, W)`` to ``<out_dir>/train_images`` (seed from ``opts``);
    ``progress`` is updated once per image."""
    if count == 0:
        return
    folder = osp.join(out_dir, 'train_images')
    _clear(folder, opts.overwrite)
    for index in range(count):
        rng = np.random.default_rng([opts.seed, STREAM_IMAGES, index])
        write_jpeg(
            osp.join(folder, f'{index:06d}.jpg'), render_image(rng, size))
        _advance(progress)


def write_demo_videos(root: str,
                      num_videos: int = 2,
                      size: Tuple[int, int] = (96, 160),
                      num_frames: int = 16,
                      seed: int = 0) -> List[str]:
    """Write a few short demo videos with their masks (DAVIS layout).

    The same files as ``make_demo_davis.py ROOT --num-seqs NUM_VIDEOS
    --num-train-seqs 0 --frames NUM_FRAMES NUM_FRAMES --objects 2 3 --size
    HxW --seed SEED --overwrite``: two or three objects per sequence,
    replacing sequences of the same names.

    Args:
        root: The dataset root (created).
        num_videos: Number of sequences.
        size: ``(H, W)`` of the frames.
        num_frames: Frames per sequence (at least 5).
        seed: Seed of every random choice.

    Returns:
        The sequence names ``demo00``, ``demo01``, ...; sequence ``name``
        has its frames in ``<root>/JPEGImages/480p/<name>`` and its masks
        in ``<root>/Annotations/480p/<name>``.
    """
    if num_videos < 1 or num_frames < 5:
        raise ValueError(f'write_demo_videos needs num_videos >= 1 and '
                         f'num_frames >= 5, got {num_videos} and '
                         f'{num_frames}')
    opts = Options(
        seed=seed,
        size=tuple(size),
        frames=(num_frames, num_frames),
        objects=(2, 3),
        overwrite=True)
    write_davis(root, opts, num_videos, 0)
    return [f'demo{i:02d}' for i in range(num_videos)]


def _advance(progress: Optional[ProgressBar]) -> None:
    """Count one written item on ``progress`` (None: nothing)."""
    if progress is not None:
        progress.update()
