"""demo/video_demo.py and the inference API on a short generated video."""
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from mmhvc.apis import (init_model, propagate_masks, read_first_mask,
                        read_video)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'propagation', 'demo_davis_r18.py')


def moving_square_video(path, num_frames=5, size=(40, 56)):
    """A textured square that moves right by 4 pixels per frame."""
    rng = np.random.default_rng(0)
    background = rng.integers(0, 120, size + (3, ), dtype=np.uint8)
    texture = rng.integers(120, 256, (12, 12, 3), dtype=np.uint8)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 5,
                             (size[1], size[0]))
    for t in range(num_frames):
        frame = background.copy()
        frame[14:26, 8 + 4 * t:20 + 4 * t] = texture
        writer.write(frame)
    writer.release()
    mask = np.zeros(size, np.uint8)
    mask[14:26, 8:20] = 1
    return mask


def moved(mask, t):
    """The mask of frame ``t`` of :func:`moving_square_video`."""
    return np.roll(mask, 4 * t, axis=1)


def save_mask(path, mask):
    image = Image.fromarray(mask, mode='P')
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.save(path)


def run(*args):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, 'demo/video_demo.py', *args],
                          cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope='module')
def video(tmp_path_factory):
    root = tmp_path_factory.mktemp('video')
    path = str(root / 'clip.mp4')
    mask = moving_square_video(path)
    save_mask(str(root / 'first.png'), mask)
    save_mask(str(root / 'small.png'), mask[::2, ::2])
    save_mask(str(root / 'last.png'), moved(mask, 4))
    ckpt = str(root / 'random.pth')
    subprocess.run([
        sys.executable, 'tools/analysis_tools/random_init_checkpoint.py',
        CONFIG, ckpt
    ], cwd=REPO, check=True, capture_output=True)
    return root, ckpt


def test_video_file_gives_one_mask_per_frame_and_overlay(video, tmp_path):
    root, ckpt = video
    out = str(tmp_path / 'out')
    result = run(str(root / 'clip.mp4'), str(root / 'first.png'), CONFIG,
                 ckpt, '--out', out)
    assert result.returncode == 0, result.stderr[-2000:]
    masks = sorted(os.listdir(osp.join(out, 'masks')))
    assert masks == [f'{i:05d}.png' for i in range(5)]
    first = Image.open(osp.join(out, 'masks', masks[0]))
    assert first.mode == 'P' and first.size == (56, 40)
    np.testing.assert_array_equal(
        np.array(first), np.array(Image.open(root / 'first.png')))
    frames, _ = read_video(osp.join(out, 'overlay.mp4'))
    assert len(frames) == 5 and frames[0].shape == (40, 56, 3)
    assert 'propagated 5 frames in ' in result.stdout
    assert ' frames/s' in result.stdout


def test_start_frame_and_backward_propagation(video, tmp_path):
    root, ckpt = video
    out = str(tmp_path / 'out')
    result = run(str(root / 'clip.mp4'), str(root / 'last.png'), CONFIG,
                 ckpt, '--out', out, '--start-frame', '4', '--direction',
                 'backward')
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'propagated 5 frames in ' in result.stdout
    written = np.stack([
        np.array(Image.open(osp.join(out, 'masks', f'{t:05d}.png')))
        for t in range(5)
    ])
    frames, _ = read_video(str(root / 'clip.mp4'))
    last, _ = read_first_mask(str(root / 'last.png'))
    expected = propagate_masks(
        init_model(CONFIG, ckpt), frames, {4: last}, 'backward')
    np.testing.assert_array_equal(written, expected)
    np.testing.assert_array_equal(written[4], last)
    result = run(str(root / 'clip.mp4'), str(root / 'last.png'), CONFIG,
                 ckpt, '--out', out, '--start-frame', '5')
    assert result.returncode != 0
    assert '--start-frame 5 is outside the video' in result.stderr


def test_mask_of_another_size_is_refused_or_resized(video, tmp_path):
    root, ckpt = video
    result = run(str(root / 'clip.mp4'), str(root / 'small.png'), CONFIG,
                 ckpt, '--out', str(tmp_path / 'a'))
    assert result.returncode != 0
    assert 'small.png' in result.stderr and '--resize-mask' in result.stderr
    result = run(str(root / 'clip.mp4'), str(root / 'small.png'), CONFIG,
                 ckpt, '--out', str(tmp_path / 'b'), '--resize-mask')
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(os.listdir(tmp_path / 'b' / 'masks')) == 5


def test_unreadable_inputs_name_the_file(tmp_path):
    broken = tmp_path / 'broken.mp4'
    broken.write_bytes(b'not a video')
    with pytest.raises(ValueError, match='broken.mp4'):
        read_video(str(broken))
    with pytest.raises(FileNotFoundError, match='missing'):
        read_video(str(tmp_path / 'missing'))
    with pytest.raises(FileNotFoundError, match='nomask.png'):
        read_first_mask(str(tmp_path / 'nomask.png'))
    rgb = tmp_path / 'rgb.png'
    Image.new('RGB', (4, 4)).save(rgb)
    with pytest.raises(ValueError, match='rgb.png'):
        read_first_mask(str(rgb))
