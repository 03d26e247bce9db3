"""The synthetic scenes and the datasets written from them."""
import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmhvc.datasets import DAVISDataset, YouTubeVOSDataset
from mmhvc.datasets.synthetic import (Options, write_davis,
                                      write_demo_videos, write_ytvos)
from mmhvc.datasets.synthetic_scene import (Scene, Shape, Texture, Track,
                                            render_frame, render_sequence)
from mmhvc.utils import register_all_modules

PIPELINE = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadVideoAnnotations'),
    dict(type='PackVideoInputs'),
]

register_all_modules()


def tiny_options(seed=0, overwrite=False):
    return Options(
        seed=seed,
        size=(32, 48),
        frames=(6, 7),
        objects=(2, 3),
        overwrite=overwrite)


def read_label(path):
    image = Image.open(path)
    assert image.mode == 'P', path
    return np.asarray(image)


def test_davis_layout_annotations(tmp_path):
    root = str(tmp_path / 'demo')
    write_davis(root, tiny_options(), 2, 1)
    with open(osp.join(root, 'ImageSets', '2017', 'val.txt')) as f:
        names = f.read().split()
    assert names == ['demo00', 'demo01']
    for name in names:
        frames = sorted(os.listdir(osp.join(root, 'JPEGImages', '480p', name)))
        masks = sorted(os.listdir(osp.join(root, 'Annotations', '480p', name)))
        assert [f[:-4] for f in frames] == [m[:-4] for m in masks]
        assert 6 <= len(frames) <= 7
        labels = np.stack([
            read_label(osp.join(root, 'Annotations', '480p', name, m))
            for m in masks
        ])
        assert labels.shape[1:] == (32, 48)
        ids = set(np.unique(labels[0])) - {0}
        # DAVIS: every object is in the first frame, ids are 1..N.
        assert ids == set(range(1, len(ids) + 1)) and len(ids) >= 2
        assert set(np.unique(labels)) - {0} == ids

    dataset = DAVISDataset(data_root=root, pipeline=PIPELINE)
    sample = dataset[0]['data_samples']
    assert sample.gt_masks.shape[1:] == (32, 48)
    assert len(sample.object_ids) >= 2


def test_ytvos_layout_late_object(tmp_path):
    root = str(tmp_path / 'yt')
    write_ytvos(root, tiny_options(), 2, 1)
    with open(osp.join(root, 'valid', 'meta.json')) as f:
        meta = json.load(f)['videos']
    objects = meta['valid000']['objects']
    late = objects[str(len(objects))]
    assert late['frames'][0] != '00000'
    assert all(o['frames'][0] == '00000' for k, o in objects.items()
               if o is not late)
    ann_dir = osp.join(root, 'valid', 'Annotations', 'valid000')
    assert sorted(os.listdir(ann_dir)) == ['00000.png',
                                           late['frames'][0] + '.png']
    given = read_label(osp.join(ann_dir, late['frames'][0] + '.png'))
    assert set(np.unique(given)) == {0, len(objects)}
    assert os.listdir(osp.join(root, 'train', 'Annotations', 'train000'))

    # The demo layout has no valid_all_frames.
    dataset = YouTubeVOSDataset(
        data_root=root, all_frames=False, pipeline=PIPELINE)
    sample = dataset[0]['data_samples']
    assert sample.given_frames[0] == 0 and len(sample.given_frames) == 2
    assert sample.given_frames[1] * 5 == int(late['frames'][0])
    assert sample.given_object_ids[1] == [len(objects)]
    assert sample.object_ids == list(range(1, len(objects) + 1))


def test_render_sequence_late_object_absent_before_entry():
    rng = np.random.default_rng(0)
    frames, labels, tracks = render_sequence(
        rng, (32, 48), 8, 3, entering='late')
    assert frames.shape == (8, 32, 48, 3) and frames.dtype == np.uint8
    late = tracks[-1]
    assert late.obj_id == 3 and 2 <= late.first_frame <= 5
    assert not np.any(labels[:late.first_frame] == 3)
    assert np.count_nonzero(labels[late.first_frame] == 3) >= 12
    assert all(np.any(labels[0] == i) for i in (1, 2))


def test_render_frame_masks_match_pixels():
    """With flat colours, the object's pixels are exactly its mask."""
    flat = Texture('checker', np.array([[10., 20, 30]] * 2), 4.0, 0.0)
    red = Texture('checker', np.array([[0., 0, 250]] * 2), 4.0, 0.0)
    track = Track(
        obj_id=5,
        shape=Shape('ellipse', (0.5, )),
        texture=red,
        radius=10.0,
        start=np.array([20.0, 15.0]),
        end=np.array([20.0, 15.0]),
        scales=(1.0, 1.0),
        angle=0.0,
        spin=0.0,
        wobble=(0.0, 1.0, 0.0))
    scene = Scene(flat, np.zeros(2), [track], (32, 40), 1)
    image, labels, occluded = render_frame(scene, 0)
    np.testing.assert_array_equal(labels == 5, image[..., 2] == 250)
    assert occluded == 0
    # Ellipse with semi-axes 10 (x) and 5 (y) pixels around (20, 15).
    ys, xs = np.mgrid[0:32, 0:40]
    expected = ((xs - 20) / 10.0)**2 + ((ys - 15) / 5.0)**2 <= 1
    np.testing.assert_array_equal(labels == 5, expected)


def test_existing_sequences_are_kept_unless_overwrite(tmp_path):
    root = str(tmp_path / 'demo')
    write_davis(root, tiny_options(seed=1), 1, 0)
    first = osp.join(root, 'JPEGImages', '480p', 'demo00', '00000.jpg')
    with open(first, 'rb') as f:
        before = f.read()
    with pytest.raises(FileExistsError, match='demo00 exists'):
        write_davis(root, tiny_options(seed=2), 1, 0)
    write_davis(root, tiny_options(seed=2, overwrite=True), 1, 0)
    with open(first, 'rb') as f:
        assert f.read() != before


def test_write_demo_videos(tmp_path):
    root = str(tmp_path / 'videos')
    names = write_demo_videos(root, num_videos=3, size=(32, 48),
                              num_frames=5, seed=4)
    assert names == ['demo00', 'demo01', 'demo02']
    with open(osp.join(root, 'ImageSets', '2017', 'val.txt')) as f:
        assert f.read().split() == names
    for name in names:
        frames = sorted(os.listdir(osp.join(root, 'JPEGImages', '480p',
                                            name)))
        assert frames == [f'{t:05d}.jpg' for t in range(5)]
        label = read_label(
            osp.join(root, 'Annotations', '480p', name, '00000.png'))
        assert label.shape == (32, 48)
        assert 2 <= len(set(np.unique(label)) - {0}) <= 3
    # a second call replaces the sequences
    assert write_demo_videos(root, num_videos=1, size=(32, 48),
                             num_frames=5, seed=4) == ['demo00']
    with pytest.raises(ValueError, match='num_frames >= 5'):
        write_demo_videos(root, num_frames=4)
