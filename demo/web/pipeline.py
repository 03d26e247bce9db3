"""What the web demo page does, as plain functions: an upload becomes
frames, painted layers or a mask image become a first-frame label map,
the mask is propagated with progress reports, and the results are written
as files the page shows and offers for download.

Conventions: frames are ``np.uint8`` ``(H, W, 3)`` BGR (what
:func:`mmhvc.apis.read_video` returns and the models take); label maps are
``np.uint8`` ``(H, W)`` object ids, 0 background; sizes are ``(H, W)``;
points are pixels ``(x, y)``, x the column.
"""
import importlib.util
import io
import os
import os.path as osp
import time
import zipfile
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from PIL import Image
from torch import nn

from mmhvc.apis import propagate_mask, read_first_mask, read_video
from mmhvc.datasets import davis_palette, write_indexed_png
from mmhvc.engine.hooks import overlay_masks
from mmhvc.fileio import IMAGE_EXTENSIONS, write_video
from mmhvc.visualization import (affinity_heatmaps, draw_affinity_heatmaps,
                                 pixels_to_cells)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: The generator of the synthetic DAVIS-layout demo videos.
DEMO_GENERATOR = osp.join(REPO_ROOT, 'tools', 'dataset_converters',
                          'make_demo_davis.py')
#: Largest sum of uncompressed member sizes accepted in a zip of frames.
MAX_ZIP_BYTES = 4 << 30
#: A painted pixel has at least this alpha (0-255) in its layer.
PAINT_ALPHA = 128


class MaskSizeError(ValueError):
    """A first-frame mask whose size differs from the video's.

    Attributes:
        mask_size: ``(H, W)`` of the mask.
        frame_size: ``(H, W)`` of the frames.
    """

    def __init__(self, source: str, mask_size: Tuple[int, int],
                 frame_size: Tuple[int, int]) -> None:
        self.mask_size = tuple(mask_size)
        self.frame_size = tuple(frame_size)
        super().__init__(
            f'{source} is {mask_size[1]}x{mask_size[0]} (WxH) but the video '
            f'is {frame_size[1]}x{frame_size[0]}; resize the mask '
            '(nearest neighbour) or give one of the video\'s size')


class TooLongError(ValueError):
    """A run that would take longer than the server allows.

    Attributes:
        frame_budget: The most frames that fit in the allowed time.
    """

    def __init__(self, message: str, frame_budget: int) -> None:
        self.frame_budget = frame_budget
        super().__init__(message)


def read_upload(path: str, work_dir: str,
                name: Optional[str] = None
                ) -> Tuple[List[np.ndarray], List[str]]:
    """Frames of an uploaded video file or zip of frame images.

    Args:
        path: The uploaded file: a video OpenCV can decode, or a ``.zip``
            whose image files (sorted by name) are the frames.
        work_dir: A folder for the extracted frames of a zip.
        name: The file's name as the user gave it (for messages and to tell
            a zip by its extension); defaults to ``path``'s.

    Returns:
        ``(frames, names)`` as :func:`mmhvc.apis.read_video` gives them;
        at least two frames.

    Raises:
        ValueError: The file is no readable video or zip of frames, has a
            single frame, or its frames differ in size.
    """
    name = name or osp.basename(path)
    if name.lower().endswith('.zip'):
        source = extract_frames_zip(path, osp.join(work_dir, 'frames'), name)
    else:
        source = path
    try:
        frames, names = read_video(source)
    except (ValueError, IndexError) as e:
        message = str(e).replace(source, name)
        if name not in message:
            message = f'{name}: {message}'
        raise ValueError(message) from e
    if len(frames) < 2:
        raise ValueError(f'{name} has a single frame; propagation needs a '
                         'video of at least two frames')
    return frames, names


