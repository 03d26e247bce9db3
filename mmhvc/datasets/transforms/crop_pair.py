"""Two independent random resized crops of one image (the two HVC views)."""
import math
from typing import Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from mmhvc.registry import TRANSFORMS

_INTERPOLATIONS = dict(
    cv2=('nearest', 'bilinear', 'bicubic', 'area', 'lanczos'),
    pillow=('nearest', 'bilinear'))


def sample_crop_box(height: int,
                    width: int,
                    scale: Tuple[float, float] = (0.0, 1.0),
                    ratio: Tuple[float, float] = (3 / 4, 4 / 3),
                    max_attempts: int = 10) -> Tuple[int, int, int, int]:
    """Draw one random crop box of an image, in integer pixel units.

    Each attempt draws an area fraction uniformly in
    ``(scale[0], scale[1]]`` and an aspect ratio (width / height)
    log-uniformly in ``[ratio[0], ratio[1])``, rounds the crop's width and
    height to whole pixels and keeps it if it is non-empty and fits in the
    image; the top-left corner is then uniform over all positions where the
    crop fits. After ``max_attempts`` rejected attempts the crop falls back
    to the largest central crop whose aspect ratio lies in ``ratio`` (the
    whole image when its own aspect ratio does).

    Randomness comes from NumPy's global generator, which MMEngine seeds
    (``randomness=dict(seed=...)``) in the main process and in every data
    loader worker.

    Args:
        height: Image height H in pixels.
        width: Image width W in pixels.
        scale: Range of the crop area as a fraction of the image area.
        ratio: Range of the crop aspect ratio (width / height).
        max_attempts: Number of random draws before the central fallback.

    Returns:
        ``(x1, y1, w, h)``: the crop covers columns ``x1 .. x1 + w - 1`` and
        rows ``y1 .. y1 + h - 1`` of the image.
    """
    area = height * width
    log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
    for _ in range(max_attempts):
        fraction = scale[1] - (scale[1] - scale[0]) * np.random.random_sample()
        aspect = math.exp(np.random.uniform(log_lo, log_hi))
        w = int(round(math.sqrt(area * fraction * aspect)))
        h = int(round(math.sqrt(area * fraction / aspect)))
        if 0 < w <= width and 0 < h <= height:
            x1 = int(np.random.randint(0, width - w + 1))
            y1 = int(np.random.randint(0, height - h + 1))
            return x1, y1, w, h

    image_aspect = width / height
    if image_aspect < ratio[0]:
        w, h = width, min(height, max(1, int(round(width / ratio[0]))))
    elif image_aspect > ratio[1]:
        w, h = min(width, max(1, int(round(height * ratio[1])))), height
    else:
        w, h = width, height
    return (width - w) // 2, (height - h) // 2, w, h


