"""Generate a small synthetic video object segmentation dataset.

Textured shapes (ellipses, regular polygons, smooth blobs) move over a
panning textured background: they translate along paths that cross, grow or
shrink, rotate and occlude each other in a fixed depth order. Images and
label maps come from the same geometry, so the masks are exact. The output
is deterministic: the same arguments give byte-identical files.

``--layout davis`` writes the DAVIS layout (JPEGImages/480p,
Annotations/480p with every frame annotated, ImageSets/2016 and 2017). All
objects of a DAVIS sequence are in its first frame, so in every other
validation sequence one object enters from outside the image border, only
partly visible at frame 0.

``--layout ytvos`` writes the YouTube-VOS layout (valid/JPEGImages,
valid/Annotations with masks only at the frames where objects first appear,
valid/meta.json, and train/ with every frame annotated). Frame stems count
in steps of five, as in the YouTube-VOS validation set. In every other
validation video one object is absent at first and enters at a later frame.

``--train-images N`` also writes N static textured images (no masks) to
``train_images/`` for label-free training.

Example::

    python tools/dataset_converters/make_demo_davis.py data/demo_davis \
        --num-seqs 4 --size 96x160 --train-images 200
"""
import argparse
import json
import os.path as osp
import shutil
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.utils import ProgressBar

from mmhvc.datasets.palette import davis_palette, write_indexed_png
from mmhvc.fileio import atomic_write_bytes

# Random streams: each output item draws from its own generator, seeded by
# (seed, stream, index), so items do not depend on each other.
STREAM_VAL, STREAM_TRAIN, STREAM_IMAGES = 0, 1, 2
MAX_ATTEMPTS = 200
JPEG_QUALITY = 95
YTVOS_FRAME_STEP = 5


@dataclass
class Texture:
    """A colour pattern over 2-D coordinates in pixels.

    ``kind`` is ``'noise'`` (a periodic grid of random colours of cell size
    ``period``, bilinearly interpolated), ``'stripes'`` (two colours,
    stripes ``period`` pixels wide at ``angle`` radians) or ``'checker'``
    (two colours, squares of side ``period``).
    """
    kind: str
    colours: np.ndarray
    period: float
    angle: float

    @classmethod
    def random(cls, rng: np.random.Generator, low: int,
               high: int) -> 'Texture':
        """Sample a texture whose colour channels lie in [low, high]."""
        kind = ('noise', 'stripes', 'checker')[rng.integers(3)]
        grid = 6 if kind == 'noise' else 1
        shape = (grid, grid, 3) if kind == 'noise' else (2, 3)
        return cls(
            kind=kind,
            colours=rng.uniform(low, high, size=shape),
            period=float(rng.uniform(3.0, 9.0)),
            angle=float(rng.uniform(0, np.pi)))

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Colours (N, 3) float at the N points (x, y)."""
        if self.kind == 'stripes':
            phase = (x * np.cos(self.angle) + y * np.sin(self.angle))
            first = np.floor(phase / self.period) % 2 == 0
            return np.where(first[:, None], self.colours[0], self.colours[1])
        if self.kind == 'checker':
            first = (np.floor(x / self.period) +
                     np.floor(y / self.period)) % 2 == 0
            return np.where(first[:, None], self.colours[0], self.colours[1])
        grid = self.colours.shape[0]
        gx, gy = x / self.period, y / self.period
        x0, y0 = np.floor(gx), np.floor(gy)
        fx, fy = (gx - x0)[:, None], (gy - y0)[:, None]
        x0, y0 = x0.astype(np.int64) % grid, y0.astype(np.int64) % grid
        x1, y1 = (x0 + 1) % grid, (y0 + 1) % grid
        c = self.colours
        top = c[y0, x0] * (1 - fx) + c[y0, x1] * fx
        bottom = c[y1, x0] * (1 - fx) + c[y1, x1] * fx
        return top * (1 - fy) + bottom * fy


@dataclass
class Shape:
    """A closed shape in unit coordinates (it fits in a disc of radius 1.2).

    ``kind`` is ``'ellipse'`` (semi-axes 1 and ``params[0]``),
    ``'polygon'`` (regular, ``params[0]`` vertices, circumradius 1) or
    ``'blob'`` (radius ``0.8 + sum_k a_k cos(k phi + p_k)``, k = 2, 3, 4,
    with ``params = (a_2, a_3, a_4, p_2, p_3, p_4)``).
    """
    kind: str
    params: Tuple[float, ...]

    @classmethod
    def random(cls, rng: np.random.Generator) -> 'Shape':
        kind = ('ellipse', 'polygon', 'blob')[rng.integers(3)]
        if kind == 'ellipse':
            params = (float(rng.uniform(0.5, 0.9)), )
        elif kind == 'polygon':
            params = (float(rng.integers(3, 7)), )
        else:
            params = tuple(rng.uniform(-0.12, 0.12, 3)) + tuple(
                rng.uniform(0, 2 * np.pi, 3))
        return cls(kind, tuple(float(p) for p in params))

    def contains(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Whether the points (u, v) in unit coordinates are inside."""
        if self.kind == 'ellipse':
            return u**2 + (v / self.params[0])**2 <= 1
        rho, phi = np.hypot(u, v), np.arctan2(v, u)
        if self.kind == 'polygon':
            sector = 2 * np.pi / self.params[0]
            offset = np.mod(phi, sector) - sector / 2
            return rho * np.cos(offset) <= np.cos(sector / 2)
        amplitudes, phases = self.params[:3], self.params[3:]
        radius = 0.8 + sum(
            a * np.cos(k * phi + p)
            for k, a, p in zip((2, 3, 4), amplitudes, phases))
        return rho <= radius