def extract_frames_zip(path: str, folder: str, name: str) -> str:
    """Extract the image files of a zip into one flat folder.

    Only members with an image extension (``mmhvc.fileio.IMAGE_EXTENSIONS``,
    those :func:`mmhvc.apis.read_video` reads) are kept, under their base
    names; folders inside the archive are flattened.

    Args:
        path: The zip file.
        folder: Where the images go (created; must not hold other images).
        name: The zip's name for messages.

    Returns:
        ``folder``.

    Raises:
        ValueError: Not a zip archive, no image in it, two images with the
            same base name, or more than ``MAX_ZIP_BYTES`` uncompressed.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise ValueError(f'{name} is not a readable zip archive: {e}') from e
    with archive:
        members = [
            m for m in archive.infolist()
            if not m.is_dir() and not _hidden(m.filename)
            and osp.splitext(m.filename)[1].lower() in IMAGE_EXTENSIONS
        ]
        if not members:
            raise ValueError(f'{name} holds no image files '
                             f'({", ".join(IMAGE_EXTENSIONS)})')
        total = sum(m.file_size for m in members)
        if total > MAX_ZIP_BYTES:
            raise ValueError(f'{name} unpacks to {total / 2**30:.1f} GiB, '
                             f'over the {MAX_ZIP_BYTES / 2**30:.0f} GiB limit')
        base_names = [osp.basename(m.filename) for m in members]
        repeated = sorted({b for b in base_names if base_names.count(b) > 1})
        if repeated:
            raise ValueError(f'{name} has several frames named '
                             f'{repeated[0]} (in different folders)')
        os.makedirs(folder, exist_ok=True)
        for member, base in zip(members, base_names):
            with open(osp.join(folder, base), 'wb') as f:
                f.write(archive.read(member))
    return folder


def _hidden(member: str) -> bool:
    """Whether a zip member is a hidden file or in a macOS resource folder."""
    parts = member.replace('\\', '/').split('/')
    return parts[-1].startswith('.') or '__MACOSX' in parts


def list_demo_videos(root: str) -> Dict[str, str]:
    """The sequences of a DAVIS-layout folder (``make_demo_davis.py``).

    Returns:
        Sequence name -> its frame folder ``JPEGImages/480p/<name>``,
        sorted by name; empty when ``root`` holds none.
    """
    frames_root = osp.join(root, 'JPEGImages', '480p')
    if not osp.isdir(frames_root):
        return {}
    return {
        name: osp.join(frames_root, name)
        for name in sorted(os.listdir(frames_root))
        if osp.isdir(osp.join(frames_root, name))
    }


def demo_first_mask(root: str, name: str) -> Optional[str]:
    """The first annotation PNG of a demo sequence, or None."""
    folder = osp.join(root, 'Annotations', '480p', name)
    if not osp.isdir(folder):
        return None
    pngs = sorted(n for n in os.listdir(folder) if n.endswith('.png'))
    return osp.join(folder, pngs[0]) if pngs else None


def generate_demo_videos(root: str,
                         num_videos: int = 2,
                         size: Tuple[int, int] = (96, 160),
                         num_frames: int = 16,
                         seed: int = 0) -> Dict[str, str]:
    """Write small synthetic demo videos with their masks (DAVIS layout).

    The sequences are those ``tools/dataset_converters/make_demo_davis.py``
    writes with the same seed, size and frame count.

    Args:
        root: Output folder.
        num_videos: Number of sequences (``demo00``, ``demo01``, ...).
        size: ``(H, W)`` of the frames.
        num_frames: Frames per sequence.
        seed: Seed of the generator.

    Returns:
        :func:`list_demo_videos` of ``root``.
    """
    spec = importlib.util.spec_from_file_location('make_demo_davis',
                                                  DEMO_GENERATOR)
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    opts = generator.Options(
        seed=seed,
        size=tuple(size),
        frames=(num_frames, num_frames),
        objects=(2, 3),
        overwrite=True)
    generator.write_davis(root, opts, num_videos, 0, _Silent())
    return list_demo_videos(root)


class _Silent:
    """A progress bar that shows nothing."""

    def update(self) -> None:
        pass


def decode_layer(data: bytes) -> np.ndarray:
    """Decode one painted layer (an image file's bytes) to ``(H, W, 4)``
    uint8 RGBA."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as e:
        raise ValueError(
            f'a painted layer is not a readable image: {e}') from e
    return np.asarray(image.convert('RGBA'))


def painted_layers_to_mask(layers: Sequence[np.ndarray],
                           size: Tuple[int, int]) -> np.ndarray:
    """The label map of painted layers, one layer per object.

    Layer k (counting from 0) paints object id ``k + 1`` wherever its
    alpha is at least ``PAINT_ALPHA``; a later layer paints over an
    earlier one. Colours are ignored.

    Args:
        layers: ``(H, W, 4)`` uint8 RGBA layers, at most 254.
        size: ``(H, W)`` of the first frame.

    Returns:
        ``(H, W)`` uint8 ids.

    Raises:
        ValueError: No layer, too many, or a layer of another shape.
    """
    if not layers:
        raise ValueError('no painted layer: paint an object on the first '
                         'frame or upload a mask')
    if len(layers) > 254:
        raise ValueError(f'{len(layers)} painted objects; at most 254')
    mask = np.zeros(size, np.uint8)
    for k, layer in enumerate(layers):
        layer = np.asarray(layer)
        if layer.shape != (*size, 4):
            raise ValueError(
                f'painted layer {k + 1} has shape {layer.shape}, expected '
                f'({size[0]}, {size[1]}, 4) (RGBA of the first frame)')
        mask[layer[..., 3] >= PAINT_ALPHA] = k + 1
    return mask


def check_first_mask(mask: np.ndarray, size: Tuple[int, int],
                     source: str) -> np.ndarray:
    """Check that a first-frame mask fits the video and holds an object.

    Args:
        mask: ``(h, w)`` uint8 ids (255 void counts as background).
        size: ``(H, W)`` of the frames.
        source: What the mask is, for messages (e.g. its file name).

    Returns:
        ``mask``.

    Raises:
        MaskSizeError: ``(h, w) != (H, W)``.
        ValueError: No object id in the mask.
    """
    if mask.shape != tuple(size):
        raise MaskSizeError(source, mask.shape, size)
    if not np.any((mask > 0) & (mask < 255)):
        raise ValueError(f'{source} is empty: it marks no object (ids 1-254)')
    return mask


def read_mask_upload(path: str, size: Tuple[int, int], resize: bool,
                     name: Optional[str] = None
                     ) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Read and check an uploaded first-frame mask image.

    Accepts what :func:`mmhvc.apis.read_first_mask` accepts: an indexed PNG
    of object ids, a grey id map, or a 0/255 image of one object.

    Args:
        path: The mask image.
        size: ``(H, W)`` of the frames.
        resize: Resize a mask of another size (nearest neighbour), as
            ``demo/video_demo.py --resize-mask`` does.
        name: The file's name as the user gave it.

    Returns:
        ``(mask, palette)``: ``(H, W)`` uint8 ids and the file's
        ``(256, 3)`` palette or None.

    Raises:
        MaskSizeError: The size differs and ``resize`` is False.
        ValueError: Not a readable mask image, or an empty mask.
    """
    name = name or osp.basename(path)
    try:
        mask, palette = read_first_mask(path, size=size if resize else None)
    except ValueError as e:
        raise ValueError(str(e).replace(path, name)) from e
    return check_first_mask(mask, size, name), palette


def cap_frames(frames: Sequence[np.ndarray], names: Sequence[str],
               max_frames: Optional[int]
               ) -> Tuple[List[np.ndarray], List[str]]:
    """The first ``max_frames`` frames and names (all when None)."""
    if max_frames is None:
        return list(frames), list(names)
    if max_frames < 2:
        raise ValueError(f'the frame cap must be at least 2, got {max_frames}')
    return list(frames[:max_frames]), list(names[:max_frames])


def measure_speed(model: nn.Module,
                  frames: Sequence[np.ndarray],
                  num_frames: int = 3) -> float:
    """Frames per second of :func:`mmhvc.apis.propagate_mask` on the first
    frames of a video.

    A box in the middle of the first frame is propagated over
    ``min(num_frames, T)`` frames, so the time includes the feature
    extraction and the affinities of a short context.

    Returns:
        Frames per second (> 0).
    """
    probe = list(frames[:max(1, min(num_frames, len(frames)))])
    height, width = probe[0].shape[:2]
    box = np.zeros((height, width), np.uint8)
    box[height // 4:height - height // 4, width // 4:width - width // 4] = 1
    start = time.perf_counter()
    propagate_mask(model, probe, box)
    return len(probe) / max(time.perf_counter() - start, 1e-6)


def frame_budget(frames_per_second: float, max_seconds: float) -> int:
    """The most frames (at least 2) propagated within ``max_seconds`` at
    ``frames_per_second``."""
    return max(2, int(max_seconds * frames_per_second))


def check_duration(num_frames: int, frames_per_second: float,
                   max_seconds: float, device: str) -> float:
    """Refuse a run that would exceed the time limit.

    Args:
        num_frames: Frames to propagate.
        frames_per_second: From :func:`measure_speed`.
        max_seconds: The server's limit per run.
        device: Where the model runs, for the message.

    Returns:
        The estimated seconds.

    Raises:
        TooLongError: The estimate is over ``max_seconds``; its
            ``frame_budget`` is the number of frames that fit
            (:func:`frame_budget`).
    """
    seconds = num_frames / frames_per_second
    if seconds > max_seconds:
        budget = frame_budget(frames_per_second, max_seconds)
        raise TooLongError(
            f'{num_frames} frames would take about {seconds:.0f} s on '
            f'{device} ({frames_per_second:.2f} frames/s measured), over the '
            f'limit of {max_seconds:.0f} s per run: use the first {budget} '
            'frames, or start the demo with --device cuda or a larger '
            '--max-seconds', budget)
    return seconds


def propagate_with_progress(model: nn.Module, frames: Sequence[np.ndarray],
                            first_mask: np.ndarray,
                            progress: Callable[[int], None]) -> np.ndarray:
    """:func:`mmhvc.apis.propagate_mask`, reporting the frames encoded.

    ``progress(n)`` is called each time the encoder has seen frames, with
    the number seen so far (a forward hook on ``model.backbone``; the model
    encodes ``encode_batch`` frames at a time).

    Returns:
        ``(T, H, W)`` uint8 ids, equal to ``propagate_mask``'s.
    """
    count = 0

    def on_frame(module: nn.Module, inputs: tuple, output) -> None:
        nonlocal count
        count += len(inputs[0])
        progress(count)

    handle = model.backbone.register_forward_hook(on_frame)
    try:
        return propagate_mask(model, frames, first_mask)
    finally:
        handle.remove()


@dataclass
class ResultFiles:
    """Paths of what :func:`write_results` writes under its folder."""
    overlay_mp4: str
    overlay_webm: str
    masks_zip: str
    overlay_frames: List[str]


def write_results(out_dir: str,
                  frames: Sequence[np.ndarray],
                  names: Sequence[str],
                  masks: np.ndarray,
                  palette: Optional[np.ndarray] = None,
                  fps: float = 10.) -> ResultFiles:
    """Write the overlay video, one overlay image per frame and the masks.

    Writes ``overlay.mp4`` (mp4v, as ``demo/video_demo.py``),
    ``overlay.webm`` (VP8, which browsers play), ``frames/<name>.png`` and
    ``masks.zip`` of indexed PNGs ``<name>.png``.

    Args:
        out_dir: Output folder (created).
        frames: T ``(H, W, 3)`` BGR frames.
        names: T frame names.
        masks: ``(T, H, W)`` uint8 ids.
        palette: ``(256, 3)`` RGB colours of the ids; DAVIS's when None.
        fps: Frames per second of the videos.
    """
    palette = davis_palette() if palette is None else np.asarray(palette)
    overlays = [overlay_masks(f, m, palette) for f, m in zip(frames, masks)]
    os.makedirs(osp.join(out_dir, 'frames'), exist_ok=True)
    files = ResultFiles(
        overlay_mp4=osp.join(out_dir, 'overlay.mp4'),
        overlay_webm=osp.join(out_dir, 'overlay.webm'),
        masks_zip=osp.join(out_dir, 'masks.zip'),
        overlay_frames=[
            osp.join(out_dir, 'frames', f'{name}.png') for name in names
        ])
    write_video([o[..., ::-1] for o in overlays], files.overlay_mp4, fps)
    _write_webm(overlays, files.overlay_webm, fps)
    for path, overlay in zip(files.overlay_frames, overlays):
        if not cv2.imwrite(path, overlay, [cv2.IMWRITE_PNG_COMPRESSION, 1]):
            raise RuntimeError(f'could not write {path}')
    mask_dir = osp.join(out_dir, 'masks')
    with zipfile.ZipFile(files.masks_zip, 'w', zipfile.ZIP_STORED) as archive:
        for name, mask in zip(names, masks):
            path = osp.join(mask_dir, f'{name}.png')
            write_indexed_png(path, mask, palette)
            archive.write(path, f'{name}.png')
    return files


def _write_webm(frames: Sequence[np.ndarray], path: str, fps: float) -> None:
    """Write BGR frames as a VP8 WebM video."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'VP80'), fps,
                             (width, height))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV could not open {path} for writing (VP8)')
    for frame in frames:
        writer.write(frame)
    writer.release()


