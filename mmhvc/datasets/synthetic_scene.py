"""Synthetic video scenes: textured shapes over a panning background.

Textured shapes (ellipses, regular polygons, smooth blobs) move over a
panning textured background: they translate along paths that cross, grow or
shrink, rotate and occlude each other in a fixed depth order. Images and
label maps come from the same geometry, so the masks are exact. Every random
choice is drawn from the ``np.random.Generator`` given, so the same
generator state gives the same pixels.

Coordinates are pixels ``(x, y)``, x the column; sizes are ``(H, W)``.
:mod:`mmhvc.datasets.synthetic` writes these scenes as datasets.
"""
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np

#: Scenes sampled before giving up on one that passes the checks.
MAX_ATTEMPTS = 200


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
