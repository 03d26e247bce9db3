"""The web demo's JSON API (demo/web/server.py) through Flask's test
client: each kind of bad input gets a message, and the server goes on."""
import base64
import io
import json
import time
import zipfile

import cv2
import numpy as np
import pytest
from PIL import Image
from web_demo_utils import CONFIG, NUM_FRAMES, SIZE, moving_squares

from mmhvc.apis import propagate_mask, read_video

pytest.importorskip('flask', reason='the web demo needs Flask '
                    '(pip install -r requirements/optional.txt)')
from web.server import DemoServer, DemoSettings, create_app  # noqa: E402


@pytest.fixture
def server(model, checkpoint, tmp_path):
    settings = DemoSettings(
        config=CONFIG,
        checkpoint=checkpoint,
        device='cpu',
        max_seconds=600.,
        temperature=0.1)
    return DemoServer(model, settings, str(tmp_path / 'work'),
                      str(tmp_path / 'no_demos'))


@pytest.fixture
def client(server):
    return create_app(server).test_client()


def upload(client, path, name=None):
    with open(path, 'rb') as f:
        return client.post(
            '/api/video', data=dict(video=(f, name or path.split('/')[-1])))


def run(client, video, **form):
    return client.post('/api/run', data=dict(video=video, **form))


def wait(client, key, timeout=60.):
    deadline = time.time() + timeout
    while time.time() < deadline:
        report = client.get(f'/api/run/{key}').get_json()
        if report['state'] != 'running':
            return report
        time.sleep(0.05)
    raise TimeoutError(f'run {key} did not finish in {timeout} s')


def zip_masks(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            name[:-len('.png')]:
            np.asarray(Image.open(io.BytesIO(archive.read(name))))
            for name in archive.namelist() if name.endswith('.png')
        }


def png_file(mask, name='mask.png'):
    buffer = io.BytesIO()
    Image.fromarray(mask, 'L').save(buffer, format='PNG')
    buffer.seek(0)
    return buffer, name


def test_page_names_the_checkpoint_or_says_random(server, client):
    page = client.get('/').get_data(as_text=True)
    assert 'random.pth' in page and 'random initialisation' not in page
    server.settings.checkpoint = None
    page = client.get('/').get_data(as_text=True)
    assert 'id="random-init">random initialisation' in page


def test_upload_run_and_download(client, model, clip):
    info = upload(client, clip[0]).get_json()
    assert (info['num_frames'], info['width'], info['height']) == \
        (NUM_FRAMES, SIZE[1], SIZE[0])
    assert info['frames_per_second'] > 0 and not info['too_long']
    frame = cv2.imdecode(
        np.frombuffer(
            client.get(f'/api/video/{info["video"]}/frame/0').data,
            np.uint8), cv2.IMREAD_COLOR)
    frames, _ = read_video(clip[0])
    np.testing.assert_array_equal(frame, frames[0])
    with open(clip[1], 'rb') as f:
        answer = run(client, info['video'], source='file',
                     mask=(f, 'first.png'))
    assert answer.status_code == 200, answer.get_json()
    report = wait(client, answer.get_json()['run'])
    assert report['state'] == 'done', report
    assert report['done'] == report['total'] == NUM_FRAMES
    masks = zip_masks(client.get(report['masks']).data)
    expected = propagate_mask(model, frames, clip[2])
    assert sorted(masks) == [f'{t:05d}' for t in range(NUM_FRAMES)]
    for t in range(NUM_FRAMES):
        np.testing.assert_array_equal(masks[f'{t:05d}'], expected[t])
    assert client.get(report['video']).status_code == 200
    assert client.get(report['mp4']).data[4:8] == b'ftyp'
    overlay = client.get(f'{report["frame"]}{NUM_FRAMES - 1}')
    assert overlay.mimetype == 'image/png'
    assert client.get(f'{report["frame"]}{NUM_FRAMES}').status_code == 404


def test_unreadable_video_gets_a_message_and_server_goes_on(client, clip,
                                                            tmp_path):
    bad = tmp_path / 'broken.mp4'
    bad.write_bytes(b'this is no video' * 64)
    answer = upload(client, str(bad), 'holiday.mp4')
    assert answer.status_code == 400
    assert 'holiday.mp4' in answer.get_json()['error']
    answer = client.post('/api/video', data={})
    assert answer.status_code == 400 and 'choose a video' in \
        answer.get_json()['error']
    assert upload(client, clip[0]).status_code == 200


def test_zip_of_frames(client, tmp_path):
    frames, mask = moving_squares()
    path = tmp_path / 'frames.zip'
    with zipfile.ZipFile(path, 'w') as archive:
        for t, frame in enumerate(frames):
            archive.writestr(f'clip/{t:02d}.png',
                             cv2.imencode('.png', frame)[1].tobytes())
    info = upload(client, str(path)).get_json()
    assert info['num_frames'] == NUM_FRAMES
    key = run(client, info['video'], source='file',
              mask=png_file(mask)).get_json()['run']
    report = wait(client, key)
    assert sorted(zip_masks(client.get(report['masks']).data)) == \
        [f'{t:02d}' for t in range(NUM_FRAMES)]


