"""Bad inputs give a clear error naming the file or key, or a documented
recovery.

The matrix, with the tests that cover each case (cases covered elsewhere
are not repeated here):

================================  =============================================
bad input                         behaviour (test)
================================  =============================================
missing dataset root              FileNotFoundError naming the root
                                  (test_datasets/test_davis.py::
                                  test_davis_bad_arguments,
                                  test_static_image.py::
                                  test_missing_folder_is_named; YouTube-VOS
                                  and through tools/test.py: here)
empty image folder                error naming the folder
                                  (test_static_image.py::
                                  test_empty_folder_is_named, test_davis.py::
                                  test_davis_sequence_without_frames,
                                  test_video_frame.py, test_youtube_vos.py::
                                  test_ytvos_bad_meta)
corrupt JPEG                      error naming the file, or skipped with one
                                  warning (test_static_image.py::
                                  test_corrupt_image_*, test_transforms/
                                  test_loading.py, test_video.py::
                                  test_load_video_frames_errors)
PNG index without a palette       recovery: read as that object id; DAVIS
colour; ground-truth id absent    ground truth ids absent from the first frame
from the first frame              count as background, as in the official
                                  evaluation (here)
first-frame mask empty            ValueError naming the PNG (test_davis.py::
                                  test_davis_empty_first_mask,
                                  test_youtube_vos.py::test_ytvos_object_
                                  absent_from_its_first_frame)
frame and mask sizes differ       ValueError naming the PNG and both sizes
                                  (test_davis.py::
                                  test_davis_mask_size_differs,
                                  test_transforms/test_video.py)
video with one frame              propagation returns the given mask and
                                  format_only writes it; DAVISMetric raises
                                  naming the sequence (needs 3 frames) (here)
YouTube-VOS meta.json names a     FileNotFoundError naming video and frame
missing frame                     (test_youtube_vos.py::
                                  test_ytvos_missing_frame)
misspelt type, unknown argument   KeyError / TypeError naming the config path
or top-level key                  and the nearest valid names (here, through
                                  tools/train.py; test_utils/
                                  test_config_check.py)
checkpoint of another             RuntimeError listing the mismatched tensors
architecture                      (here, through tools/test.py;
                                  test_checkpoint/test_loading.py)
missing or truncated checkpoint   FileNotFoundError / ValueError naming the
                                  path (here)
================================  =============================================
"""
import os
import os.path as osp
import runpy
import struct
import sys
import zlib

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import BaseDataElement
from reliability_utils import REPO

from mmhvc.datasets import DAVISDataset, YouTubeVOSDataset
from mmhvc.datasets.palette import read_indexed_png, write_indexed_png
from mmhvc.evaluation.metrics import DAVISMetric
from mmhvc.registry import MODELS

PROPAGATION_CONFIG = osp.join(REPO, 'configs', 'propagation',
                              'demo_davis_r18.py')
PIPELINE = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadVideoAnnotations'),
    dict(type='PackVideoInputs'),
]


def run_main(monkeypatch, script, *argv):
    """Run a tool's main in this process (the failures happen while the
    Runner is being built, before any training or testing)."""
    monkeypatch.setenv('LOCAL_RANK', '0')
    monkeypatch.setattr(sys, 'argv', [script] + list(argv))
    runpy.run_path(osp.join(REPO, script), run_name='__main__')


def write_davis(root, name, labels):
    """A DAVIS-layout dataset of one sequence with (T, H, W) ``labels``."""
    frames = osp.join(root, 'JPEGImages', '480p', name)
    os.makedirs(frames)
    for t, label in enumerate(labels):
        image = np.full(label.shape + (3, ), 60, dtype=np.uint8)
        image[label == 1] = (0, 0, 200)
        cv2.imwrite(osp.join(frames, f'{t:05d}.jpg'), image)
        write_indexed_png(
            osp.join(root, 'Annotations', '480p', name, f'{t:05d}.png'),
            label)
    os.makedirs(osp.join(root, 'ImageSets', '2017'))
    with open(osp.join(root, 'ImageSets', '2017', 'val.txt'), 'w') as f:
        f.write(name + '\n')
    return root


