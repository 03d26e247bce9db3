"""The web demo's plain functions (demo/web/pipeline.py), no server."""
import importlib.util
import io
import os
import os.path as osp
import zipfile

import cv2
import numpy as np
import pytest
from PIL import Image
# web_demo_utils puts demo/ on sys.path, where the package `web` lives.
from web_demo_utils import NUM_FRAMES, REPO, SIZE, moving_squares
from web import pipeline

from mmhvc.apis import propagate_mask, read_video


def rgba_layer(size, box, alpha=255):
    """An RGBA layer painted (in an arbitrary colour) inside ``box``
    ``(y1, y2, x1, x2)``."""
    layer = np.zeros(size + (4, ), np.uint8)
    y1, y2, x1, x2 = box
    layer[y1:y2, x1:x2] = (10, 200, 30, alpha)
    return layer


def test_painted_layers_give_one_id_per_layer_later_on_top():
    first = rgba_layer((8, 10), (0, 4, 0, 6))
    second = rgba_layer((8, 10), (2, 8, 4, 10))
    faint = rgba_layer((8, 10), (6, 8, 0, 2), alpha=pipeline.PAINT_ALPHA - 1)
    mask = pipeline.painted_layers_to_mask([first, second, faint], (8, 10))
    expected = np.zeros((8, 10), np.uint8)
    expected[0:4, 0:6] = 1
    expected[2:8, 4:10] = 2
    np.testing.assert_array_equal(mask, expected)
    assert mask.dtype == np.uint8


def test_painted_layers_are_checked():
    with pytest.raises(ValueError, match='no painted layer'):
        pipeline.painted_layers_to_mask([], (8, 10))
    with pytest.raises(ValueError, match='layer 2 has shape'):
        pipeline.painted_layers_to_mask(
            [rgba_layer((8, 10), (0, 1, 0, 1)),
             rgba_layer((10, 8), (0, 1, 0, 1))], (8, 10))


def test_decode_layer_reads_png_bytes():
    layer = rgba_layer((5, 7), (1, 3, 2, 5))
    buffer = io.BytesIO()
    Image.fromarray(layer, 'RGBA').save(buffer, format='PNG')
    np.testing.assert_array_equal(
        pipeline.decode_layer(buffer.getvalue()), layer)
    with pytest.raises(ValueError, match='not a readable image'):
        pipeline.decode_layer(b'not an image')


def test_first_mask_checks_size_and_objects():
    mask = np.zeros((4, 6), np.uint8)
    with pytest.raises(ValueError, match='empty'):
        pipeline.check_first_mask(mask, (4, 6), 'm.png')
    with pytest.raises(ValueError, match='empty'):
        pipeline.check_first_mask(np.full((4, 6), 255, np.uint8), (4, 6),
                                  'm.png')
    mask[1, 1] = 3
    with pytest.raises(pipeline.MaskSizeError, match='m.png is 6x4') as e:
        pipeline.check_first_mask(mask, (8, 12), 'm.png')
    assert e.value.mask_size == (4, 6) and e.value.frame_size == (8, 12)
    assert pipeline.check_first_mask(mask, (4, 6), 'm.png') is mask


def test_mask_upload_binary_resized_and_rgb(tmp_path):
    binary = np.zeros((4, 6), np.uint8)
    binary[1:3, 2:5] = 255
    path = str(tmp_path / 'binary.png')
    Image.fromarray(binary, 'L').save(path)
    mask, palette = pipeline.read_mask_upload(path, (4, 6), False)
    np.testing.assert_array_equal(mask, (binary == 255).astype(np.uint8))
    assert palette is None
    with pytest.raises(pipeline.MaskSizeError):
        pipeline.read_mask_upload(path, (8, 12), False, 'mine.png')
    resized, _ = pipeline.read_mask_upload(path, (8, 12), True)
    np.testing.assert_array_equal(resized, np.kron(mask, np.ones((2, 2))))
    rgb = str(tmp_path / 'rgb.png')
    Image.new('RGB', (6, 4)).save(rgb)
    with pytest.raises(ValueError, match='mine.png is a "RGB" image'):
        pipeline.read_mask_upload(rgb, (4, 6), False, 'mine.png')


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
    read, names = pipeline.read_upload(path, str(tmp_path / 'work'))
    assert names == [f'{t:03d}' for t in range(NUM_FRAMES)]
    for got, want in zip(read, frames):
        np.testing.assert_array_equal(got, want)


def test_bad_uploads_name_the_file(tmp_path):
    garbage = tmp_path / 'upload.mp4'
    garbage.write_bytes(b'\x00not a video at all' * 20)
    with pytest.raises(ValueError, match='holiday.mp4'):
        pipeline.read_upload(str(garbage), str(tmp_path), 'holiday.mp4')
    with pytest.raises(ValueError, match='x.zip is not a readable zip'):
        pipeline.read_upload(str(garbage), str(tmp_path), 'x.zip')
    empty = str(tmp_path / 'empty.zip')
    with zipfile.ZipFile(empty, 'w') as archive:
        archive.writestr('readme.txt', 'hi')
    with pytest.raises(ValueError, match='holds no image files'):
        pipeline.read_upload(empty, str(tmp_path / 'w1'))
    twice = str(tmp_path / 'twice.zip')
    with zipfile.ZipFile(twice, 'w') as archive:
        for folder in ('a', 'b'):
            archive.writestr(f'{folder}/00000.png', b'x')
    with pytest.raises(ValueError, match='several frames named 00000.png'):
        pipeline.read_upload(twice, str(tmp_path / 'w2'))
    single = str(tmp_path / 'single.zip')
    write_frames_zip(single, moving_squares(num_frames=1)[0])
    with pytest.raises(ValueError, match='single frame'):
        pipeline.read_upload(single, str(tmp_path / 'w3'))


