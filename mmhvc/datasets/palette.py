"""The DAVIS colour palette and indexed ('P' mode) PNG input/output.

DAVIS and YouTube-VOS store object masks as 8-bit palette PNGs whose pixel
values are object ids (0 = background, 255 = void); the colours are only for
display. These helpers read the ids, never the colours, and write label maps
atomically so that an interrupted run never leaves a truncated file behind.
"""
import io
from typing import Optional, Tuple

import numpy as np
from mmengine import fileio
from PIL import Image

from mmhvc.fileio import atomic_write_bytes


def davis_palette(num_colors: int = 256) -> np.ndarray:
    """Compute the DAVIS (PASCAL VOC) colour map.

    Colour ``i`` spreads the bits of ``i`` over the three channels, three bits
    at a time from the least significant end: bit 0 of each triple goes to
    red, bit 1 to green and bit 2 to blue, each at the highest still unused
    bit position of its channel. Index 0 is black, 1 dark red
    (128, 0, 0), 2 dark green (0, 128, 0), 255 is (224, 224, 192).

    Args:
        num_colors: Number of palette entries, at most 256.

    Returns:
        np.ndarray: uint8 array of shape (num_colors, 3), RGB.
    """
    if not 0 < num_colors <= 256:
        raise ValueError(f'num_colors must be in [1, 256], got {num_colors}')
    palette = np.zeros((num_colors, 3), dtype=np.uint8)
    for index in range(num_colors):
        value = index
        for shift in range(7, -1, -1):
            for channel in range(3):
                palette[index, channel] |= ((value >> channel) & 1) << shift
            value >>= 3
    return palette


def read_annotation_image(path: str,
                          backend_args: Optional[dict] = None) -> Image.Image:
    """Read and decode an annotation image, naming the file in any error.

    Args:
        path: File path (any MMEngine file backend).
        backend_args: Arguments of the file backend.

    Returns:
        PIL.Image.Image: The decoded image, in the mode of the file.

    Raises:
        FileNotFoundError: When the file does not exist.
        ValueError: When the file is not a readable image.
    """
    try:
        content = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError as e:
        raise FileNotFoundError(f'Annotation file not found: {path}') from e
    try:
        image = Image.open(io.BytesIO(content))
        image.load()
    except Exception as e:
        raise ValueError(f'Cannot decode annotation image {path}: {e}') from e
    return image


def read_indexed_png(
        path: str,
        backend_args: Optional[dict] = None
) -> Tuple[np.ndarray, np.ndarray]:
    """Read a palette PNG as its palette indices.

    Args:
        path: File path (any MMEngine file backend).
        backend_args: Arguments of the file backend.

    Returns:
        tuple: ``(label_map, palette)``: np.uint8 (H, W) palette indices and
        np.uint8 (256, 3) RGB palette (missing entries are zero).

    Raises:
        FileNotFoundError: When the file does not exist.
        ValueError: When the file is not a readable 'P' mode image.
    """
    image = read_annotation_image(path, backend_args)
    if image.mode != 'P':
        raise ValueError(
            f'Annotation {path} is a "{image.mode}" mode image, but object '
            'masks must be indexed ("P" mode) PNGs whose pixel values are '
            'object ids (0 background, 255 void), as in DAVIS 2017 and '
            'YouTube-VOS.')
    label_map = np.asarray(image, dtype=np.uint8).copy()
    palette = np.zeros((256, 3), dtype=np.uint8)
    colours = np.asarray(image.getpalette() or [], dtype=np.uint8)
    colours = colours[:colours.size // 3 * 3].reshape(-1, 3)[:256]
    palette[:len(colours)] = colours
    return label_map, palette


def write_indexed_png(path: str,
                      label_map: np.ndarray,
                      palette: Optional[np.ndarray] = None) -> None:
    """Write a label map as a palette PNG, atomically.

    The image goes through :func:`mmhvc.fileio.atomic_write_bytes`, so
    readers never see a partial file. Missing parent folders are created. The output bytes depend only on the inputs.

    Args:
        path: Destination file path (local file system).
        label_map: np.uint8 (H, W) palette indices (object ids).
        palette: np.uint8 (N, 3) RGB colours, N <= 256. Defaults to
            :func:`davis_palette`.
    """
    label_map = np.asarray(label_map)
    if label_map.ndim != 2 or label_map.dtype != np.uint8:
        raise ValueError(
            f'Label map for {path} must be a 2-D uint8 array, got shape '
            f'{label_map.shape} and dtype {label_map.dtype}')
    palette = davis_palette() if palette is None else np.asarray(palette)
    if palette.ndim != 2 or palette.shape[1] != 3 or len(palette) > 256:
        raise ValueError(
            f'Palette for {path} must have shape (N <= 256, 3), got '
            f'{palette.shape}')
    image = Image.fromarray(np.ascontiguousarray(label_map))
    image.putpalette(palette.astype(np.uint8).tobytes())
    buffer = io.BytesIO()
    image.save(buffer, format='PNG')
    atomic_write_bytes(path, buffer.getvalue())
