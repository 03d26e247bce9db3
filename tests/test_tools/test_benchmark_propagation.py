"""tools/analysis_tools/benchmark_propagation.py on tiny inputs."""
import importlib.util
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmhvc.models.propagation import LabelPropagator

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'benchmark_propagation.py')
# 40 x 56 frames: a 5 x 7 feature grid.
TINY = [
    '--image-size', '40', '56', '--cfg-options',
    'model.propagator.context_size=2', 'model.propagator.radius=3',
    'model.propagator.topk=4'
]


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('benchmark_propagation',
                                                  TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_frames(folder, num, seed, size=(40, 56)):
    os.makedirs(folder)
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (size[0], size[1] + num, 3), dtype=np.uint8)
    for t in range(num):  # content panning one pixel per frame
        cv2.imwrite(osp.join(folder, f'{t:05d}.jpg'),
                    np.ascontiguousarray(base[:, t:t + size[1]]))


@pytest.fixture
def videos(tmp_path):
    root = str(tmp_path / 'videos')
    write_frames(osp.join(root, 'pan_a'), 6, seed=0)
    write_frames(osp.join(root, 'pan_b'), 5, seed=1)
    return root


def run(tool, capsys, *args):
    tool.main(list(args))
    return capsys.readouterr().out


def summary_rows(text):
    """``(video, backend) -> numbers`` of the backends table."""
    rows = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) == 9 and words[1] in ('dense', 'windowed'):
            rows[words[0], words[1]] = [float(w) for w in words[2:]]
    return rows


@pytest.mark.parametrize('precision', [[], ['--fp16']])
def test_backends_on_real_frames(tool, videos, capsys, precision):
    text = run(tool, capsys, '--data', videos, *TINY, '--labels', '2',
               '--dense-stride', '2', *precision)
    assert text.startswith('grid 5x7, C=256, L=2; context 2 + long-term '
                           'frame (padded), top-k 4, radius 3.0')
    assert ('float16 autocast' if precision else 'float32') in text
    rows = summary_rows(text)
    # The windowed backend runs frames 1-5 of pan_a and 1-4 of pan_b; the
    # dense one every second frame from 1 and the first steady-state
    # frame 3: frames 1, 3, 5 and 1, 3.
    frames = {key: int(row[0]) for key, row in rows.items()}
    assert frames == {('pan_a', 'dense'): 3, ('pan_a', 'windowed'): 5,
                      ('pan_b', 'dense'): 2, ('pan_b', 'windowed'): 4,
                      ('all', 'dense'): 5, ('all', 'windowed'): 9}
    for row in rows.values():
        steady, fps, whole, whole_fps = row[1:5]
        assert steady > 0 and whole > 0
        assert fps == pytest.approx(1 / steady, rel=1e-3)
        assert whole_fps == pytest.approx(1 / whole, rel=1e-3)
    floor = re.search(r'floor over 5 steady-state frames: (\S+) s/frame; '
                      r'windowed at (\S+) of the floor', text)
    assert float(floor.group(1)) > 0 and float(floor.group(2)) > 0
    agreement = re.search(r'argmax agreement over 5 frames: (\S+);', text)
    assert float(agreement.group(1)) > 0.9


def test_floor_reports_work_and_time(tool, videos, capsys):
    text = run(tool, capsys, '--mode', 'floor', '--data', videos, *TINY,
               '--repeats', '1')
    assert text.startswith('pan_a, query frame 3: grid 5x7, C=256, 3 '
                           'context entries (3 distinct frames)')
    rows = [[cell.strip() for cell in line.split('|')[1:-1]]
            for line in text.splitlines() if line.startswith('| ')][1:]
    assert [row[0] for row in rows] == [
        'dense backend', 'windowed backend',
        'its matrix products alone (floor)', rows[3][0]
    ]
    assert rows[3][0].startswith('least work at ')
    work = [float(row[1]) for row in rows]
    # 35 queries x 3 distinct frames x 35 keys x 256 channels
    assert work[0] == pytest.approx(35 * 3 * 35 * 256 / 1e9, rel=1e-3)
    assert work[3] <= work[1] == work[2]
    assert all(float(row[2]) > 0 for row in rows)
    assert rows[0][3] == '1.0x'
    (ratio, ) = re.findall(r'computes (\S+) times the least work', text)
    assert float(ratio) >= 1


