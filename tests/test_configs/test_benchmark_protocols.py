"""The benchmark configs run each protocol as the reference does, checked on
tiny generated videos with randomly initialised encoders."""
import json
import os
import os.path as osp
import shutil
import zipfile

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from PIL import Image
from scipy.io import savemat

from mmhvc.datasets.synthetic import Options, write_davis
from mmhvc.registry import DATASETS, METRICS, MODELS
from mmhvc.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO, 'configs', 'propagation')

register_all_modules()


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    """Two tiny DAVIS-layout videos with two or three objects each."""
    root = str(tmp_path_factory.mktemp('davis'))
    opts = Options(
        seed=3, size=(48, 64), frames=(5, 5), objects=(2, 3),
        overwrite=False)
    write_davis(root, opts, num_val=2, num_train=0)
    return root


def run_config(name, data_root, out_dir, **dataset_options):
    """Propagate with a config's model (random weights, seed 0) and write
    its results with its evaluator.

    Returns:
        The metrics, the dataset and the model outputs, one per video.
    """
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cfg.update(data_root=data_root, **dataset_options)
    dataset = DATASETS.build(dataset_cfg)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    metric = METRICS.build(cfg.test_evaluator)
    metric.output_dir = out_dir
    metric.dataset_meta = dataset.metainfo
    outputs = []
    with torch.no_grad():
        for index in range(len(dataset)):
            outputs += model.test_step(pseudo_collate([dataset[index]]))
            metric.process(None, outputs[-1:])
    return metric.evaluate(len(dataset)), dataset, outputs


def read_masks(out_dir, seq):
    names = sorted(os.listdir(osp.join(out_dir, seq)))
    return np.stack(
        [np.array(Image.open(osp.join(out_dir, seq, n))) for n in names])


def test_davis2016_masks_are_davis2017_masks_merged(demo_root, tmp_path):
    # The demo data lists the same videos for 2016 and 2017.
    with open(osp.join(demo_root, 'ImageSets', '2016', 'val.txt')) as f:
        sequences = f.read().split()
    out16, out17 = str(tmp_path / '2016'), str(tmp_path / '2017')
    metrics16, dataset16, _ = run_config('davis2016_val_r18.py', demo_root,
                                         out16)
    metrics17, _, _ = run_config('davis2017_val_r18.py', demo_root, out17)

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


def write_ytvos_layout(root):
    """One 16-frame video (stems 00000 .. 00015) in the YouTube-VOS
    layout: object 1 from frame 0, object 2 from frame 10; every fifth
    frame is in valid/, every frame in valid_all_frames/."""
    rng = np.random.default_rng(0)
    height, width = 32, 40
    frames = rng.integers(0, 256, (16, height, width, 3), dtype=np.uint8)
    for t in range(16):
        stem = f'{t:05d}'
        folders = ['valid_all_frames'] + (['valid'] if t % 5 == 0 else [])
        for folder in folders:
            path = osp.join(root, folder, 'JPEGImages', 'v0', stem + '.jpg')
            os.makedirs(osp.dirname(path), exist_ok=True)
            Image.fromarray(frames[t]).save(path, quality=95)
    first = np.zeros((height, width), dtype=np.uint8)
    first[4:14, 4:16] = 1
    late = first.copy()
    late[18:28, 20:34] = 2
    for stem, mask in (('00000', first), ('00010', late)):
        path = osp.join(root, 'valid', 'Annotations', 'v0', stem + '.png')
        os.makedirs(osp.dirname(path), exist_ok=True)
        Image.fromarray(mask, mode='L').convert('P').save(path)
    meta = dict(videos=dict(v0=dict(objects={
        '1': dict(category='cat', frames=['00000', '00005', '00010']),
        '2': dict(category='dog', frames=['00010', '00015']),
    })))
    with open(osp.join(root, 'valid', 'meta.json'), 'w') as f:
        json.dump(meta, f)


def test_ytvos_propagates_all_frames_and_writes_listed_ones(tmp_path):
    root = str(tmp_path / 'ytvos')
    write_ytvos_layout(root)
    out = str(tmp_path / 'out')
    metrics, dataset, outputs = run_config('ytvos2018_val_r18.py', root, out)
    assert dataset.all_frames
    (output, ) = outputs
    assert output.pred_masks.shape == (16, 32, 40)
    assert output.frame_names == [f'{t:05d}' for t in range(16)]
    listed = ['00000', '00005', '00010', '00015']
    with zipfile.ZipFile(osp.join(out, 'submission.zip')) as archive:
        names = [n for n in archive.namelist() if n.endswith('.png')]
    assert names == [f'Annotations/v0/{stem}.png' for stem in listed]
    assert sorted(os.listdir(osp.join(out, 'Annotations', 'v0'))) == [
        stem + '.png' for stem in listed
    ]
    for stem in listed:
        written = np.array(
            Image.open(osp.join(out, 'Annotations', 'v0', stem + '.png')))
        np.testing.assert_array_equal(written,
                                      output.pred_masks[int(stem)].numpy())
    assert metrics['youtube_vos/num_frames'] == 4

    # The sparse frames are a different, explicit choice.
    shutil.rmtree(osp.join(root, 'valid_all_frames'))
    with pytest.raises(FileNotFoundError, match='valid_all_frames'):
        run_config('ytvos2018_val_r18.py', root, out)
    _, _, outputs = run_config(
        'ytvos2018_val_r18.py', root, str(tmp_path / 'sparse'),
        all_frames=False)
    assert outputs[0].pred_masks.shape == (4, 32, 40)


