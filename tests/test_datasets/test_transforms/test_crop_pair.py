import math

import numpy as np
import pytest

from mmhvc.datasets.transforms import RandomResizedCropPair, sample_crop_box
from mmhvc.registry import TRANSFORMS

H, W = 48, 64  # x * 4 <= 252 and y * 5 <= 235 fit in uint8


def coordinate_image() -> np.ndarray:
    """(H, W, 3) uint8 image whose pixels encode their own coordinates.

    Channel 0 holds 4 * x, channel 1 holds 5 * y (x, y in pixels).
    """
    ys, xs = np.mgrid[0:H, 0:W]
    img = np.full((H, W, 3), 7, dtype=np.uint8)
    img[..., 0] = xs * 4
    img[..., 1] = ys * 5
    return img


def denormalise(box: np.ndarray) -> np.ndarray:
    """Normalised (x1, y1, x2, y2) back to pixel indices."""
    return box * np.array([W - 1, H - 1, W - 1, H - 1])


def test_registered():
    transform = TRANSFORMS.build(dict(type='RandomResizedCropPair', size=8))
    assert isinstance(transform, RandomResizedCropPair)
    assert transform.size == (8, 8)


def test_output_keys_and_shapes():
    results = dict(img=coordinate_image(), img_path='a.jpg')
    out = RandomResizedCropPair(size=(12, 16))(results)
    assert out['img'].shape == (2, 12, 16, 3)
    assert out['img'].dtype == np.uint8
    assert out['crop_boxes'].shape == (2, 4)
    assert out['crop_boxes'].dtype == np.float32
    assert out['img_shape'] == (12, 16)
    assert out['ori_shape'] == (H, W)
    boxes = out['crop_boxes']
    assert np.all(boxes >= 0) and np.all(boxes <= 1)
    assert np.all(boxes[:, 2] >= boxes[:, 0])
    assert np.all(boxes[:, 3] >= boxes[:, 1])


def test_loader_ori_shape_is_kept():
    results = dict(img=coordinate_image(), ori_shape=(480, 640))
    out = RandomResizedCropPair(size=8)(results)
    assert out['ori_shape'] == (480, 640)


def test_corner_pixels_match_boxes():
    # The output (64 x 64) is at least as large as any crop, so the first and
    # last output pixels of bilinear resizing are exactly the crop's corner
    # pixels, whose values tell their coordinates.
    transform = RandomResizedCropPair(size=64, scale=(0.0, 1.0))
    np.random.seed(0)
    for _ in range(20):
        out = transform(dict(img=coordinate_image()))
        for view, box in zip(out['img'], out['crop_boxes']):
            x1, y1, x2, y2 = np.round(denormalise(box)).astype(int)
            assert np.allclose(denormalise(box), [x1, y1, x2, y2], atol=1e-3)
            assert view[0, 0, 0] == 4 * x1 and view[0, 0, 1] == 5 * y1
            assert view[-1, -1, 0] == 4 * x2 and view[-1, -1, 1] == 5 * y2
            assert view[0, -1, 0] == 4 * x2 and view[-1, 0, 1] == 5 * y2


@pytest.mark.parametrize('size', [(20, 24), (60, 70), (16, 16)])
def test_views_match_boxes_everywhere(size):
    # Bilinear interpolation reproduces a linear ramp: output column u of a
    # crop of width w starting at x1 samples the source column
    # x1 + clip((u + 0.5) * w / S_w - 0.5, 0, w - 1) (pixel centres aligned).
    out_h, out_w = size
    transform = RandomResizedCropPair(size=size, scale=(0.05, 1.0))
    np.random.seed(1)
    for _ in range(10):
        out = transform(dict(img=coordinate_image()))
        for view, box in zip(out['img'], out['crop_boxes']):
            x1, y1, x2, y2 = np.round(denormalise(box)).astype(int)
            w, h = x2 - x1 + 1, y2 - y1 + 1
            u = np.arange(out_w)
            v = np.arange(out_h)
            src_x = x1 + np.clip((u + 0.5) * w / out_w - 0.5, 0, w - 1)
            src_y = y1 + np.clip((v + 0.5) * h / out_h - 0.5, 0, h - 1)
            expected_x = np.broadcast_to(4 * src_x[None, :], (out_h, out_w))
            expected_y = np.broadcast_to(5 * src_y[:, None], (out_h, out_w))
            assert np.abs(view[..., 0] - expected_x).max() <= 1.0
            assert np.abs(view[..., 1] - expected_y).max() <= 1.0
            assert np.all(view[..., 2] == 7)


def test_views_are_independent():
    transform = RandomResizedCropPair(size=8)
    np.random.seed(2)
    boxes = np.stack([
        transform(dict(img=coordinate_image()))['crop_boxes']
        for _ in range(10)
    ])
    assert not np.allclose(boxes[:, 0], boxes[:, 1])


