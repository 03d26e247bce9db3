"""The web demo's input checks (demo/web/inputs.py), without a server."""
import os.path as osp
import zipfile

import cv2
import numpy as np
import pytest
from PIL import Image
# web_demo_utils puts demo/ on sys.path, where the package `web` lives.
from web_demo_utils import NUM_FRAMES, moving_squares
from web import inputs

from mmhvc.datasets.synthetic import write_demo_videos


def test_mask_checks_size_and_objects():
    mask = np.zeros((4, 6), np.uint8)
    with pytest.raises(ValueError, match='empty'):
        inputs.check_mask(mask, (4, 6), 'm.png')
    with pytest.raises(ValueError, match='empty'):
        inputs.check_mask(np.full((4, 6), 255, np.uint8), (4, 6),
                                  'm.png')
    mask[1, 1] = 3
    with pytest.raises(inputs.MaskSizeError, match='m.png is 6x4') as e:
        inputs.check_mask(mask, (8, 12), 'm.png')
    assert e.value.mask_size == (4, 6) and e.value.frame_size == (8, 12)
    assert inputs.check_mask(mask, (4, 6), 'm.png') is mask


def test_mask_upload_binary_resized_and_rgb(tmp_path):
    binary = np.zeros((4, 6), np.uint8)
    binary[1:3, 2:5] = 255
    path = str(tmp_path / 'binary.png')
    Image.fromarray(binary, 'L').save(path)
    mask, palette = inputs.read_mask_upload(path, (4, 6), False)
    np.testing.assert_array_equal(mask, (binary == 255).astype(np.uint8))
    assert palette is None
    with pytest.raises(inputs.MaskSizeError):
        inputs.read_mask_upload(path, (8, 12), False, 'mine.png')
    resized, _ = inputs.read_mask_upload(path, (8, 12), True)
    np.testing.assert_array_equal(resized, np.kron(mask, np.ones((2, 2))))
    rgb = str(tmp_path / 'rgb.png')
    Image.new('RGB', (6, 4)).save(rgb)
    with pytest.raises(ValueError, match='mine.png is a "RGB" image'):
        inputs.read_mask_upload(rgb, (4, 6), False, 'mine.png')


def write_frames_zip(path, frames, folder='clip/'):
    with zipfile.ZipFile(path, 'w') as archive:
        for t, frame in enumerate(frames):
            ok, data = cv2.imencode('.png', frame)
            archive.writestr(f'{folder}{t:03d}.png', data.tobytes())
        archive.writestr('__MACOSX/clip/._000.png', b'resource fork')
        archive.writestr(f'{folder}.hidden.png', b'not an image')
        archive.writestr(f'{folder}notes.txt', b'not a frame')


def test_zip_of_frames_is_flattened_and_read(tmp_path):
    frames, _ = moving_squares()
    path = str(tmp_path / 'frames.zip')
    write_frames_zip(path, frames)
    read, names = inputs.read_upload(path, str(tmp_path / 'work'))
    assert names == [f'{t:03d}' for t in range(NUM_FRAMES)]
    for got, want in zip(read, frames):
        np.testing.assert_array_equal(got, want)


def test_bad_uploads_name_the_file(tmp_path):
    garbage = tmp_path / 'upload.mp4'
    garbage.write_bytes(b'\x00not a video at all' * 20)
    with pytest.raises(ValueError, match='holiday.mp4'):
        inputs.read_upload(str(garbage), str(tmp_path), 'holiday.mp4')
    with pytest.raises(ValueError, match='x.zip is not a readable zip'):
        inputs.read_upload(str(garbage), str(tmp_path), 'x.zip')
    empty = str(tmp_path / 'empty.zip')
    with zipfile.ZipFile(empty, 'w') as archive:
        archive.writestr('readme.txt', 'hi')
    with pytest.raises(ValueError, match='holds no image files'):
        inputs.read_upload(empty, str(tmp_path / 'w1'))
    twice = str(tmp_path / 'twice.zip')
    with zipfile.ZipFile(twice, 'w') as archive:
        for folder in ('a', 'b'):
            archive.writestr(f'{folder}/00000.png', b'x')
    with pytest.raises(ValueError, match='several frames named 00000.png'):
        inputs.read_upload(twice, str(tmp_path / 'w2'))
    single = str(tmp_path / 'single.zip')
    write_frames_zip(single, moving_squares(num_frames=1)[0])
    with pytest.raises(ValueError, match='single frame'):
        inputs.read_upload(single, str(tmp_path / 'w3'))


def test_cap_frames():
    frames, names = list(range(5)), list('abcde')
    assert inputs.cap_frames(frames, names, None) == (frames, names)
    assert inputs.cap_frames(frames, names, 3) == ([0, 1, 2], list('abc'))
    with pytest.raises(ValueError, match='at least 2'):
        inputs.cap_frames(frames, names, 1)


def test_duration_check_gives_the_frames_that_fit():
    assert inputs.frame_budget(2.5, 10.) == 25
    assert inputs.frame_budget(2.5, 0.1) == 2
    assert inputs.check_duration(10, 2.0, 5.0, 'cpu') == 5.0
    with pytest.raises(inputs.TooLongError, match='about 5 s on cpu') as e:
        inputs.check_duration(10, 2.0, 4.0, 'cpu')
    assert e.value.frame_budget == 8
    with pytest.raises(inputs.TooLongError) as e:
        inputs.check_duration(10, 0.01, 1.0, 'cpu')
    assert e.value.frame_budget == 2


def test_measure_speed_is_positive(model):
    frames, _ = moving_squares()
    assert inputs.measure_speed(model, frames) > 0


def test_demo_videos_are_listed_with_their_first_mask(tmp_path):
    write_demo_videos(str(tmp_path), num_videos=2, size=(48, 64),
                      num_frames=6)
    videos = inputs.list_demo_videos(str(tmp_path))
    assert list(videos) == ['demo00', 'demo01']
    assert videos['demo01'] == osp.join(str(tmp_path), 'JPEGImages', '480p',
                                        'demo01')
    mask = inputs.demo_first_mask(str(tmp_path), 'demo00')
    assert mask.endswith(osp.join('demo00', '00000.png'))
    assert inputs.demo_first_mask(str(tmp_path), 'demo09') is None
    assert inputs.list_demo_videos(str(tmp_path / 'nothing')) == {}
