"""The VOST configs: they build, and tools/test.py runs the benchmark end
to end on a generated VOST-layout folder."""
import csv
import glob
import os
import os.path as osp
import sys

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image
from tool_process import run_tool
from vost_layout import VIDEOS, annotated_stems, write_vost_layout

from mmhvc.registry import DATASETS, METRICS, MODELS
from mmhvc.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO, 'configs', 'propagation')

register_all_modules()


@pytest.mark.parametrize('name',
                         ['vost_val_r18.py', 'vost_val_r18_moco_merge.py'])
def test_configs_build(name, tmp_path):
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    root = str(tmp_path / 'VOST')
    write_vost_layout(root)
    dataset_cfg = cfg.test_dataloader.dataset
    assert dataset_cfg.type == 'VOSTDataset'
    assert dataset_cfg.full_rate is False
    dataset = DATASETS.build(dict(dataset_cfg, data_root=root))
    assert dataset.data_prefix['img_path'].endswith('JPEGImages_10fps')
    assert 'gt_frames' in dataset[0]['data_samples']
    metric = METRICS.build(cfg.test_evaluator)
    assert metric.default_prefix == 'vost'
    model_cfg = cfg.model
    if 'extra_checkpoint' in model_cfg:
        model_cfg.extra_checkpoint = None
    MODELS.build(model_cfg)


def iou(gt, pred):
    union = (gt | pred).sum()
    return 1. if union == 0 else (gt & pred).sum() / union


def test_tools_test_writes_both_csvs_and_prints_j_and_j_last(tmp_path):
    root = str(tmp_path / 'VOST')
    write_vost_layout(root)
    config = osp.join(CONFIGS, 'vost_val_r18.py')
    ckpt = str(tmp_path / 'random.pth')
    run_tool([
        sys.executable, 'tools/analysis_tools/random_init_checkpoint.py',
        config, ckpt
    ])
    work_dir = str(tmp_path / 'work')
    log = run_tool([
        sys.executable, 'tools/test.py', config, ckpt, '--work-dir',
        work_dir, '--cfg-options', f'test_dataloader.dataset.data_root={root}'
    ])
    assert 'J-Mean' in log and 'J_last-Mean' in log and '+----' in log

    (run_dir, ) = glob.glob(osp.join(work_dir, '2*'))
    results = osp.join(run_dir, 'results')
    with open(osp.join(results, 'global_results-val.csv')) as f:
        global_rows = list(csv.reader(f))
    assert global_rows[0] == ['J-Mean', 'J-Recall', 'J-Decay',
                              'J_last-Mean', 'J_last-Recall', 'J_last-Decay']
    with open(osp.join(results, 'per-sequence_results-val.csv')) as f:
        per_object = list(csv.reader(f))
    assert per_object[0] == ['Sequence', 'J-Mean', 'J_last-Mean']
    # The objects of the first annotation; 'cut' object 2 appears later.
    assert [row[0] for row in per_object[1:]] == [
        'cut_1', 'pour_1', 'pour_2', 'peel_1'
    ]

    # Recompute J from the written masks and the annotations: four
    # annotated frames, the middle two scored; J_last from floor(1.5) = 1.
    stems = annotated_stems()
    means, lasts = [], []
    for video in VIDEOS:
        assert sorted(os.listdir(osp.join(results, video))) == [
            stem + '.png' for stem in stems
        ]
        read = [(np.array(Image.open(osp.join(results, video, s + '.png'))),
                 np.array(Image.open(
                     osp.join(root, 'Annotations', video, s + '.png'))))
                for s in stems]
        given_pred, given_gt = read[0]
        np.testing.assert_array_equal(given_pred,
                                      np.where(given_gt == 255, 0, given_gt))
        for obj in range(1, int(given_gt[given_gt != 255].max()) + 1):
            ious = [iou(gt == obj, pred == obj) for pred, gt in read[1:3]]
            means.append(np.mean(ious))
            lasts.append(ious[1])
    assert [float(row[1]) for row in per_object[1:]] == pytest.approx(
        means, abs=5e-4)
    assert [float(row[2]) for row in per_object[1:]] == pytest.approx(
        lasts, abs=5e-4)
    assert float(global_rows[1][0]) == pytest.approx(np.mean(means),
                                                     abs=5e-4)
    assert float(global_rows[1][3]) == pytest.approx(np.mean(lasts),
                                                     abs=5e-4)

    # A resumed run finds every video complete and reports the same tables.
    os.remove(osp.join(results, 'global_results-val.csv'))
    log = run_tool([
        sys.executable, 'tools/test.py', config, ckpt, '--work-dir',
        work_dir, '--resume', '--cfg-options',
        f'test_dataloader.dataset.data_root={root}'
    ])
    assert '3 of 3 sequences are written' in log
    with open(osp.join(results, 'global_results-val.csv')) as f:
        assert list(csv.reader(f)) == global_rows
