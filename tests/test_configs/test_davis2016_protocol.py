"""DAVIS-2016 is DAVIS-2017's propagation, merged to one object when scored."""
import importlib.util
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from PIL import Image

from mmhvc.registry import DATASETS, METRICS, MODELS
from mmhvc.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'dataset_converters', 'make_demo_davis.py')
CONFIGS = osp.join(REPO, 'configs', 'propagation')

register_all_modules()


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    """Two tiny DAVIS-layout videos with two or three objects each."""
    spec = importlib.util.spec_from_file_location('make_demo_davis', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    root = str(tmp_path_factory.mktemp('davis'))
    tool.main([
        root, '--seed', '3', '--num-seqs', '2', '--num-train-seqs', '0',
        '--frames', '5', '5', '--objects', '2', '3', '--size', '48x64',
        '--train-images', '0'
    ])
    return root


def run_config(name, data_root, out_dir):
    """Propagate with a config's model (random weights, seed 0) on the
    demo videos and write its masks with its evaluator."""
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cfg.data_root = data_root
    dataset = DATASETS.build(dataset_cfg)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    metric = METRICS.build(cfg.test_evaluator)
    metric.output_dir = out_dir
    metric.dataset_meta = dataset.metainfo
    with torch.no_grad():
        for index in range(len(dataset)):
            outputs = model.test_step(pseudo_collate([dataset[index]]))
            metric.process(None, outputs)
    return metric.evaluate(len(dataset)), dataset


def read_masks(out_dir, seq):
    names = sorted(os.listdir(osp.join(out_dir, seq)))
    return np.stack(
        [np.array(Image.open(osp.join(out_dir, seq, n))) for n in names])


def test_davis2016_masks_are_davis2017_masks_merged(demo_root, tmp_path):
    # The demo data lists the same videos for 2016 and 2017.
    with open(osp.join(demo_root, 'ImageSets', '2016', 'val.txt')) as f:
        sequences = f.read().split()
    out16, out17 = str(tmp_path / '2016'), str(tmp_path / '2017')
    metrics16, dataset16 = run_config('davis2016_val_r18.py', demo_root,
                                      out16)
    metrics17, _ = run_config('davis2017_val_r18.py', demo_root, out17)

    # The given masks of the 2016 config keep every object apart.
    given = dataset16[0]['data_samples'].given_masks.numpy()
    ann = np.array(
        Image.open(
            osp.join(demo_root, 'Annotations', '480p', sequences[0],
                     '00000.png')))
    np.testing.assert_array_equal(given[0], np.where(ann == 255, 0, ann))
    assert len(np.unique(ann[(ann > 0) & (ann < 255)])) >= 2

    for seq in sequences:
        masks17 = read_masks(out17, seq)
        masks16 = read_masks(out16, seq)
        assert masks17.max() >= 2
        np.testing.assert_array_equal(masks16, (masks17 > 0).astype(
            np.uint8))

    # Scored as one object per sequence: J is the IoU of the merged masks
    # over the frames between the first and the last.
    ious = []
    for seq in sequences:
        pred = read_masks(out16, seq)[1:-1] == 1
        ann_dir = osp.join(demo_root, 'Annotations', '480p', seq)
        gt = read_masks(ann_dir, '')[1:-1]
        gt = (gt > 0) & (gt != 255)
        inter = (pred & gt).sum(axis=(1, 2))
        union = (pred | gt).sum(axis=(1, 2))
        ious.append(np.where(union > 0, inter / np.maximum(union, 1),
                             1.).mean())
    assert metrics16['davis/J-Mean'] == pytest.approx(np.mean(ious))
    assert metrics16['davis/J-Mean'] != metrics17['davis/J-Mean']
