"""tools/analysis_tools/propagation_floor.py on tiny inputs."""
import importlib.util
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from mmhvc.models.propagation import LabelPropagator

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'propagation_floor.py')
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from test_benchmark_propagation import write_frames  # noqa: E402


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('propagation_floor', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def brute_force_pairs(height, width, radius, num_short_term):
    """Pairs of grid positions closer than ``radius``, times the short-term
    frames, plus every pair once for the long-term frame."""
    ys, xs = torch.meshgrid(torch.arange(height), torch.arange(width),
                            indexing='ij')
    ys, xs = ys.flatten(), xs.flatten()
    close = (ys[:, None] - ys)**2 + (xs[:, None] - xs)**2 < radius**2
    return int(close.sum()) * num_short_term + (height * width)**2


@pytest.mark.parametrize('radius', [2.5, 3.0, 12.0])
def test_least_work_counts_each_query_disk(tool, radius):
    propagator = LabelPropagator(radius=radius, topk=3, context_size=4)
    context = propagator.context_indices(0, 5)  # frames 0 and 1..4
    assert tool.least_pairs(propagator, context, 7, 9) == \
        brute_force_pairs(7, 9, radius, 4)
    # Copies of the long-term frame cost nothing more (multiplicity).
    padded = propagator.context_indices(0, 2)  # frame 0 four times, then 1
    assert tool.least_pairs(propagator, padded, 7, 9) == \
        brute_force_pairs(7, 9, radius, 1)


def test_kernel_products_cover_the_least_work(tool):
    propagator = LabelPropagator(radius=3., topk=3, context_size=4,
                                 tile_size=(7, 2))
    generator = torch.Generator().manual_seed(0)
    feats = F.normalize(torch.randn(6, 8, 7, 9, generator=generator), dim=1)
    labels = [torch.rand(2, 7, 9, generator=generator) for _ in range(6)]
    memory = tool.fill_memory(propagator, feats, labels, 5)
    assert sorted(memory.frames) == [0, 1, 2, 3, 4]
    context = propagator.context_indices(0, 5)
    products = tool.kernel_products(propagator, memory, context, feats[5])
    least = tool.least_pairs(propagator, context, 7, 9)
    dense = 63 * len(context) * 63
    assert least <= products['pairs'] < dense
    products['run']()


def test_tie_bands_hold_the_kth_best_and_shrink_with_the_error(tool):
    propagator = LabelPropagator(radius=3., topk=3, context_size=4)
    generator = torch.Generator().manual_seed(0)
    feats = F.normalize(torch.randn(6, 64, 7, 9, generator=generator), dim=1)
    context = propagator.context_indices(0, 5)
    bands = tool.tie_bands(propagator, feats, context, 5, samples=20)
    counts = [torch.tensor(c) for c in bands.values()]
    assert all(len(c) == 20 and bool((c >= 3).all()) for c in counts)
    assert all(bool((a >= b).all()) for a, b in zip(counts, counts[1:]))
    # Random 64-channel features are well separated: no near ties.
    assert counts[-1].tolist() == [3] * 20


def test_split_bfloat16_products_restore_the_precision_setting(tool):
    matmul = torch.backends.mkldnn.matmul
    before = matmul.fp32_precision
    a = torch.randn(8, 16, dtype=torch.float64).float()
    with tool.bf16_float32_products():
        assert matmul.fp32_precision == 'bf16'
        coarse = a @ a.T
    assert matmul.fp32_precision == before
    assert coarse.dtype == torch.float32
    rows = tool.product_rates([(6, 5, 4)])
    assert rows[0][0] == '6 x 4 x 5' and len(rows[0]) == 4


def test_one_video_is_measured(tool):
    assert tool.parse_args(['--videos', 'a']).videos == ['a']
    with pytest.raises(SystemExit):
        tool.parse_args(['--videos', 'a', 'b'])


def test_real_frames_report_work_time_and_ties(tmp_path):
    root = str(tmp_path / 'videos')
    write_frames(osp.join(root, 'pan'), 5, seed=0)
    write_frames(osp.join(root, 'tilt'), 5, seed=1)  # not the first video
    env = dict(os.environ, OMP_NUM_THREADS='1')
    result = subprocess.run(
        [sys.executable, TOOL, '--data', root, '--image-size', '40', '56',
         '--context-size', '3', '--topk', '4', '--radius', '3', '--samples',
         '10', '--repeats', '1', '--threads', '1'],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    text = result.stdout
    assert text.startswith('pan, query frame 4: grid 5x7, C=256, 4 context '
                           'entries (4 distinct frames), top-k 4')
    speed_ups = re.findall(r'\| (\d+\.\d)x +\|', text)
    assert len(speed_ups) == 4 and speed_ups[0] == '1.0'
    (ratio, ) = re.findall(r'computes (\S+) times the least work', text)
    assert float(ratio) >= 1
    products = re.findall(r'\| (\d+) x 256 x (\d+) +\|' + r' (\S+) +\|' * 3,
                          text)
    # A key row of the 4 slots of the memory; a whole frame of keys.
    assert len(products) == 2 and int(products[0][0]) % 4 == 0
    assert products[1][:2] == ('35', '480')
    assert all(float(ms) > 0 for row in products for ms in row[2:])
    band_rows = re.findall(r'\| (\S+)(?: \(bfloat16\))? +\| (\d+) +\| '
                           r'(\d+) +\| (\d+) +\|', text)
    assert len(band_rows) == 4
    assert all(int(n) >= 4 for row in band_rows for n in row[1:])