def correspondence_heatmap(model: nn.Module, frame_a: np.ndarray,
                           frame_b: np.ndarray, point: Tuple[float, float],
                           temperature: float) -> np.ndarray:
    """Where a pixel of frame A goes in frame B, drawn as a heat map.

    Args:
        model: A model from :func:`mmhvc.apis.init_model`.
        frame_a: ``(H, W, 3)`` BGR frame holding the query point.
        frame_b: ``(H, W, 3)`` BGR frame searched.
        point: Query pixel ``(x, y)`` of A.
        temperature: Softmax temperature of the affinities.

    Returns:
        RGB image: A with the point, then B with the heat map and its best
        match (:func:`mmhvc.visualization.draw_affinity_heatmaps`).

    Raises:
        ValueError: The point is outside frame A.
    """
    device = next(model.parameters()).device
    with torch.no_grad():
        feats = [
            model.extract_feat(
                torch.from_numpy(np.ascontiguousarray(f)).permute(
                    2, 0, 1).to(device)) for f in (frame_a, frame_b)
        ]
    points = torch.tensor([point], dtype=torch.float64)
    cells = pixels_to_cells(points, frame_a.shape[:2], feats[0].shape[1:])
    heatmaps = affinity_heatmaps(feats[0], feats[1], cells, temperature)
    return draw_affinity_heatmaps(
        np.ascontiguousarray(frame_a[..., ::-1]),
        np.ascontiguousarray(frame_b[..., ::-1]), points, heatmaps.cpu())