def write_jhmdb_layout(root):
    """One 3-frame 24 x 32 JHMDB video whose frames are one noise image, so
    that propagation carries every label to its own position. Joints 0-12
    lie inside the frame, joint 13 one pixel left of it (its Gaussian still
    reaches the first column of the 40 x 40 grid), joint 14 twenty pixels
    left (its Gaussian misses the grid)."""
    height, width, num_frames = 24, 32, 3
    frame = np.random.default_rng(1).integers(
        0, 256, (height, width, 3), dtype=np.uint8)
    frame_dir = osp.join(root, 'Rename_Images', 'wave', 'wave_0')
    os.makedirs(frame_dir)
    for t in range(num_frames):
        Image.fromarray(frame).save(osp.join(frame_dir, f'{t + 1:05d}.png'))
    x = np.concatenate([np.linspace(3., 29., 13), [-1., -20.]])
    y = np.concatenate([np.linspace(2., 21., 13), [12., 12.]])
    pos = np.repeat(np.stack([x, y])[:, :, None], num_frames, axis=2) + 1
    joint_dir = osp.join(root, 'joint_positions', 'wave', 'wave_0')
    os.makedirs(joint_dir)
    savemat(osp.join(joint_dir, 'joint_positions.mat'), dict(pos_img=pos))
    os.makedirs(osp.join(root, 'splits'))
    with open(osp.join(root, 'splits', 'wave_test_split1.txt'), 'w') as f:
        f.write('wave_0.avi 2\n')


def test_jhmdb_scores_found_joints_and_skips_lost_ones(tmp_path):
    root = str(tmp_path / 'JHMDB')
    write_jhmdb_layout(root)
    metrics, _, (output, ) = run_config('jhmdb_val_r18.py', root, None)
    found = output.pred_visible.numpy()
    assert found[1:, :14].all() and not found[1:, 14].any()
    # Joint 13's partial Gaussian covers the grid's first column only.
    np.testing.assert_allclose(output.pred_keypoints[1:, 13, 0], 0.)
    # The lost joint 14 is skipped; the others are located within a grid
    # cell (0.8 pixels), far below 0.1 x the reference size.
    assert metrics['pck/PCK@0.1'] == 1.
    assert metrics['pck/PCK@0.2'] == 1.

    # The strict variant counts the lost joint as wrong.
    cfg = Config.fromfile(osp.join(CONFIGS, 'jhmdb_val_r18.py'))
    strict = METRICS.build(dict(cfg.test_evaluator, protocol='strict'))
    strict.dataset_meta = dict(joint_names=[str(j) for j in range(15)])
    strict.process(None, [output])
    assert strict.evaluate(1)['pck/PCK@0.1'] == pytest.approx(14 / 15)


def write_vip_layout(root):
    """One VIP video of three annotated 24 x 32 frames: hair (2) in every
    frame, face (13) from the second frame on."""
    rng = np.random.default_rng(2)
    for folder in ('Images', 'Annotations/Category_ids'):
        os.makedirs(osp.join(root, folder, 'videos1'))
    for t in range(3):
        stem = f'{25 * t + 1:012d}'
        frame = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
        Image.fromarray(frame).save(
            osp.join(root, 'Images', 'videos1', stem + '.jpg'))
        labels = np.zeros((24, 32), np.uint8)
        labels[2:8, 4:20] = 2
        if t > 0:
            labels[10:20, 8:24] = 13
        Image.fromarray(labels).save(
            osp.join(root, 'Annotations/Category_ids', 'videos1',
                     stem + '.png'))
    os.makedirs(osp.join(root, 'lists'))
    with open(osp.join(root, 'lists', 'val_videos.txt'), 'w') as f:
        f.write('videos1\n')


def test_vip_protocols(tmp_path):
    root = str(tmp_path / 'VIP_Fine')
    write_vip_layout(root)

    # HVC reference: each part at its first annotated frame, full
    # resolution, merged with a (here randomly initialised) ResNet-50.
    hvc = Config.fromfile(
        osp.join(CONFIGS, 'vip_val_hvc_protocol_r18_moco_merge.py'))
    assert hvc.model.merge_weight == 1.05
    assert hvc.model.extra_backbone.depth == 50
    assert (hvc.model.propagator.topk, hvc.model.propagator.context_size) \
        == (15, 50)
    hvc.model.extra_checkpoint = None
    hvc.test_dataloader.dataset.data_root = root
    item = DATASETS.build(hvc.test_dataloader.dataset)[0]
    assert item['inputs'].shape == (3, 3, 24, 32)
    sample = item['data_samples']
    assert sample.given_frames == [0, 1]
    assert sample.given_object_ids == [[2], [13]]
    torch.manual_seed(0)
    model = MODELS.build(hvc.model).eval()
    (output, ) = model.test_step(pseudo_collate([item]))
    pred = output.pred_masks.numpy()
    assert 13 not in pred[0]
    face = np.zeros((24, 32), bool)
    face[10:20, 8:24] = True
    np.testing.assert_array_equal(pred[1][face], 13)

    # CRW: the first frame's parts only, frames resized to 560 x 560.
    crw = Config.fromfile(osp.join(CONFIGS, 'vip_val_crw_protocol_r18.py'))
    assert (crw.model.propagator.topk, crw.model.propagator.context_size) \
        == (10, 20)
    assert 'extra_backbone' not in crw.model
    crw.test_dataloader.dataset.data_root = root
    item = DATASETS.build(crw.test_dataloader.dataset)[0]
    assert item['inputs'].shape == (3, 3, 560, 560)
    sample = item['data_samples']
    assert sample.given_frames == [0]
    assert sample.given_object_ids == [[2]]
    assert sample.gt_masks.shape == (3, 24, 32)