@dataclass
class Track:
    """An object moving through a sequence.

    The centre goes linearly from ``start`` to ``end`` (pixels, x right and y
    down) plus a sinusoidal wobble across the path; the radius scales
    linearly from ``radius * scales[0]`` to ``radius * scales[1]``; the
    angle is ``angle + spin * t`` radians. The object is drawn from frame
    ``first_frame`` on. Texture coordinates move with the object.
    """
    obj_id: int
    shape: Shape
    texture: Texture
    radius: float
    start: np.ndarray
    end: np.ndarray
    scales: Tuple[float, float]
    angle: float
    spin: float
    wobble: Tuple[float, float, float]
    first_frame: int = 0

    def pose(self, t: int, num_frames: int) -> Tuple[float, float, float,
                                                     float]:
        """Centre x, centre y, radius (pixels) and angle at frame t."""
        a = t / max(num_frames - 1, 1)
        path = self.end - self.start
        normal = np.array([-path[1], path[0]]) / max(np.hypot(*path), 1e-6)
        amplitude, frequency, phase = self.wobble
        centre = self.start + a * path + normal * amplitude * np.sin(
            frequency * t + phase)
        scale = self.scales[0] + a * (self.scales[1] - self.scales[0])
        return (float(centre[0]), float(centre[1]), self.radius * scale,
                self.angle + self.spin * t)


@dataclass
class Scene:
    """A background, its pan velocity (pixels per frame) and the tracks
    in back-to-front order."""
    background: Texture
    pan: np.ndarray
    tracks: List[Track]
    size: Tuple[int, int]
    num_frames: int


def render_frame(scene: Scene,
                 t: int,
                 with_image: bool = True
                 ) -> Tuple[Optional[np.ndarray], np.ndarray, int]:
    """Draw frame t.

    Returns:
        tuple: the image (np.float64 (H, W, 3), or None without
        ``with_image``), the label map (np.uint8 (H, W), object ids, 0
        background) and the number of pixels where a nearer object covers
        another one.
    """
    height, width = scene.size
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    image = None
    if with_image:
        shift = scene.pan * t
        image = scene.background(
            (xs + shift[0]).ravel(),
            (ys + shift[1]).ravel()).reshape(height, width, 3)
    labels = np.zeros((height, width), dtype=np.uint8)
    occluded = 0
    for track in scene.tracks:
        if t < track.first_frame:
            continue
        cx, cy, radius, angle = track.pose(t, scene.num_frames)
        dx, dy = xs - cx, ys - cy
        cos, sin = np.cos(angle), np.sin(angle)
        u = (cos * dx + sin * dy) / radius
        v = (-sin * dx + cos * dy) / radius
        inside = track.shape.contains(u, v)
        occluded += int(np.count_nonzero(inside & (labels > 0)))
        labels[inside] = track.obj_id
        if with_image:
            image[inside] = track.texture(u[inside] * track.radius,
                                          v[inside] * track.radius)
    return image, labels, occluded


