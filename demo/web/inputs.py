"""The web demo's inputs, checked: an upload becomes frames, a mask image
a label map, and a run is refused before it would take too long.

Conventions: frames are ``np.uint8`` ``(H, W, 3)`` BGR (what
:func:`mmhvc.apis.read_video` returns and the models take); label maps are
``np.uint8`` ``(H, W)`` object ids, 0 background; sizes are ``(H, W)``.
"""
import os
import os.path as osp
import time
import zipfile
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from torch import nn

from mmhvc.apis import propagate_mask, read_first_mask, read_video
from mmhvc.fileio import IMAGE_EXTENSIONS

#: Largest sum of uncompressed member sizes accepted in a zip of frames.
MAX_ZIP_BYTES = 4 << 30


class MaskSizeError(ValueError):
    """A mask whose size differs from the video's.

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


def check_mask(mask: np.ndarray, size: Tuple[int, int],
               source: str) -> np.ndarray:
    """Check that a mask fits the video and holds an object.

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
    """Read and check an uploaded mask image.

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
    return check_mask(mask, size, name), palette


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


