"""tools/analysis_tools/benchmark_propagation.py on tiny inputs."""
import importlib.util
import os
import os.path as osp
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'benchmark_propagation.py')


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('benchmark_propagation',
                                                  TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(*args):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    result = subprocess.run([sys.executable, TOOL, *args, '--threads', '1'],
                            cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def write_frames(folder, num, seed, size=(40, 56)):
    os.makedirs(folder)
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (size[0], size[1] + num, 3), dtype=np.uint8)
    for t in range(num):  # content panning one pixel per frame
        cv2.imwrite(osp.join(folder, f'{t:05d}.jpg'),
                    np.ascontiguousarray(base[:, t:t + size[1]]))


def phase_rows(text):
    rows = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) == 7 and words[1] in ('early', 'steady', 'whole'):
            rows[(words[0], words[1])] = words[2:]
    return rows


def test_random_features_agree_with_the_dense_reference():
    text = run('--grid', '6', '8', '--channels', '8', '--labels', '3',
               '--context-size', '3', '--start-frame', '4', '--frames', '2',
               '--dense-frames', '2')
    lines = text.splitlines()
    assert lines[0].startswith('grid 6x8, C=8, L=3, context 3 + long-term')
    assert 'random features' in lines[0]
    rows = phase_rows(text)
    # Early frames 1-2, steady frames 4-5, the whole video 1-5.
    assert [rows[('random', p)][0] for p in ('early', 'steady', 'whole')] \
        == ['1-2', '4-5', '1-5']
    assert 'max |dense - windowed| over 2 frames' in text
    agreement = re.search(r'argmax agreement over 4 frames \(early and '
                          r'steady\): (\S+);', text)
    assert float(agreement.group(1)) == 1.0
    for variant in ('dense', 'windowed'):
        (row, ) = [line.split() for line in lines
                   if line.split()[:1] == [variant]]
        assert len(row) == 7 and row[1] == '2'


def test_real_frames_of_each_video_are_encoded(tmp_path):
    root = str(tmp_path / 'videos')
    write_frames(osp.join(root, 'pan_a'), 6, seed=0)
    write_frames(osp.join(root, 'pan_b'), 5, seed=1)
    text = run('--data', root, '--image-size', '40', '56', '--context-size',
               '2', '--labels', '2')
    assert text.splitlines()[0].startswith('grid 5x7, C=256, L=2, context 2')
    assert 'real features (demo_davis_r18.py, random initialisation)' in text
    rows = phase_rows(text)
    assert rows[('pan_a', 'steady')][0] == '3'
    assert rows[('pan_a', 'whole')][0] == '1-5'
    assert rows[('pan_b', 'whole')][0] == '1-4'
    agreement = re.search(r'argmax agreement over 6 frames .*: (\S+);', text)
    assert float(agreement.group(1)) > 0.9


def test_videos_of_a_davis_root_and_of_one_folder(tool, tmp_path):
    davis = tmp_path / 'davis' / 'JPEGImages' / '480p'
    write_frames(str(davis / 'b'), 2, seed=0)
    write_frames(str(davis / 'a'), 3, seed=1)
    videos = tool.list_videos(str(tmp_path / 'davis'))
    assert list(videos) == ['a', 'b'] and len(videos['a']) == 3
    single = tool.list_videos(str(davis / 'a'))
    assert list(single) == ['a'] and single['a'] == videos['a']
    with pytest.raises(FileNotFoundError, match='no frames found'):
        tool.list_videos(str(tmp_path))
    with pytest.raises(FileNotFoundError, match='no such folder'):
        tool.list_videos(str(tmp_path / 'missing'))


def test_synthetic_flags_select_random_features(tool):
    assert tool.parse_args(['--grid', '4', '4']).features == 'random'
    assert tool.parse_args([]).features == 'real'
    with pytest.raises(SystemExit):
        tool.parse_args(['--features', 'real', '--channels', '8'])