def test_wrong_size_mask_is_refused_then_resized(client, clip):
    key = upload(client, clip[0]).get_json()['video']
    small = clip[2][::2, ::2]
    answer = run(client, key, source='file', mask=png_file(small, 's.png'))
    body = answer.get_json()
    assert answer.status_code == 400 and body['kind'] == 'mask_size'
    assert 's.png is 32x32 (WxH) but the video is 64x64' in body['error']
    answer = run(client, key, source='file', resize='1',
                 mask=png_file(small, 's.png'))
    report = wait(client, answer.get_json()['run'])
    first = zip_masks(client.get(report['masks']).data)['00000']
    np.testing.assert_array_equal(first, np.kron(small, np.ones((2, 2))))


def test_empty_and_missing_masks(client, clip):
    key = upload(client, clip[0]).get_json()['video']
    empty = np.zeros(SIZE, np.uint8)
    answer = run(client, key, source='file', mask=png_file(empty, 'e.png'))
    assert answer.status_code == 400
    assert 'e.png is empty' in answer.get_json()['error']
    answer = run(client, key, source='paint', layers='[]')
    assert 'no painted layer' in answer.get_json()['error']
    answer = run(client, key, source='file')
    assert 'choose a mask PNG' in answer.get_json()['error']
    answer = run(client, key, source='demo')
    assert 'comes with no mask' in answer.get_json()['error']
    answer = run(client, 'unknown', source='file')
    assert 'no longer on the server' in answer.get_json()['error']


def layer_url(layer):
    buffer = io.BytesIO()
    Image.fromarray(layer, 'RGBA').save(buffer, format='PNG')
    return 'data:image/png;base64,' + base64.b64encode(
        buffer.getvalue()).decode()


def test_painted_layers_run(client, model, clip):
    key = upload(client, clip[0]).get_json()['video']
    layers = np.zeros((2, ) + SIZE + (4, ), np.uint8)
    layers[0, 8:22, 6:20] = (128, 0, 0, 255)
    layers[1, 36:50, 30:44] = (0, 128, 0, 255)
    answer = run(client, key, source='paint',
                 layers=json.dumps([layer_url(x) for x in layers]))
    report = wait(client, answer.get_json()['run'])
    masks = zip_masks(client.get(report['masks']).data)
    frames, _ = read_video(clip[0])
    expected = propagate_mask(model, frames, clip[2])
    np.testing.assert_array_equal(masks['00000'], clip[2])
    np.testing.assert_array_equal(masks[f'{NUM_FRAMES - 1:05d}'],
                                  expected[-1])
    answer = run(client, key, source='paint', layers='["data:x,abc"]')
    assert 'base64 data URL' in answer.get_json()['error']


def test_too_long_video_offers_a_frame_cap(server, client, clip):
    info = upload(client, clip[0]).get_json()
    server.settings.max_seconds = 3.5 / info['frames_per_second']
    with open(clip[1], 'rb') as f:
        answer = run(client, info['video'], source='file',
                     mask=(f, 'first.png'))
    body = answer.get_json()
    assert answer.status_code == 400 and body['kind'] == 'too_long'
    assert body['frame_budget'] == 3
    assert f'{NUM_FRAMES} frames would take about' in body['error']
    with open(clip[1], 'rb') as f:
        answer = run(client, info['video'], source='file', max_frames='3',
                     mask=(f, 'first.png'))
    report = wait(client, answer.get_json()['run'])
    assert report['total'] == 3
    assert sorted(zip_masks(client.get(report['masks']).data)) == \
        ['00000', '00001', '00002']
    with open(clip[1], 'rb') as f:
        answer = run(client, info['video'], source='file', max_frames='x',
                     mask=(f, 'first.png'))
    assert 'whole number' in answer.get_json()['error']


def test_heatmap(client, clip):
    key = upload(client, clip[0]).get_json()['video']
    answer = client.post(
        '/api/heatmap', json=dict(video=key, frame_a=0, frame_b=3, x=12,
                                  y=14))
    assert answer.mimetype == 'image/png'
    image = cv2.imdecode(np.frombuffer(answer.data, np.uint8), 1)
    assert image.shape[1] >= 2 * SIZE[1]
    answer = client.post(
        '/api/heatmap', json=dict(video=key, frame_a=0, frame_b=9, x=1, y=1))
    assert answer.status_code == 400 and 'frame 9 is outside' in \
        answer.get_json()['error']
    answer = client.post(
        '/api/heatmap', json=dict(video=key, frame_a=0, frame_b=1, x=99,
                                  y=1))
    assert 'outside' in answer.get_json()['error']
