"""Reading frames from images, frame folders or video files; writing
images and videos (mp4 and WebM through OpenCV, GIF through Pillow).

Frames are handed around as ``np.uint8`` ``(H, W, 3)`` arrays; readers
return BGR (what the models expect), writers take RGB and check it with
:func:`check_rgb`.
"""
import os
import os.path as osp
from typing import Iterator, List, Optional, Sequence

import cv2
import mmcv
import numpy as np
from PIL import Image

from .atomic import atomic_path

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
#: Video extension -> OpenCV fourcc of the videos written with it.
VIDEO_CODECS = {'.mp4': 'mp4v', '.webm': 'VP80'}


def check_rgb(image: np.ndarray, name: str = 'image') -> np.ndarray:
    """Return ``image`` if it is a ``(H, W, 3)`` uint8 array, else raise."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or \
            image.ndim != 3 or image.shape[2] != 3:
        desc = (f'{image.dtype} {image.shape}' if isinstance(
            image, np.ndarray) else type(image).__name__)
        raise ValueError(f'{name} must be a (H, W, 3) uint8 RGB array, got '
                         f'{desc}')
    return image


def is_image_file(path: str) -> bool:
    """Whether ``path`` has an image file extension."""
    return osp.splitext(path)[1].lower() in IMAGE_EXTENSIONS


def read_image(path: str) -> np.ndarray:
    """Read a colour image as ``(H, W, 3)`` uint8 BGR.

    Raises:
        FileNotFoundError: No such file.
        ValueError: The file is not a readable image.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'image not found: {path}')
    image = mmcv.imread(path, flag='color')
    if image is None:
        raise ValueError(f'could not read an image from {path}')
    return image


def list_frames(folder: str) -> List[str]:
    """Image files of a frame folder, sorted by name.

    Raises:
        ValueError: The folder holds no image files.
    """
    names = sorted(n for n in os.listdir(folder) if is_image_file(n))
    if not names:
        raise ValueError(f'no image files ({", ".join(IMAGE_EXTENSIONS)}) '
                         f'in the frame folder {folder}')
    return [osp.join(folder, n) for n in names]


def count_frames(source: str) -> int:
    """Number of frames of an image (1), frame folder or video file."""
    if osp.isdir(source):
        return len(list_frames(source))
    if is_image_file(source):
        read_image(source)
        return 1
    capture = _open_video(source)
    count = 0
    while capture.grab():
        count += 1
    capture.release()
    return count


def iter_frames(
        source: str,
        indices: Optional[Sequence[int]] = None) -> Iterator[np.ndarray]:
    """Yield BGR frames of an image, a frame folder or a video file.

    Args:
        source: Image file, folder of image files (sorted by name) or
            video file.
        indices: Frame indices to read, in increasing order; None for all.

    Raises:
        FileNotFoundError: ``source`` does not exist.
        IndexError: An index is past the last frame.
    """
    if not osp.exists(source):
        raise FileNotFoundError(f'input not found: {source}')
    if indices is not None:
        indices = [int(i) for i in indices]
        if indices != sorted(set(indices)) or (indices and indices[0] < 0):
            raise ValueError(f'frame indices must be increasing and >= 0, '
                             f'got {indices}')
    if osp.isdir(source):
        paths = list_frames(source)
        for i in range(len(paths)) if indices is None else indices:
            if i >= len(paths):
                raise IndexError(f'frame {i} requested but {source} has '
                                 f'{len(paths)} frames')
            yield read_image(paths[i])
        return
    if is_image_file(source):
        if indices not in (None, [0]):
            raise IndexError(f'{source} is a single image (frame 0), got '
                             f'frame indices {indices}')
        yield read_image(source)
        return
    yield from _iter_video(source, indices)


def _open_video(path: str) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise ValueError(f'could not open {path} as a video (expected an '
                         'image, a frame folder or a video file)')
    return capture


def _iter_video(path: str,
                indices: Optional[List[int]]) -> Iterator[np.ndarray]:
    capture = _open_video(path)
    wanted = None if indices is None else set(indices)
    last = None if indices is None else indices[-1]
    index = 0
    try:
        while last is None or index <= last:
            ok, frame = capture.read()
            if not ok:
                break
            if wanted is None or index in wanted:
                yield frame
            index += 1
    finally:
        capture.release()
    if last is not None and index <= last:
        raise IndexError(f'frame {last} requested but {path} has {index} '
                         'frames')


def write_video(frames: Sequence[np.ndarray],
                path: str,
                fps: float = 10.) -> None:
    """Write RGB frames as an mp4 (``.mp4``, OpenCV ``mp4v``), a WebM
    (``.webm``, OpenCV VP8, which browsers play) or an animated GIF
    (``.gif``, Pillow, looping).

    The video appears complete or not at all: it is written under a
    temporary name and renamed into place (:func:`atomic_path`).

    Args:
        frames: T ``(H, W, 3)`` uint8 RGB frames, all of one size.
        path: Output file; its extension picks the format. Its folder is
            created when missing.
        fps: Frames per second.

    Raises:
        ValueError: No frames, ``fps <= 0``, a frame that is no RGB image
            or of another size, or an unknown extension.
        RuntimeError: OpenCV cannot write the codec.
    """
    if not len(frames):
        raise ValueError(f'no frames to write to {path}')
    if fps <= 0:
        raise ValueError(f'fps must be > 0, got {fps}')
    size = frames[0].shape
    for k, frame in enumerate(frames):
        check_rgb(frame, f'frame {k}')
        if frame.shape != size:
            raise ValueError(f'frame {k} is {frame.shape}, frame 0 {size}')
    ext = osp.splitext(path)[1].lower()
    if ext != '.gif' and ext not in VIDEO_CODECS:
        raise ValueError(f'{path}: videos are written as .mp4, .webm or '
                         f'.gif, got "{ext}"')
    with atomic_path(path, keep_extension=True) as tmp_path:
        if ext == '.gif':
            images = [Image.fromarray(frame) for frame in frames]
            images[0].save(
                tmp_path,
                save_all=True,
                append_images=images[1:],
                duration=int(round(1000 / fps)),
                loop=0)
        else:
            _write_opencv_video(frames, tmp_path, path, fps,
                                VIDEO_CODECS[ext])


def _write_opencv_video(frames: Sequence[np.ndarray], tmp_path: str,
                        path: str, fps: float, fourcc: str) -> None:
    """Encode RGB frames with OpenCV's ``fourcc`` codec into ``tmp_path``
    (``path`` names the destination in messages)."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(tmp_path, cv2.VideoWriter_fourcc(*fourcc), fps,
                             (width, height))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV could not open {path} for writing '
                           f'({fourcc} codec)')
    try:
        for frame in frames:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()


def write_image(image: np.ndarray, path: str) -> None:
    """Write an RGB image (format from the extension; PNG at the highest
    compression level)."""
    check_rgb(image)
    if osp.dirname(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
    params = [cv2.IMWRITE_PNG_COMPRESSION, 9
              ] if path.lower().endswith('.png') else []
    if not cv2.imwrite(path, np.ascontiguousarray(image[..., ::-1]), params):
        raise ValueError(f'could not write an image to {path}')
