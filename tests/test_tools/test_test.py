"""End-to-end propagation evaluation through tools/test.py."""
import csv
import glob
import os
import os.path as osp
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from tool_process import run_tool

from mmhvc.datasets.synthetic import Options, write_davis

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'propagation', 'demo_davis_r18.py')


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp('demo')
    data = str(root / 'davis')
    write_davis(
        data,
        Options(seed=1, size=(48, 64), frames=(5, 6),
                objects=(2, 3), overwrite=False), 2, 1)
    ckpt = str(root / 'random.pth')
    run_tool([
        sys.executable, 'tools/analysis_tools/random_init_checkpoint.py',
        CONFIG, ckpt
    ])
    return data, ckpt


def test_random_backbone_writes_masks_csvs_table_and_overlays(demo, tmp_path):
    data, ckpt = demo
    work_dir = str(tmp_path / 'work')
    log = run_tool([
        sys.executable, 'tools/test.py', CONFIG, ckpt, '--work-dir', work_dir,
        '--show-dir', 'vis', '--cfg-options',
        f'test_dataloader.dataset.data_root={data}'
    ])
    assert 'J&F-Mean' in log and '+----' in log

    (run_dir, ) = glob.glob(osp.join(work_dir, '2*'))
    results = osp.join(run_dir, 'results')
    with open(osp.join(results, 'global_results-val.csv')) as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ['J&F-Mean', 'J-Mean', 'J-Recall']
    jf, j, f_ = (float(v) for v in (rows[1][0], rows[1][1], rows[1][4]))
    assert 0. <= jf <= 1. and jf == pytest.approx((j + f_) / 2, abs=2e-3)
    with open(osp.join(results, 'per-sequence_results-val.csv')) as f:
        per_seq = list(csv.reader(f))
    assert per_seq[0] == ['Sequence', 'J-Mean', 'F-Mean']

    sequences = sorted(
        open(osp.join(data, 'ImageSets', '2017', 'val.txt')).read().split())
    assert {row[0].rsplit('_', 1)[0] for row in per_seq[1:]} == set(sequences)
    for seq in sequences:
        frames = sorted(os.listdir(osp.join(data, 'JPEGImages', '480p', seq)))
        masks = sorted(os.listdir(osp.join(results, seq)))
        assert masks == [name.replace('.jpg', '.png') for name in frames]
        first = Image.open(osp.join(results, seq, masks[0]))
        assert first.mode == 'P'
        given = np.array(
            Image.open(osp.join(data, 'Annotations', '480p', seq, masks[0])))
        # The given frame is reproduced exactly.
        np.testing.assert_array_equal(np.array(first), given)
        overlays = os.listdir(osp.join(run_dir, 'vis', seq))
        assert len(overlays) == len(frames)
        assert osp.getsize(osp.join(run_dir, 'vis', f'{seq}.mp4')) > 0
    # The speed on these videos closes the log.
    total = sum(
        len(os.listdir(osp.join(data, 'JPEGImages', '480p', seq)))
        for seq in sequences)
    assert f'propagated {total} frames in ' in log and ' frames/s' in log


def test_eval_results_scores_a_finished_run_to_the_same_csvs(demo, tmp_path):
    data, ckpt = demo
    work_dir = str(tmp_path / 'work')
    data_option = f'test_dataloader.dataset.data_root={data}'
    run_tool([
        sys.executable, 'tools/test.py', CONFIG, ckpt, '--work-dir', work_dir,
        '--cfg-options', data_option
    ])
    (results, ) = glob.glob(osp.join(work_dir, '2*', 'results'))
    tables = sorted(glob.glob(osp.join(results, '*.csv')))
    assert len(tables) == 2
    copy = str(tmp_path / 'copy')
    shutil.copytree(results, copy, ignore=shutil.ignore_patterns('*.csv'))
    log = run_tool([
        sys.executable, 'tools/eval_results.py', CONFIG, copy,
        '--cfg-options', data_option
    ])
    assert 'davis/J&F-Mean' in log
    for table in tables:
        with open(table, 'rb') as f, \
                open(osp.join(copy, osp.basename(table)), 'rb') as g:
            assert f.read() == g.read(), table

    # A missing sequence is named, never scored as empty.
    sequences = sorted(
        open(osp.join(data, 'ImageSets', '2017', 'val.txt')).read().split())
    shutil.rmtree(osp.join(copy, sequences[-1]))
    result = subprocess.run([
        sys.executable, 'tools/eval_results.py', CONFIG, copy,
        '--cfg-options', data_option
    ], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0
    assert f'no results of 1 of the {len(sequences)} sequences: ' \
        f'{sequences[-1]}' in result.stderr


def test_eval_results_refuses_a_misspelled_config_key(demo, tmp_path):
    data, _ = demo
    result = subprocess.run([
        sys.executable, 'tools/eval_results.py', CONFIG, str(tmp_path),
        '--cfg-options', f'test_dataloader.dataset.data_root={data}',
        'test_evaluatr.prefix=x'
    ], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0
    assert 'test_evaluatr' in result.stderr