def _output_size(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    """``size`` as ``(h, w)``; an int ``s`` gives ``(s, s)``.

    Raises:
        ValueError: ``size`` is not a positive int or two positive ints.
    """
    if isinstance(size, int):
        size = (size, size)
    size = tuple(size)
    if len(size) != 2 or not all(isinstance(s, int) and s > 0 for s in size):
        raise ValueError(f'size must be a positive int or (h, w), got {size}')
    return size


def _area_range(scale: Sequence[float]) -> Tuple[float, float]:
    """``scale`` as a float ``(lo, hi)`` area-fraction range.

    Raises:
        ValueError: Unless ``0 <= lo <= hi <= 1`` and ``hi > 0``.
    """
    scale = tuple(float(s) for s in scale)
    if len(scale) != 2 or not 0 <= scale[0] <= scale[1] <= 1 \
            or scale[1] == 0:
        raise ValueError('scale must be (lo, hi) with 0 <= lo <= hi <= 1 '
                         f'and hi > 0, got {scale}')
    return scale


def _aspect_range(ratio: Sequence[float]) -> Tuple[float, float]:
    """``ratio`` as a float ``(lo, hi)`` aspect-ratio (width / height) range.

    Raises:
        ValueError: Unless ``0 < lo <= hi``.
    """
    ratio = tuple(float(r) for r in ratio)
    if len(ratio) != 2 or not 0 < ratio[0] <= ratio[1]:
        raise ValueError(
            f'ratio must be (lo, hi) with 0 < lo <= hi, got {ratio}')
    return ratio


@TRANSFORMS.register_module()
class RandomResizedCropPair(BaseTransform):
    """Cut two independent random resized crops (views) out of one image.

    Each view is drawn by :func:`sample_crop_box` and resized to ``size``.
    No flip and no colour change are applied; the channel order is kept
    (BGR after ``LoadImageFromFile``).

    Required keys:

    - img (np.uint8, (H, W, 3); (H, W) and (H, W, 1) grey images are
      repeated to three channels)

    Modified keys:

    - img: np.uint8 (2, S_h, S_w, 3), the two views
    - img_shape: (S_h, S_w)

    Added keys:

    - crop_boxes: np.float32 (2, 4), each view's crop box in normalised
      original-image coordinates ``(x1 / (W - 1), y1 / (H - 1),
      x2 / (W - 1), y2 / (H - 1))``, where ``(x1, y1)`` is the crop's
      top-left pixel and ``(x2, y2)`` its bottom-right pixel (inclusive).
    - ori_shape: (H, W), only when the loader did not set it.

    Args:
        size: Output size S, an int for square views or ``(h, w)``.
        scale: Range of the crop area as a fraction of the image area;
            the area fraction is uniform in ``(scale[0], scale[1]]``, so
            ``scale[0] = 0`` is allowed (the paper uses ``(0, 1]``).
        ratio: Range of the crop aspect ratio (width / height), sampled
            log-uniformly.
        interpolation: Resize interpolation, one of ``'nearest'``,
            ``'bilinear'``, ``'bicubic'``, ``'area'``, ``'lanczos'``.
        max_attempts: Random draws per view before the central fallback.
        backend: Resize backend of :func:`mmcv.imresize`, ``'cv2'`` or
            ``'pillow'``. OpenCV's bilinear resize does not low-pass filter
            when shrinking; Pillow's does: its filter support grows with
            the downscale factor, so each view equals
            ``PIL.Image.resize(crop, (S_w, S_h), Image.BILINEAR)``, the
            resize of torchvision's ``RandomResizedCrop`` on PIL images
            (and of the reference implementation). Pillow filters every
            channel alike, so BGR input gives the same views as RGB in
            reversed channel order. It supports only ``'nearest'`` and
            ``'bilinear'``. The paper configs use ``'pillow'``.
    """

    def __init__(self,
                 size: Union[int, Sequence[int]] = 256,
                 scale: Sequence[float] = (0.0, 1.0),
                 ratio: Sequence[float] = (3 / 4, 4 / 3),
                 interpolation: str = 'bilinear',
                 max_attempts: int = 10,
                 backend: str = 'cv2') -> None:
        self.size = _output_size(size)
        self.scale = _area_range(scale)
        self.ratio = _aspect_range(ratio)
        if backend not in _INTERPOLATIONS:
            raise ValueError(
                f"backend must be 'cv2' or 'pillow', got {backend!r}")
        allowed = _INTERPOLATIONS[backend]
        if interpolation not in allowed:
            raise ValueError(f'interpolation must be one of {allowed} for '
                             f'backend {backend!r}, got {interpolation!r}')
        if not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValueError(
                f'max_attempts must be a positive int, got {max_attempts}')
        self.interpolation = interpolation
        self.max_attempts = max_attempts
        self.backend = backend

    def transform(self, results: dict) -> dict:
        """Replace ``results['img']`` by two views and add their crop boxes.

        Args:
            results: Result dict holding ``img``.

        Returns:
            The same dict with ``img``, ``img_shape``, ``crop_boxes`` (and
            ``ori_shape`` if it was missing) set.
        """
        img = self._check_image(results)
        height, width = img.shape[:2]
        out_h, out_w = self.size
        views, boxes = [], []
        for _ in range(2):
            x1, y1, w, h = sample_crop_box(height, width, self.scale,
                                           self.ratio, self.max_attempts)
            crop = img[y1:y1 + h, x1:x1 + w]
            views.append(
                mmcv.imresize(
                    crop, (out_w, out_h),
                    interpolation=self.interpolation,
                    backend=self.backend))
            x2, y2 = x1 + w - 1, y1 + h - 1
            boxes.append([
                x1 / (width - 1), y1 / (height - 1), x2 / (width - 1),
                y2 / (height - 1)
            ])
        results['img'] = np.stack(views)
        results['img_shape'] = (out_h, out_w)
        results['crop_boxes'] = np.asarray(boxes, dtype=np.float32)
        results.setdefault('ori_shape', (height, width))
        return results

    @staticmethod
    def _check_image(results: dict) -> np.ndarray:
        """Return the image as (H, W, 3) uint8 or raise naming the file."""
        if 'img' not in results:
            raise KeyError('RandomResizedCropPair needs the key "img"; '
                           'put a loading transform before it')
        img = results['img']
        source = results.get('img_path', '<in-memory image>')
        if not isinstance(img, np.ndarray) or img.dtype != np.uint8:
            kind = img.dtype if isinstance(img, np.ndarray) else type(img)
            raise TypeError(f'RandomResizedCropPair expects a uint8 image, '
                            f'got {kind} for {source}')
        if img.ndim == 2:
            img = img[..., None]
        if img.ndim != 3 or img.shape[2] not in (1, 3):
            raise ValueError('RandomResizedCropPair expects an image of shape '
                             '(H, W), (H, W, 1) or (H, W, 3), got '
                             f'{img.shape} for {source}')
        if img.shape[2] == 1:
            img = np.repeat(img, 3, axis=2)
        if img.shape[0] < 2 or img.shape[1] < 2:
            raise ValueError(
                'RandomResizedCropPair needs an image of at '
                f'least 2x2 pixels, got {img.shape[:2]} for {source}')
        return img

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={self.size}, '
                f'scale={self.scale}, ratio={self.ratio}, '
                f"interpolation='{self.interpolation}', "
                f'max_attempts={self.max_attempts}, '
                f"backend='{self.backend}')")
