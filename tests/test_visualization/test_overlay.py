import numpy as np
import pytest

from mmhvc.visualization import overlay_masks


def palette_with(colours):
    palette = np.zeros((256, 3), np.uint8)
    for label, colour in colours.items():
        palette[label] = colour
    return palette


def test_objects_are_blended_and_outlined_in_rgb():
    frame = np.empty((12, 12, 3), np.uint8)
    frame[...] = (10, 20, 30)
    mask = np.zeros((12, 12), np.uint8)
    mask[2:9, 2:9] = 1
    mask[0, 11] = 255
    palette = palette_with({1: (200, 0, 100), 255: (1, 2, 3)})
    out = overlay_masks(frame, mask, palette, alpha=0.25)
    # inside: 0.75 * frame + 0.25 * colour, truncated
    np.testing.assert_array_equal(out[5, 5], (57, 15, 47))
    # the square's border is the contour, in the label's RGB colour
    for y, x in ((2, 2), (2, 5), (8, 8), (5, 2)):
        np.testing.assert_array_equal(out[y, x], (200, 0, 100))
    # background and void are left as they are
    np.testing.assert_array_equal(out[11, 0], (10, 20, 30))
    np.testing.assert_array_equal(out[0, 11], (10, 20, 30))
    np.testing.assert_array_equal(frame[5, 5], (10, 20, 30))


def test_each_object_gets_its_colour():
    frame = np.zeros((10, 20, 3), np.uint8)
    mask = np.zeros((10, 20), np.uint8)
    mask[2:8, 1:8] = 1
    mask[2:8, 11:18] = 2
    palette = palette_with({1: (0, 0, 240), 2: (0, 240, 0)})
    out = overlay_masks(frame, mask, palette, alpha=0.5)
    np.testing.assert_array_equal(out[5, 4], (0, 0, 120))
    np.testing.assert_array_equal(out[5, 14], (0, 120, 0))


def test_bad_input_is_named():
    frame = np.zeros((4, 6, 3), np.uint8)
    palette = palette_with({})
    with pytest.raises(ValueError, match=r'mask must be \(4, 6\)'):
        overlay_masks(frame, np.zeros((6, 4), np.uint8), palette)
    with pytest.raises(ValueError, match='palette must be'):
        overlay_masks(frame, np.zeros((4, 6), np.uint8), palette[:10])
    with pytest.raises(ValueError, match='frame must be'):
        overlay_masks(frame[..., 0], np.zeros((4, 6), np.uint8), palette)
