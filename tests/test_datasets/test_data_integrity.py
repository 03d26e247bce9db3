"""The up-front check of the video datasets' files, and skipping sequences."""
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest
from PIL import Image

from mmhvc.datasets import DAVISDataset, VIPDataset
from mmhvc.datasets.palette import write_indexed_png

SEQUENCES = ('a', 'b', 'c')


def write_davis_sequence(root, name, num_frames=3, size=(24, 16)):
    """JPEG frames and indexed PNG masks of ``size`` (W, H)."""
    width, height = size
    frames = osp.join(root, 'JPEGImages', '480p', name)
    os.makedirs(frames, exist_ok=True)
    for t in range(num_frames):
        frame = np.full((height, width, 3), 10 * t, dtype=np.uint8)
        assert cv2.imwrite(osp.join(frames, f'{t:05d}.jpg'), frame)
        label = np.zeros((height, width), dtype=np.uint8)
        label[2:6, t:t + 4] = 1
        write_indexed_png(
            osp.join(root, 'Annotations', '480p', name, f'{t:05d}.png'), label)


@pytest.fixture
def davis_root(tmp_path):
    root = str(tmp_path / 'DAVIS')
    for name in SEQUENCES:
        write_davis_sequence(root, name)
    os.makedirs(osp.join(root, 'ImageSets', '2017'))
    with open(osp.join(root, 'ImageSets', '2017', 'val.txt'), 'w') as f:
        f.write('\n'.join(SEQUENCES) + '\n')
    return root


def frame(root, name, t):
    return osp.join(root, 'JPEGImages', '480p', name, f'{t:05d}.jpg')


def mask(root, name, t):
    return osp.join(root, 'Annotations', '480p', name, f'{t:05d}.png')


def truncate(path):
    with open(path, 'rb') as f:
        content = f.read()
    with open(path, 'wb') as f:
        f.write(content[:len(content) // 2])


def test_clean_data_passes(davis_root):
    dataset = DAVISDataset(data_root=davis_root, check_files=True)
    assert len(dataset) == 3


def test_truncated_first_mask_of_the_last_sequence(davis_root):
    truncate(mask(davis_root, 'c', 0))
    # Without the check the dataset builds: the error would come when the
    # sequence is loaded, after the others were propagated.
    assert len(DAVISDataset(data_root=davis_root)) == 3
    with pytest.raises(ValueError) as error:
        DAVISDataset(data_root=davis_root, check_files=True)
    message = str(error.value)
    assert '1 problem(s)' in message
    assert 'Sequence "c"' in message
    assert mask(davis_root, 'c', 0) in message


def test_mis_sized_annotation_names_it_and_both_sizes(davis_root):
    write_indexed_png(
        mask(davis_root, 'b', 2), np.zeros((16, 20), dtype=np.uint8))
    with pytest.raises(ValueError) as error:
        DAVISDataset(data_root=davis_root, check_files=True)
    assert (f'Sequence "b": annotation {mask(davis_root, "b", 2)} is 20x16 '
            f'(WxH) but the frames are 24x16 ({frame(davis_root, "b", 0)})'
            ) in str(error.value)


def test_mis_sized_and_unreadable_frames_are_all_listed(davis_root):
    assert cv2.imwrite(
        frame(davis_root, 'a', 1), np.zeros((16, 30, 3), dtype=np.uint8))
    with open(frame(davis_root, 'c', 2), 'wb') as f:
        f.write(b'not a JPEG')
    with pytest.raises(ValueError) as error:
        DAVISDataset(data_root=davis_root, check_files=True)
    message = str(error.value)
    assert '2 problem(s)' in message
    assert (f'frame {frame(davis_root, "a", 1)} is 30x16 (WxH) but '
            f'{frame(davis_root, "a", 0)} is 24x16') in message
    assert f'cannot read the image {frame(davis_root, "c", 2)}' in message


def test_many_problems_are_cut_short(davis_root):
    write_davis_sequence(davis_root, 'long', num_frames=25)
    with open(osp.join(davis_root, 'ImageSets', '2017', 'val.txt'), 'a') as f:
        f.write('long\n')
    for t in range(1, 25):
        write_indexed_png(
            mask(davis_root, 'long', t), np.zeros((4, 4), dtype=np.uint8))
    with pytest.raises(ValueError) as error:
        DAVISDataset(data_root=davis_root, check_files=True)
    message = str(error.value)
    assert '24 problem(s)' in message
    assert message.count('Sequence "long": annotation') == 20
    assert message.endswith('... and 4 more')


def test_exif_rotated_frames_count_as_decoded(davis_root):
    """A JPEG stored 24x16 with the EXIF orientation 6 (turned 90 degrees)
    decodes to 16x24 in OpenCV, the size its masks must have."""
    name = 'rotated'
    os.makedirs(osp.join(davis_root, 'JPEGImages', '480p', name))
    for t in range(3):
        image = Image.fromarray(np.zeros((16, 24, 3), dtype=np.uint8))
        exif = image.getexif()
        exif[0x0112] = 6
        image.save(frame(davis_root, name, t), exif=exif.tobytes())
        assert cv2.imread(frame(davis_root, name, t)).shape[:2] == (24, 16)
        label = np.zeros((24, 16), dtype=np.uint8)
        label[3:9, 2:6] = 1
        write_indexed_png(mask(davis_root, name, t), label)
    with open(osp.join(davis_root, 'ImageSets', '2017', 'val.txt'), 'a') as f:
        f.write(name + '\n')
    assert len(DAVISDataset(data_root=davis_root, check_files=True)) == 4


def test_vip_label_map_of_another_size(tmp_path):
    root = str(tmp_path / 'VIP')
    stems = ('000000000001', '000000000002')
    for stem in stems:
        frames = osp.join(root, 'Images', 'videos1')
        labels = osp.join(root, 'Annotations', 'Category_ids', 'videos1')
        os.makedirs(frames, exist_ok=True)
        os.makedirs(labels, exist_ok=True)
        assert cv2.imwrite(
            osp.join(frames, stem + '.jpg'),
            np.zeros((12, 16, 3), dtype=np.uint8))
        height = 12 if stem == stems[0] else 10
        assert cv2.imwrite(
            osp.join(labels, stem + '.png'),
            np.zeros((height, 16), dtype=np.uint8))
    os.makedirs(osp.join(root, 'lists'))
    with open(osp.join(root, 'lists', 'val_videos.txt'), 'w') as f:
        f.write('videos1\n')
    bad = osp.join(root, 'Annotations', 'Category_ids', 'videos1',
                   stems[1] + '.png')
    with pytest.raises(
            ValueError, match=re.escape(f'annotation {bad} is 16x10')):
        VIPDataset(data_root=root, check_files=True)
