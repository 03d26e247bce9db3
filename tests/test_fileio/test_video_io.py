import os

import cv2
import numpy as np
import pytest
from PIL import Image

from mmhvc.fileio import (check_rgb, count_frames, is_image_file, iter_frames,
                          list_frames, read_image, write_image, write_video)


def coloured(value, shape=(8, 12)):
    """An RGB frame whose channels are ``value``, ``value + 40``,
    ``value + 80``."""
    frame = np.empty((*shape, 3), np.uint8)
    frame[...] = (value, value + 40, value + 80)
    return frame


@pytest.fixture
def frame_folder(tmp_path):
    folder = tmp_path / 'frames'
    folder.mkdir()
    # Written out of order, with a non-image file among them.
    for name, value in (('00002.png', 60), ('00000.png', 20),
                        ('00001.png', 40)):
        cv2.imwrite(str(folder / name), coloured(value)[..., ::-1])
    (folder / 'notes.txt').write_text('not a frame')
    return folder


def test_check_rgb_names_the_array():
    frame = coloured(0)
    assert check_rgb(frame) is frame
    with pytest.raises(ValueError, match=r'panel 3 must be .*float32'):
        check_rgb(frame.astype(np.float32), 'panel 3')
    with pytest.raises(ValueError, match=r'image must be .*\(8, 12\)'):
        check_rgb(frame[..., 0])
    with pytest.raises(ValueError, match='got list'):
        check_rgb([1, 2, 3])


def test_image_extensions():
    assert is_image_file('a/b.JPG') and is_image_file('c.webp')
    assert not is_image_file('clip.mp4') and not is_image_file('frames')


def test_write_and_read_image_round_trip(tmp_path):
    out = tmp_path / 'sub' / 'image.png'
    write_image(coloured(10), str(out))
    bgr = read_image(str(out))
    np.testing.assert_array_equal(bgr, coloured(10)[..., ::-1])
    with pytest.raises(FileNotFoundError, match='missing.png'):
        read_image(str(tmp_path / 'missing.png'))
    (tmp_path / 'broken.png').write_bytes(b'not a png')
    with pytest.raises(ValueError, match='broken.png'):
        read_image(str(tmp_path / 'broken.png'))


def test_frame_folder_is_read_in_name_order(frame_folder):
    paths = list_frames(str(frame_folder))
    assert [os.path.basename(p) for p in paths] == [
        '00000.png', '00001.png', '00002.png'
    ]
    assert count_frames(str(frame_folder)) == 3
    blue = [int(f[0, 0, 0]) for f in iter_frames(str(frame_folder))]
    assert blue == [100, 120, 140]  # BGR: value + 80 first
    picked = list(iter_frames(str(frame_folder), [0, 2]))
    np.testing.assert_array_equal(picked[1], coloured(60)[..., ::-1])


def test_frame_indices_are_checked(frame_folder, tmp_path):
    with pytest.raises(IndexError, match='has 3 frames'):
        list(iter_frames(str(frame_folder), [1, 3]))
    with pytest.raises(ValueError, match='increasing'):
        list(iter_frames(str(frame_folder), [2, 1]))
    with pytest.raises(FileNotFoundError, match='nowhere'):
        list(iter_frames(str(tmp_path / 'nowhere')))
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(ValueError, match=r'no image files .* folder .*empty$'):
        list_frames(str(empty))


def test_single_image_is_frame_zero(tmp_path):
    path = str(tmp_path / 'one.png')
    write_image(coloured(0), path)
    assert count_frames(path) == 1
    assert len(list(iter_frames(path, [0]))) == 1
    with pytest.raises(IndexError, match='single image'):
        list(iter_frames(path, [1]))


def test_gif_holds_the_frames_and_their_duration(tmp_path):
    out = str(tmp_path / 'clip.gif')
    write_video([coloured(v) for v in (0, 80, 160)], out, fps=4)
    with Image.open(out) as gif:
        assert gif.n_frames == 3 and gif.size == (12, 8)
        assert gif.info['duration'] == 250
        gif.seek(1)
        np.testing.assert_array_equal(
            np.asarray(gif.convert('RGB'))[0, 0], (80, 120, 160))


@pytest.mark.parametrize('ext', ['.mp4', '.webm'])
def test_video_is_read_back_frame_by_frame(tmp_path, ext):
    out = str(tmp_path / f'clip{ext}')
    frames = [coloured(v, (16, 16)) for v in (0, 60, 120, 160)]
    write_video(frames, out, fps=5)
    assert count_frames(out) == 4
    picked = list(iter_frames(out, [1, 3]))
    assert [f.shape for f in picked] == [(16, 16, 3)] * 2
    # Lossy codec: the flat colours survive to a few grey levels.
    for frame, value in zip(picked, (60, 160)):
        assert np.abs(frame.astype(int) -
                      coloured(value, (16, 16))[..., ::-1]).mean() < 8
    with pytest.raises(IndexError, match='has 4 frames'):
        list(iter_frames(out, [4]))
    assert os.listdir(tmp_path) == [f'clip{ext}']


def test_write_video_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match='no frames .*clip.mp4'):
        write_video([], str(tmp_path / 'clip.mp4'))
    with pytest.raises(ValueError, match='fps'):
        write_video([coloured(0)], str(tmp_path / 'clip.mp4'), fps=0)
    with pytest.raises(ValueError, match='frame 1 is'):
        write_video([coloured(0), coloured(0, (4, 4))],
                    str(tmp_path / 'clip.mp4'))
    with pytest.raises(ValueError, match=r'clip.avi: .*"\.avi"'):
        write_video([coloured(0)], str(tmp_path / 'clip.avi'))
    assert os.listdir(tmp_path) == []
