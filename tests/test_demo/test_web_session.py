"""The web demo's session (demo/web/session.py): painted layers to masks,
annotations, runs equal to the API's, result files; no server."""
import io
import zipfile

import numpy as np
import pytest
from PIL import Image
from web_demo_utils import NUM_FRAMES, SIZE, moving_squares
from web import session as web_session

from mmhvc.apis import propagate_masks, read_video
from mmhvc.datasets import davis_palette


def painted(size, box, rgb, alpha=255):
    """An RGBA layer painted in colour ``rgb`` inside ``box`` ``(y1, y2,
    x1, x2)``."""
    layer = np.zeros(size + (4, ), np.uint8)
    y1, y2, x1, x2 = box
    layer[y1:y2, x1:x2] = (*rgb, alpha)
    return layer


def test_brush_colours_are_background_then_the_objects():
    colours = web_session.brush_colours(3)
    palette = davis_palette()
    assert colours[0] == '#000000'
    assert colours[1:] == [
        '#%02x%02x%02x' % tuple(int(v) for v in palette[i]) for i in (1, 2, 3)
    ]


def test_a_layer_gives_the_id_of_the_nearest_brush_colour():
    palette = davis_palette().astype(int)
    layer = painted((4, 6), (0, 2, 0, 3), palette[2])
    # an antialiased edge pixel, a little off object 3's colour
    layer[3, 5] = (*np.clip(palette[3] + 9, 0, 255), 200)
    layer[3, 0] = (*palette[1], web_session.PAINT_ALPHA - 1)
    layer[2, 4] = (0, 0, 0, 255)  # the background brush
    ids = web_session.layer_to_ids(layer)
    expected = np.full((4, 6), -1)
    expected[0:2, 0:3] = 2
    expected[3, 5] = 3
    expected[2, 4] = 0
    np.testing.assert_array_equal(ids, expected)
    with pytest.raises(ValueError, match='RGBA'):
        web_session.layer_to_ids(np.zeros((4, 6, 3), np.uint8))


def test_painting_replaces_the_base_mask_where_painted():
    palette = davis_palette()
    base = np.zeros((4, 6), np.uint8)
    base[:, :2] = 1
    first = painted((4, 6), (0, 4, 1, 3), palette[0])  # background
    second = painted((4, 6), (1, 2, 0, 6), palette[4])  # object 4 on top
    mask = web_session.editor_mask(dict(layers=[first, None, second]), base)
    expected = base.copy()
    expected[:, 1:3] = 0
    expected[1] = 4
    np.testing.assert_array_equal(mask, expected)
    assert mask.dtype == np.uint8
    np.testing.assert_array_equal(web_session.editor_mask(None, base), base)
    with pytest.raises(ValueError, match='layer 1 is 4x6'):
        web_session.editor_mask(dict(layers=[np.zeros((6, 4, 4))]), base)


@pytest.fixture
def video(model, clip, tmp_path):
    frames, names = read_video(clip[0])
    return web_session.VideoSession(model, frames, names, 'squares.mp4',
                                    10., str(tmp_path / 'results'))


def test_annotations_start_frame_and_corrections(video, clip):
    mask = clip[2]
    # nothing painted on a frame without result: no annotation
    assert not video.annotate(1, np.zeros(SIZE, np.uint8))
    assert video.start is None
    assert video.annotate(2, mask) and video.start == 2
    assert not video.annotate(2, mask.copy())
    assert video.annotate(4, np.roll(mask, 3, axis=1))
    assert sorted(video.annotations) == [2, 4] and video.start == 2
    assert video.frames_to_run('both') == NUM_FRAMES + 1
    assert video.frames_to_run('backward') == 3
    with pytest.raises(ValueError, match='outside the video'):
        video.annotate(NUM_FRAMES, mask)
    video.clear()
    assert video.annotations == {} and video.start is None
    with pytest.raises(ValueError, match='no annotation yet'):
        video.iter_run('forward', {}, None)


def test_runs_with_a_correction_equal_one_api_call(video, model, clip):
    frames, first = moving_squares()
    video.annotate(0, clip[2])
    settings = dict(context_size=2, topk=5, radius=6., temperature=0.2)
    assert list(video.iter_run('forward', settings, 480)) == list(
        range(NUM_FRAMES))
    shown = video.shown_mask(3).copy()
    corrected = shown.copy()
    corrected[:8] = 2
    assert video.annotate(3, corrected)
    # the second run restarts from the corrected frame
    assert list(video.iter_run('forward', settings, 480)) == list(
        range(3, NUM_FRAMES))
    arguments = video.api_arguments(settings, 480)
    assert arguments['start'] == 0 and sorted(arguments['annotations']) == [
        0, 3
    ]
    np.testing.assert_array_equal(
        video.masks, propagate_masks(model, video.frames, **arguments))
    # other settings: a new runner, all frames again
    assert len(list(video.iter_run('forward', dict(settings, topk=3),
                                   480))) == NUM_FRAMES


def test_results_heat_map_and_overlay(video, clip):
    video.annotate(0, clip[2])
    list(video.iter_run('forward', {}, None))
    files = video.write_results(fps=5.)
    assert files['masks'].endswith('run1/masks.zip')
    with zipfile.ZipFile(files['masks']) as archive:
        assert sorted(archive.namelist()) == [
            f'{t:05d}.png' for t in range(NUM_FRAMES)
        ]
        for t, mask in enumerate(video.masks):
            image = Image.open(io.BytesIO(archive.read(f'{t:05d}.png')))
            assert image.mode == 'P'
            np.testing.assert_array_equal(np.asarray(image), mask)
    for key in ('mp4', 'webm'):
        read, _ = read_video(files[key])
        assert len(read) == NUM_FRAMES and read[0].shape == SIZE + (3, )
    assert video.write_results(fps=5.)['mp4'].endswith('run2/overlay.mp4')
    overlay = video.overlay(0)
    # object 1 (rows 8-21, columns 6-19) is blended with DAVIS red (128, 0,
    # 0): inside its contour, green and blue are about halved
    inside = np.zeros(SIZE, bool)
    inside[10:20, 8:18] = True
    for channel in (1, 2):
        ratio = overlay[inside][:, channel].mean() / \
            video.rgb[0][inside][:, channel].mean()
        assert 0.4 < ratio < 0.65
    np.testing.assert_array_equal(overlay[30:34], video.rgb[0][30:34])
    image = video.heatmap(0, 3, (12., 14.), 0.1)
    assert image.dtype == np.uint8 and image.shape[1] >= 2 * SIZE[1]
    with pytest.raises(ValueError, match='frame 9 is outside'):
        video.heatmap(0, 9, (12., 14.), 0.1)