def test_deterministic_under_numpy_seed():
    transform = RandomResizedCropPair(size=8)
    np.random.seed(3)
    first = transform(dict(img=coordinate_image()))
    np.random.seed(3)
    second = transform(dict(img=coordinate_image()))
    np.random.seed(4)
    third = transform(dict(img=coordinate_image()))
    assert np.array_equal(first['img'], second['img'])
    assert np.array_equal(first['crop_boxes'], second['crop_boxes'])
    assert not np.array_equal(first['crop_boxes'], third['crop_boxes'])


def test_area_and_ratio_statistics():
    # On a 1000 x 1000 image every draw with area <= 0.5 and aspect in
    # [3/4, 4/3] fits, so no draw is rejected and the accepted boxes follow
    # the sampling distributions directly (up to pixel rounding).
    np.random.seed(5)
    size, n = 1000, 4000
    lo, hi = 0.1, 0.5
    boxes = np.array([
        sample_crop_box(size, size, scale=(lo, hi), ratio=(3 / 4, 4 / 3))
        for _ in range(n)
    ])
    x1, y1, w, h = boxes.T
    area = w * h / size**2
    log_aspect = np.log(w / h)
    assert area.min() > lo - 0.005 and area.max() < hi + 0.005
    assert abs(area.mean() - (lo + hi) / 2) < 0.01
    assert abs(np.mean(area < 0.2) - 0.25) < 0.03
    bound = math.log(4 / 3)
    assert log_aspect.min() > -bound - 0.01
    assert log_aspect.max() < bound + 0.01
    # log-uniform: mean 0, standard deviation bound / sqrt(3)
    assert abs(log_aspect.mean()) < 0.015
    assert abs(log_aspect.std() - bound / math.sqrt(3)) < 0.01
    # the crop always fits and its position is uniform over the free range
    assert np.all(x1 >= 0) and np.all(x1 + w <= size)
    assert np.all(y1 >= 0) and np.all(y1 + h <= size)
    assert abs(np.mean(x1 / (size - w)) - 0.5) < 0.03
    assert abs(np.mean(y1 / (size - h)) - 0.5) < 0.03


def test_zero_lower_scale_never_gives_empty_crop():
    np.random.seed(6)
    boxes = np.array([sample_crop_box(9, 7) for _ in range(2000)])
    _, _, w, h = boxes.T
    assert np.all(w >= 1) and np.all(h >= 1)
    assert np.all(w <= 7) and np.all(h <= 9)


def test_full_scale_gives_whole_image_when_aspect_fits():
    np.random.seed(7)
    for _ in range(20):
        assert sample_crop_box(
            30, 30, scale=(1.0, 1.0), ratio=(1.0, 1.0)) == (0, 0, 30, 30)


@pytest.mark.parametrize(
    'height, width, ratio, expected',
    [
        # image aspect 1.5 below the allowed range: full width, h = W / 2
        (40, 60, (2.0, 3.0), (0, 5, 60, 30)),
        # image aspect 6 above the allowed range: full height, w = H * 4 / 3
        (10, 60, (3 / 4, 4 / 3), (23, 0, 13, 10)),
    ])
def test_central_fallback(height, width, ratio, expected):
    # Area fraction 1 with an aspect ratio unlike the image's never fits.
    np.random.seed(8)
    box = sample_crop_box(height, width, scale=(1.0, 1.0), ratio=ratio)
    assert box == expected


def test_grey_image_becomes_three_channels():
    grey = coordinate_image()[..., 0]
    out = RandomResizedCropPair(size=8)(dict(img=grey))
    assert out['img'].shape == (2, 8, 8, 3)
    assert np.array_equal(out['img'][..., 0], out['img'][..., 1])
    assert np.array_equal(out['img'][..., 0], out['img'][..., 2])
    single = RandomResizedCropPair(size=8)(dict(img=grey[..., None]))
    assert single['img'].shape == (2, 8, 8, 3)


def test_bad_images_are_rejected_naming_the_file():
    transform = RandomResizedCropPair(size=8)
    rgba = np.zeros((8, 8, 4), np.uint8)
    with pytest.raises(ValueError, match='rgba.png'):
        transform(dict(img=rgba, img_path='rgba.png'))
    with pytest.raises(TypeError, match='float.jpg'):
        transform(
            dict(img=np.zeros((8, 8, 3), np.float32), img_path='float.jpg'))
    with pytest.raises(ValueError, match='line.jpg'):
        transform(dict(img=np.zeros((1, 8, 3), np.uint8), img_path='line.jpg'))
    with pytest.raises(KeyError, match='img'):
        transform(dict(img_path='nothing.jpg'))