def test_cap_frames():
    frames, names = list(range(5)), list('abcde')
    assert pipeline.cap_frames(frames, names, None) == (frames, names)
    assert pipeline.cap_frames(frames, names, 3) == ([0, 1, 2], list('abc'))
    with pytest.raises(ValueError, match='at least 2'):
        pipeline.cap_frames(frames, names, 1)


def test_duration_check_gives_the_frames_that_fit():
    assert pipeline.frame_budget(2.5, 10.) == 25
    assert pipeline.frame_budget(2.5, 0.1) == 2
    assert pipeline.check_duration(10, 2.0, 5.0, 'cpu') == 5.0
    with pytest.raises(pipeline.TooLongError, match='about 5 s on cpu') as e:
        pipeline.check_duration(10, 2.0, 4.0, 'cpu')
    assert e.value.frame_budget == 8
    with pytest.raises(pipeline.TooLongError) as e:
        pipeline.check_duration(10, 0.01, 1.0, 'cpu')
    assert e.value.frame_budget == 2


def test_measure_speed_is_positive(model):
    frames, _ = moving_squares()
    assert pipeline.measure_speed(model, frames) > 0


def test_progress_counts_every_frame_and_masks_match(model, clip):
    frames, _ = read_video(clip[0])
    seen = []
    masks = pipeline.propagate_with_progress(model, frames, clip[2],
                                             seen.append)
    assert seen == list(range(1, NUM_FRAMES + 1))
    np.testing.assert_array_equal(masks,
                                  propagate_mask(model, frames, clip[2]))
    assert not model.backbone._forward_hooks


def test_results_are_written(tmp_path):
    frames, first = moving_squares()
    masks = np.stack([np.roll(first, t, axis=1) for t in range(NUM_FRAMES)])
    names = [f'f{t}' for t in range(NUM_FRAMES)]
    palette = np.zeros((256, 3), np.uint8)
    palette[1], palette[2] = (255, 0, 0), (0, 0, 255)
    files = pipeline.write_results(str(tmp_path), frames, names, masks,
                                   palette)
    with zipfile.ZipFile(files.masks_zip) as archive:
        assert sorted(archive.namelist()) == sorted(f'{n}.png' for n in names)
        for name, mask in zip(names, masks):
            image = Image.open(io.BytesIO(archive.read(f'{name}.png')))
            assert image.mode == 'P'
            np.testing.assert_array_equal(np.asarray(image), mask)
            assert image.getpalette()[3:9] == [255, 0, 0, 0, 0, 255]
    for video in (files.overlay_mp4, files.overlay_webm):
        read, _ = read_video(video)
        assert len(read) == NUM_FRAMES and read[0].shape == SIZE + (3, )
    overlay = cv2.imread(files.overlay_frames[0])
    # object 1 is blended with red (BGR (0, 0, 255)): more red than before
    inside = (slice(10, 20), slice(8, 18))
    assert overlay[inside][..., 2].mean() > frames[0][inside][..., 2].mean()
    # rows 24-33 hold no object
    np.testing.assert_array_equal(overlay[24:34], frames[0][24:34])


def test_generated_demo_videos_are_the_tools_output(tmp_path):
    videos = pipeline.generate_demo_videos(
        str(tmp_path / 'page'), num_videos=1, size=(48, 64), num_frames=6)
    assert list(videos) == ['demo00']
    spec = importlib.util.spec_from_file_location(
        'make_demo_davis_cli',
        osp.join(REPO, 'tools', 'dataset_converters', 'make_demo_davis.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.main([
        str(tmp_path / 'tool'), '--num-seqs', '1', '--num-train-seqs', '0',
        '--size', '48x64', '--frames', '6', '6', '--objects', '2', '3'
    ])
    for sub in ('JPEGImages', 'Annotations'):
        page = tmp_path / 'page' / sub / '480p' / 'demo00'
        ref = tmp_path / 'tool' / sub / '480p' / 'demo00'
        assert sorted(os.listdir(page)) == sorted(os.listdir(ref))
        for name in os.listdir(ref):
            assert (page / name).read_bytes() == (ref / name).read_bytes()
    mask = pipeline.demo_first_mask(str(tmp_path / 'page'), 'demo00')
    assert mask.endswith(osp.join('demo00', '00000.png'))
    assert pipeline.list_demo_videos(str(tmp_path / 'nothing')) == {}


def test_correspondence_heatmap(model):
    frames, _ = moving_squares()
    image = pipeline.correspondence_heatmap(model, frames[0], frames[3],
                                            (12.0, 14.0), 0.1)
    assert image.dtype == np.uint8 and image.ndim == 3
    assert image.shape[0] >= SIZE[0] and image.shape[1] >= 2 * SIZE[1]
    with pytest.raises(ValueError, match='outside'):
        pipeline.correspondence_heatmap(model, frames[0], frames[3],
                                        (70.0, 3.0), 0.1)