def test_end_to_end_compares_encode_batches(tool, videos, capsys):
    text = run(tool, capsys, '--mode', 'end-to-end', '--data', videos, *TINY,
               '--labels', '3', '--encode-batch', '1', '4')
    assert text.startswith('frames 40x56, 2 objects, backend windowed')
    rows = re.findall(r'\| (pan_\w) +\| (\d) +\| (\d) +\| (\S+) +\| (\S+) +\|'
                      r' (\S+) +\|', text)
    assert [row[:3] for row in rows] == [('pan_a', '1', '6'),
                                         ('pan_a', '4', '6'),
                                         ('pan_b', '1', '5'),
                                         ('pan_b', '4', '5')]
    for row in rows:
        encode, propagate, total = map(float, row[3:])
        assert encode > 0 and total == pytest.approx(encode + propagate,
                                                     abs=2e-3)
    assert re.search(r'encode_batch 4 vs 1: \S+ vs \S+ frames/s \(\S+x\), '
                     r'encoding \S+ vs \S+ s/frame; masks identical', text)


def test_first_mask_holds_side_by_side_boxes(tool):
    mask = tool.first_mask(8, 10, 2)
    assert mask.unique().tolist() == [0, 1, 2]
    assert mask[:2].eq(0).all() and mask[6:].eq(0).all()
    assert [int((mask == i).sum()) for i in (1, 2)] == [8, 8]


def brute_force_pairs(height, width, radius, num_frames):
    """Pairs of grid positions closer than ``radius``, times the
    radius-restricted frames, plus every pair once for an unrestricted
    long-term frame."""
    ys, xs = torch.meshgrid(torch.arange(height), torch.arange(width),
                            indexing='ij')
    ys, xs = ys.flatten(), xs.flatten()
    close = (ys[:, None] - ys)**2 + (xs[:, None] - xs)**2 < radius**2
    return int(close.sum()) * num_frames


@pytest.mark.parametrize('radius', [2.5, 3.0, 12.0])
def test_least_work_counts_each_query_disk(tool, radius):
    propagator = LabelPropagator(radius=radius, topk=3, context_size=4)
    context = propagator.context_indices(0, 5)  # frames 0 and 1..4
    assert tool.least_pairs(propagator, context, 7, 9) == \
        brute_force_pairs(7, 9, radius, 4) + 63**2
    # Copies of the long-term frame cost nothing more.
    padded = propagator.context_indices(0, 2)  # frame 0 four times, then 1
    assert tool.least_pairs(propagator, padded, 7, 9) == \
        brute_force_pairs(7, 9, radius, 1) + 63**2
    restricted = LabelPropagator(radius=radius, topk=3, context_size=4,
                                 restrict_long_term=True)
    assert tool.least_pairs(restricted, context, 7, 9) == \
        brute_force_pairs(7, 9, radius, 5)


@pytest.mark.parametrize('radius', [1, 2.5, 12.0])
def test_least_work_counts_each_query_square(tool, radius):
    propagator = LabelPropagator(radius=radius, topk=3, context_size=4,
                                 neighbourhood='square',
                                 restrict_long_term=True)
    ys, xs = torch.meshgrid(torch.arange(7), torch.arange(9),
                            indexing='ij')
    ys, xs = ys.flatten(), xs.flatten()
    close = ((ys[:, None] - ys).abs() <= radius) & \
        ((xs[:, None] - xs).abs() <= radius)
    context = propagator.context_indices(0, 5)
    assert tool.least_pairs(propagator, context, 7, 9) == \
        int(close.sum()) * 5


def test_kernel_products_cover_the_least_work(tool):
    propagator = LabelPropagator(radius=3., topk=3, context_size=4,
                                 tile_size=(7, 2))
    generator = torch.Generator().manual_seed(0)
    feats = F.normalize(torch.randn(6, 8, 7, 9, generator=generator), dim=1)
    labels = tool.smooth_labels(6, 2, (7, 9))
    assert labels.shape == (6, 2, 7, 9)
    torch.testing.assert_close(labels.sum(1), torch.ones(6, 7, 9))

    def step(t, memory, context):
        assert sorted(memory.frames) == [0, 1, 2, 3, 4]
        pairs, products = tool.kernel_products(propagator.windowed, memory,
                                               context, feats[t])
        products()
        return pairs, tool.least_pairs(propagator, context, 7, 9)

    ((pairs, least), ) = tool.replay(propagator, feats, labels, [5],
                                     step).values()
    assert least <= pairs < 63 * 5 * 63


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


def test_options(tool):
    args = tool.parse_args(
        ['--cfg-options', 'model.propagator.context_size=7'])
    assert tool.build_propagator(args).context_size == 7
    with pytest.raises(SystemExit):
        tool.parse_args(['--mode', 'floor', '--videos', 'a', 'b'])
    with pytest.raises(SystemExit):
        tool.parse_args(['--encode-batch', '0'])