def sample_scene(rng: np.random.Generator, size: Tuple[int, int],
                 num_frames: int, num_objects: int,
                 entering: Optional[str]) -> Scene:
    """Sample a background and object tracks whose paths cross.

    Objects start on an ellipse around the image centre and head for the
    opposite side, so their paths meet near the middle. With ``entering``
    set to ``'border'`` the last object starts centred just outside the
    image border (partly visible); with ``'late'`` it starts entirely
    outside and comes in later.
    """
    height, width = size
    short = min(height, width)
    centre = np.array([(width - 1) / 2, (height - 1) / 2])
    half_axes = np.array([0.3 * width, 0.28 * height])
    angles = rng.uniform(0, 2 * np.pi) + np.arange(num_objects) * (
        2 * np.pi / num_objects) + rng.uniform(-0.4, 0.4, num_objects)
    tracks = []
    for i, phi in enumerate(angles):
        direction = np.array([np.cos(phi), np.sin(phi)])
        start = centre + half_axes * direction * rng.uniform(0.7, 1.0)
        end = centre - half_axes * direction * rng.uniform(0.4, 1.0)
        radius = short * rng.uniform(0.16, 0.26)
        if entering is not None and i == num_objects - 1:
            side = rng.integers(4)
            outside = {'border': 0.3, 'late': 1.6}[entering] * radius
            start = np.array([
                (-outside, rng.uniform(0.3, 0.7) * height),
                (width - 1 + outside, rng.uniform(0.3, 0.7) * height),
                (rng.uniform(0.3, 0.7) * width, -outside),
                (rng.uniform(0.3, 0.7) * width, height - 1 + outside),
            ][side])
            end = centre + rng.uniform(-0.15, 0.15, 2) * (width, height)
        tracks.append(
            Track(
                obj_id=i + 1,
                shape=Shape.random(rng),
                texture=Texture.random(rng, 60, 255),
                radius=float(radius),
                start=start,
                end=end,
                scales=(float(rng.uniform(0.8, 1.2)),
                        float(rng.uniform(0.8, 1.2))),
                angle=float(rng.uniform(0, 2 * np.pi)),
                spin=float(rng.uniform(-0.12, 0.12)),
                wobble=(float(rng.uniform(0, 0.05 * short)),
                        float(rng.uniform(0.2, 0.6)),
                        float(rng.uniform(0, 2 * np.pi)))))
    order = rng.permutation(num_objects)
    return Scene(
        background=Texture.random(rng, 20, 170),
        pan=rng.uniform(-1.5, 1.5, 2),
        tracks=[tracks[i] for i in order],
        size=size,
        num_frames=num_frames)


def _visible_counts(scene: Scene) -> Tuple[np.ndarray, int]:
    """Visible pixels per object id and frame, np.int64 (T, 256), and the
    number of occluded pixels over the sequence."""
    counts, occluded = [], 0
    for t in range(scene.num_frames):
        _, labels, occ = render_frame(scene, t, with_image=False)
        counts.append(np.bincount(labels.ravel(), minlength=256))
        occluded += occ
    return np.stack(counts), occluded


def _check_scene(scene: Scene, min_area: int,
                 entering: Optional[str]) -> bool:
    """Fix the late object's first frame; tell whether the scene is usable.

    Usable: a late object comes in between frame 2 and the third last frame
    (its first frame is the first with ``min_area`` visible pixels), every
    object has at least ``min_area`` visible pixels in its first frame, and
    some object covers another at least once.
    """
    if entering == 'late':
        late = next(tr for tr in scene.tracks
                    if tr.obj_id == len(scene.tracks))
        counts, _ = _visible_counts(scene)
        big = np.flatnonzero(counts[:, late.obj_id] >= min_area)
        if not len(big) or not 2 <= big[0] <= scene.num_frames - 3:
            return False
        late.first_frame = int(big[0])
    counts, occluded = _visible_counts(scene)
    if len(scene.tracks) > 1 and occluded == 0:
        return False
    return all(counts[tr.first_frame, tr.obj_id] >= min_area
               for tr in scene.tracks)