@pytest.mark.parametrize('kwargs, message', [
    (dict(size=0), r'size .* got \(0, 0\)'),
    (dict(size=(8, 8, 8)), r'size .* got \(8, 8, 8\)'),
    (dict(scale=(0.6, 0.2)), r'scale .* got \(0.6, 0.2\)'),
    (dict(scale=(0.0, 0.0)), r'scale .* got \(0.0, 0.0\)'),
    (dict(scale=(0.5, 1.5)), r'scale .* got \(0.5, 1.5\)'),
    (dict(ratio=(0.0, 1.0)), r'ratio .* got \(0.0, 1.0\)'),
    (dict(ratio=(2.0, 1.0)), r'ratio .* got \(2.0, 1.0\)'),
    (dict(interpolation='cubic'), "interpolation .* got 'cubic'"),
    (dict(backend='pillow',
          interpolation='bicubic'), "backend 'pillow', got 'bicubic'"),
    (dict(backend='skimage'), "backend .* got 'skimage'"),
    (dict(max_attempts=0), 'max_attempts .* got 0'),
])
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RandomResizedCropPair(**kwargs)


def noise_image(height: int = 90, width: int = 120) -> np.ndarray:
    """(H, W, 3) uint8 noise on a ramp: shrinking it shows any aliasing."""
    rng = np.random.RandomState(11)
    ramp = np.linspace(0, 120, width)[None, :, None]
    noise = rng.randint(0, 136, (height, width, 3))
    return (ramp + noise).astype(np.uint8)


def pixel_boxes(boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    """Normalised (x1, y1, x2, y2) boxes back to integer pixel corners."""
    scale = np.array([width - 1, height - 1, width - 1, height - 1])
    pixels = boxes * scale
    corners = np.round(pixels).astype(int)
    assert np.allclose(pixels, corners, atol=1e-3)
    return corners


@pytest.mark.parametrize('size', [(20, 24), (64, 80), (48, 30)])
def test_pillow_backend_equals_pil_resize(size):
    # Each view is PIL's own bilinear resize of its crop box, cut with
    # Image.crop from the RGB image (as torchvision's resized_crop does);
    # the transform works on BGR, which only reverses the channels.
    from PIL import Image
    out_h, out_w = size
    bgr = noise_image()
    height, width = bgr.shape[:2]
    rgb_image = Image.fromarray(np.ascontiguousarray(bgr[..., ::-1]))
    transform = RandomResizedCropPair(size=size, backend='pillow')
    np.random.seed(12)
    for _ in range(8):
        out = transform(dict(img=bgr.copy()))
        assert out['img'].shape == (2, out_h, out_w, 3)
        for view, box in zip(out['img'],
                             pixel_boxes(out['crop_boxes'], height, width)):
            x1, y1, x2, y2 = box.tolist()
            expected = rgb_image.crop((x1, y1, x2 + 1, y2 + 1)).resize(
                (out_w, out_h), Image.BILINEAR)
            assert np.array_equal(view, np.asarray(expected)[..., ::-1])


def test_pillow_backend_smooths_when_shrinking():
    # A one-pixel checkerboard shrunk 5x: Pillow's bilinear filter spans
    # 10 source pixels per output pixel and averages the pattern to grey;
    # OpenCV samples source pixels 5 apart (centres 2, 7, ...), which
    # alternate between black and white.
    ys, xs = np.mgrid[0:100, 0:100]
    board = np.repeat((((xs + ys) % 2) * 255).astype(np.uint8)[..., None], 3,
                      2)
    kwargs = dict(size=20, scale=(1.0, 1.0), ratio=(1.0, 1.0))
    smooth = RandomResizedCropPair(backend='pillow', **kwargs)(
        dict(img=board))['img']
    sharp = RandomResizedCropPair(backend='cv2', **kwargs)(
        dict(img=board))['img']
    assert np.abs(smooth.astype(int) - 127.5).max() <= 3
    assert set(np.unique(sharp)) == {0, 255}


def test_cv2_backend_is_the_default_and_equals_cv2_resize():
    cv2 = pytest.importorskip('cv2')
    img = noise_image()
    height, width = img.shape[:2]
    np.random.seed(13)
    default = RandomResizedCropPair(size=(20, 24))(dict(img=img.copy()))
    np.random.seed(13)
    explicit = RandomResizedCropPair(
        size=(20, 24), backend='cv2')(
            dict(img=img.copy()))
    assert np.array_equal(default['img'], explicit['img'])
    assert np.array_equal(default['crop_boxes'], explicit['crop_boxes'])
    for view, box in zip(explicit['img'],
                         pixel_boxes(explicit['crop_boxes'], height, width)):
        x1, y1, x2, y2 = box.tolist()
        crop = np.ascontiguousarray(img[y1:y2 + 1, x1:x2 + 1])
        expected = cv2.resize(crop, (24, 20), interpolation=cv2.INTER_LINEAR)
        assert np.array_equal(view, expected)