@pytest.fixture(scope='module')
def propagation_model():
    torch.manual_seed(0)
    return MODELS.build(Config.fromfile(PROPAGATION_CONFIG).model).eval()


@pytest.fixture(scope='module')
def random_checkpoint(tmp_path_factory, propagation_model):
    path = str(tmp_path_factory.mktemp('ckpt') / 'random_r18.pth')
    torch.save(dict(state_dict=propagation_model.state_dict()), path)
    return path


# --- data -------------------------------------------------------------


def test_missing_youtube_vos_root(tmp_path):
    root = str(tmp_path / 'no_ytvos')
    with pytest.raises(FileNotFoundError, match='no_ytvos'):
        YouTubeVOSDataset(data_root=root)


def test_missing_root_through_the_test_tool(monkeypatch, tmp_path,
                                            random_checkpoint):
    root = str(tmp_path / 'no_davis_here')
    with pytest.raises(FileNotFoundError, match='no_davis_here'):
        run_main(monkeypatch, 'tools/test.py', PROPAGATION_CONFIG,
                 random_checkpoint, '--work-dir', str(tmp_path / 'work'),
                 '--cfg-options', f'test_dataloader.dataset.data_root={root}')


def write_png_with_short_palette(path, label):
    """An 8-bit indexed PNG whose palette has only 3 colours, whatever the
    indices (PIL would shrink the bit depth to the palette)."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack('>I', len(data)) + body + struct.pack(
            '>I', zlib.crc32(body))

    height, width = label.shape
    rows = b''.join(b'\x00' + row.tobytes() for row in label)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(
            b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 3, 0, 0, 0)) +
                chunk(b'PLTE', bytes([0, 0, 0, 128, 0, 0, 0, 128, 0])) +
                chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))


def test_index_without_palette_colour_is_read_as_object_id(tmp_path):
    label = np.zeros((6, 8), dtype=np.uint8)
    label[1:3, 1:3] = 1
    label[3:5, 4:7] = 7  # the palette has colours for 0, 1, 2 only
    path = str(tmp_path / '00000.png')
    write_png_with_short_palette(path, label)
    ids, palette = read_indexed_png(path)
    np.testing.assert_array_equal(ids, label)
    assert palette[7].tolist() == [0, 0, 0]


def davis_sample(gt, pred, name='seq'):
    sample = BaseDataElement(
        metainfo=dict(seq_name=name, frame_names=[f'{t:05d}'
                                                  for t in range(len(gt))]))
    sample.gt_masks = torch.from_numpy(gt)
    sample.pred_masks = torch.from_numpy(pred)
    return sample


def evaluate(samples):
    metric = DAVISMetric()
    metric.process(None, samples)
    return metric.compute_metrics(metric.results)


def test_ground_truth_id_absent_from_first_frame_is_background():
    gt = np.zeros((4, 8, 10), dtype=np.uint8)
    gt[:, 1:4, 1:5] = 1
    pred = gt.copy()
    pred[1:3, 1:4, 4:6] = 1
    unknown = gt.copy()
    unknown[1:3, 5:8, 6:9] = 9  # not an object of frame 0
    assert evaluate([davis_sample(unknown, pred)]) == evaluate(
        [davis_sample(gt, pred)])


def test_one_frame_video(tmp_path, propagation_model):
    label = np.zeros((1, 24, 32), dtype=np.uint8)
    label[0, 5:15, 8:20] = 1
    root = write_davis(str(tmp_path / 'DAVIS'), 'single', label)
    item = DAVISDataset(data_root=root, pipeline=PIPELINE)[0]
    assert tuple(item['inputs'].shape) == (1, 3, 24, 32)
    (sample, ) = propagation_model.predict([item['inputs']],
                                           [item['data_samples']])
    np.testing.assert_array_equal(sample.pred_masks.numpy(), label)

    with pytest.raises(ValueError,
                       match=r"'single'.*at least 3 frames, got 1"):
        evaluate([sample])
    out = str(tmp_path / 'submission')
    metric = DAVISMetric(format_only=True, output_dir=out)
    metric.process(None, [sample])
    assert metric.compute_metrics(metric.results) == {}
    np.testing.assert_array_equal(
        read_indexed_png(osp.join(out, 'single', '00000.png'))[0], label[0])


# --- configs ----------------------------------------------------------


@pytest.mark.parametrize('option, error, expected', [
    ('model.backbone.type=HVCResNat', KeyError,
     ['HVCResNat is not in the mmhvc::model registry',
      '"model.backbone.type"', '"HVCResNet"']),
    ('train_dataloader.dataset.type=StaticImageDatset', KeyError,
     ['"train_dataloader.dataset.type"', '"StaticImageDataset"']),
    ('model.backbone.dpeth=18', TypeError,
     ['HVCResNet has no argument "dpeth"', '"model.backbone.dpeth"',
      'Did you mean "depth"?']),
    ('trian_cfg.max_iters=2', KeyError,
     ['--cfg-options trian_cfg.max_iters', '"train_cfg"']),
])
def test_config_mistakes_through_the_train_tool(monkeypatch, tmp_path,
                                                tiny_train_config, option,
                                                error, expected):
    with pytest.raises(error) as info:
        run_main(monkeypatch, 'tools/train.py', tiny_train_config,
                 '--work-dir', str(tmp_path), '--cfg-options', option)
    for text in expected:
        assert text in str(info.value)


def test_misspelt_top_level_key_in_a_config_file(monkeypatch, tmp_path,
                                                 tiny_train_config):
    config = tmp_path / 'typo.py'
    config.write_text(f"_base_ = ['{tiny_train_config}']\n"
                      "optim_wraper = dict(optimizer=dict(lr=0.1))\n")
    with pytest.raises(KeyError,
                       match='"optim_wraper".*did you mean "optim_wrapper"'):
        run_main(monkeypatch, 'tools/train.py', str(config), '--work-dir',
                 str(tmp_path))


# --- checkpoints ------------------------------------------------------


def test_resnet50_checkpoint_through_the_test_tool(monkeypatch, tmp_path):
    r50 = MODELS.build(
        dict(type='HVCResNet', depth=50, num_stages=3, strides=(1, 2, 1),
             out_indices=(2, )))
    path = str(tmp_path / 'hvc_r50.pth')
    torch.save(
        dict(state_dict={f'backbone.{k}': v
                         for k, v in r50.state_dict().items()}), path)
    with pytest.raises(RuntimeError) as info:
        run_main(monkeypatch, 'tools/test.py', PROPAGATION_CONFIG, path,
                 '--work-dir', str(tmp_path / 'work'))
    assert 'hvc_r50.pth does not fit the model' in str(info.value)
    assert 'size mismatch for backbone.layer1.0.conv1.weight' in str(
        info.value)


def test_missing_checkpoint(monkeypatch, tmp_path, tiny_train_config):
    missing = str(tmp_path / 'gone.pth')
    with pytest.raises(FileNotFoundError, match='gone.pth'):
        run_main(monkeypatch, 'tools/test.py', PROPAGATION_CONFIG, missing)
    with pytest.raises(FileNotFoundError, match='gone.pth'):
        run_main(monkeypatch, 'tools/train.py', tiny_train_config,
                 '--work-dir', str(tmp_path), '--resume', missing)


def test_truncated_checkpoint_to_resume_from(monkeypatch, tmp_path,
                                             tiny_train_config,
                                             random_checkpoint):
    torn = str(tmp_path / 'iter_4.pth')
    with open(random_checkpoint, 'rb') as src, open(torn, 'wb') as dst:
        dst.write(src.read()[:1000])
    with pytest.raises(ValueError, match=r'iter_4\.pth is not a complete'):
        run_main(monkeypatch, 'tools/train.py', tiny_train_config,
                 '--work-dir', str(tmp_path), '--resume', torn)