def render_sequence(
        rng: np.random.Generator,
        size: Tuple[int, int],
        num_frames: int,
        num_objects: int,
        entering: Optional[str] = None
) -> Tuple[np.ndarray, np.ndarray, List[Track]]:
    """Sample a usable scene and draw all its frames.

    Args:
        rng: Random generator (the only source of randomness).
        size: (H, W) in pixels.
        num_frames: Number of frames T.
        num_objects: Number of objects, ids 1..num_objects.
        entering: None, ``'border'`` (the last object enters from outside,
            partly visible at frame 0) or ``'late'`` (the last object is
            absent until a later frame).

    Returns:
        tuple: frames np.uint8 (T, H, W, 3), label maps np.uint8 (T, H, W)
        and the tracks (with ``first_frame`` set).
    """
    height, width = size
    min_area = max(12, height * width // 500)
    for _ in range(MAX_ATTEMPTS):
        scene = sample_scene(rng, size, num_frames, num_objects, entering)
        if _check_scene(scene, min_area, entering):
            break
    else:
        raise RuntimeError(
            f'No usable scene in {MAX_ATTEMPTS} attempts for size '
            f'{height}x{width} with {num_objects} objects and {num_frames} '
            'frames: use a larger size or more frames')
    frames = np.empty((num_frames, height, width, 3), dtype=np.uint8)
    labels = np.empty((num_frames, height, width), dtype=np.uint8)
    for t in range(num_frames):
        image, labels[t], _ = render_frame(scene, t)
        image += rng.normal(0, 2.0, image.shape)
        frames[t] = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return frames, labels, sorted(scene.tracks, key=lambda tr: tr.obj_id)


def render_image(rng: np.random.Generator, size: Tuple[int,
                                                          int]) -> np.ndarray:
    """Draw one static textured image, np.uint8 (H, W, 3)."""
    num_objects = int(rng.integers(2, 6))
    scene = sample_scene(rng, size, 1, num_objects, None)
    image, _, _ = render_frame(scene, 0)
    image += rng.normal(0, 2.0, image.shape)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def write_jpeg(path: str, image: np.ndarray) -> None:
    """Encode np.uint8 (H, W, 3) as JPEG and write it atomically."""
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
                f'{folder} exists: pass --overwrite to replace it')
        shutil.rmtree(folder)


@dataclass
class Options:
    """Sizes and counts of the generated data."""
    seed: int
    size: Tuple[int, int]
    frames: Tuple[int, int]
    objects: Tuple[int, int]
    overwrite: bool


def _sequence(opts: Options, stream: int, index: int,
              entering: Optional[str]):
    """Draw sequence ``index`` of a random stream."""
    rng = np.random.default_rng([opts.seed, stream, index])
    num_frames = int(rng.integers(opts.frames[0], opts.frames[1] + 1))
    num_objects = int(rng.integers(opts.objects[0], opts.objects[1] + 1))
    if entering is not None:
        num_objects = max(num_objects, 2)
    return render_sequence(rng, opts.size, num_frames, num_objects, entering)


def write_davis(out_dir: str, opts: Options, num_val: int, num_train: int,
                progress: ProgressBar) -> None:
    """Write sequences in the DAVIS layout (every frame annotated)."""
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
            progress.update()
        text = ''.join(name + '\n' for name in names).encode()
        for year in ('2016', '2017'):
            atomic_write_bytes(
                osp.join(out_dir, 'ImageSets', year, f'{split}.txt'), text)


def write_ytvos(out_dir: str, opts: Options, num_val: int, num_train: int,
                progress: ProgressBar) -> None:
    """Write videos in the YouTube-VOS layout.

    valid/ gets masks only where objects first appear (holding only those
    objects); train/ gets every frame's mask.
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
            progress.update()
        meta = json.dumps(dict(videos=videos), indent=2, sort_keys=True)
        atomic_write_bytes(
            osp.join(out_dir, split, 'meta.json'), meta.encode() + b'\n')


def write_train_images(out_dir: str, opts: Options, count: int,
                       size: Tuple[int, int], progress: ProgressBar) -> None:
    """Write ``count`` static images to ``<out_dir>/train_images``."""
    if count == 0:
        return
    folder = osp.join(out_dir, 'train_images')
    _clear(folder, opts.overwrite)
    for index in range(count):
        rng = np.random.default_rng([opts.seed, STREAM_IMAGES, index])
        write_jpeg(
            osp.join(folder, f'{index:06d}.jpg'), render_image(rng, size))
        progress.update()


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
