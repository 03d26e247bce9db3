import os

import numpy as np
import pytest
from PIL import Image

from mmhvc.datasets.palette import (davis_palette, read_annotation_image,
                                    read_indexed_png, write_indexed_png)
from mmhvc.fileio import atomic_write_bytes


def test_davis_palette_known_colours():
    palette = davis_palette()
    assert palette.shape == (256, 3) and palette.dtype == np.uint8
    # Colours of the DAVIS / PASCAL VOC colour map.
    assert palette[0].tolist() == [0, 0, 0]
    assert palette[1].tolist() == [128, 0, 0]
    assert palette[2].tolist() == [0, 128, 0]
    assert palette[3].tolist() == [128, 128, 0]
    assert palette[4].tolist() == [0, 0, 128]
    assert palette[8].tolist() == [64, 0, 0]
    assert palette[255].tolist() == [224, 224, 192]
    assert len({tuple(c) for c in palette}) == 256
    np.testing.assert_array_equal(davis_palette(5), palette[:5])
    with pytest.raises(ValueError):
        davis_palette(257)


def test_indexed_png_round_trip(tmp_path):
    label = np.arange(6 * 7, dtype=np.uint8).reshape(6, 7)
    label[0, 0] = 255
    path = str(tmp_path / 'sub' / 'mask.png')
    write_indexed_png(path, label)
    image = Image.open(path)
    assert image.mode == 'P'
    read, palette = read_indexed_png(path)
    np.testing.assert_array_equal(read, label)
    np.testing.assert_array_equal(palette, davis_palette())
    assert os.listdir(tmp_path / 'sub') == ['mask.png']

    first = open(path, 'rb').read()
    write_indexed_png(path, label)
    assert open(path, 'rb').read() == first


def test_indexed_png_short_palette(tmp_path):
    path = str(tmp_path / 'mask.png')
    write_indexed_png(path, np.ones((2, 2), np.uint8), davis_palette(4))
    _, palette = read_indexed_png(path)
    np.testing.assert_array_equal(palette[:4], davis_palette(4))
    assert not palette[4:].any()


def test_indexed_png_errors(tmp_path):
    with pytest.raises(ValueError, match='bad.png'):
        write_indexed_png(str(tmp_path / 'bad.png'), np.zeros((2, 2)))
    with pytest.raises(FileNotFoundError, match='absent.png'):
        read_indexed_png(str(tmp_path / 'absent.png'))
    grey = str(tmp_path / 'grey.png')
    Image.fromarray(np.zeros((3, 3), np.uint8)).save(grey)
    with pytest.raises(ValueError, match='grey.png is a "L" mode'):
        read_indexed_png(grey)
    broken = str(tmp_path / 'broken.png')
    atomic_write_bytes(broken, b'not a png')
    with pytest.raises(ValueError, match='broken.png'):
        read_indexed_png(broken)


def test_annotation_image_keeps_the_file_mode(tmp_path):
    grey = str(tmp_path / 'grey.png')
    Image.fromarray(np.full((2, 3), 7, np.uint8)).save(grey)
    image = read_annotation_image(grey)
    assert image.mode == 'L' and image.size == (3, 2)
    assert np.asarray(image).tolist() == [[7, 7, 7], [7, 7, 7]]
    with pytest.raises(FileNotFoundError, match='absent.png'):
        read_annotation_image(str(tmp_path / 'absent.png'))
    broken = str(tmp_path / 'broken.png')
    atomic_write_bytes(broken, b'\x89PNG truncated')
    with pytest.raises(ValueError, match='Cannot decode .*broken.png'):
        read_annotation_image(broken)
