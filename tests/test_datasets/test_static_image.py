import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope

from mmhvc.datasets import StaticImageDataset
from mmhvc.datasets.transforms import UnreadableImageError
from mmhvc.registry import DATASETS

PIPELINE = [
    dict(type='LoadImageWithCheck'),
    dict(type='RandomResizedCropPair', size=8),
    dict(type='PackCropPairInputs'),
]


@pytest.fixture(autouse=True)
def mmhvc_scope():
    """Resolve unprefixed pipeline types in the mmhvc scope."""
    with DefaultScope.overwrite_default_scope('mmhvc'):
        yield


def write_image(path, value=100, shape=(16, 20)):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full(shape + (3, ), value, np.uint8))


@pytest.fixture
def image_tree(tmp_path):
    """A nested image folder with distractors; returns the data root."""
    root = tmp_path / 'data'
    images = root / 'images'
    write_image(images / 'a.jpg')
    write_image(images / 'sub' / 'b.PNG')
    write_image(images / 'sub' / 'deeper' / 'c.jpeg')
    write_image(images / 'sub' / 'deeper' / 'd.bmp')
    write_image(images / '.hidden.jpg')
    write_image(images / '.cache' / 'e.jpg')
    (images / 'sub' / 'notes.txt').write_text('not an image')
    return root


def rel_paths(dataset, folder):
    return [
        osp.relpath(dataset.get_data_info(i)['img_path'], folder)
        for i in range(len(dataset))
    ]


def test_recursive_scan_is_sorted_and_filtered(image_tree):
    dataset = StaticImageDataset(
        data_root=str(image_tree), data_prefix=dict(img_path='images'))
    assert rel_paths(dataset, image_tree / 'images') == [
        'a.jpg', 'sub/b.PNG', 'sub/deeper/c.jpeg', 'sub/deeper/d.bmp'
    ]


def test_extensions_option(image_tree):
    # e.g. MSRA10K: take the .jpg photos, not the .png masks next to them
    dataset = StaticImageDataset(
        data_root=str(image_tree),
        data_prefix=dict(img_path='images'),
        extensions=('.jpg', ))
    assert rel_paths(dataset, image_tree / 'images') == ['a.jpg']
    dataset = StaticImageDataset(
        data_root=str(image_tree),
        data_prefix=dict(img_path='images'),
        extensions=('PNG', 'jpeg'))
    assert rel_paths(dataset, image_tree /
                     'images') == ['sub/b.PNG', 'sub/deeper/c.jpeg']


def test_list_file(image_tree):
    (image_tree / 'train.txt').write_text('sub/b.PNG\n\n  a.jpg  \n')
    dataset = StaticImageDataset(
        data_root=str(image_tree),
        data_prefix=dict(img_path='images'),
        ann_file='train.txt')
    assert rel_paths(dataset, image_tree / 'images') == ['sub/b.PNG', 'a.jpg']


def test_items_through_the_pipeline(image_tree):
    dataset = DATASETS.build(
        dict(
            type='StaticImageDataset',
            data_root=str(image_tree),
            data_prefix=dict(img_path='images'),
            pipeline=PIPELINE))
    assert isinstance(dataset, StaticImageDataset)
    np.random.seed(0)
    item = dataset[1]
    assert item['inputs'].shape == (2, 3, 8, 8)
    assert item['inputs'].dtype == torch.uint8
    assert torch.all(item['inputs'] == 100)
    sample = item['data_samples']
    assert sample.crop_boxes.shape == (2, 4)
    assert sample.img_path.endswith(osp.join('sub', 'b.PNG'))
    assert sample.ori_shape == (16, 20)


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='no_such_folder'):
        StaticImageDataset(
            data_root=str(tmp_path),
            data_prefix=dict(img_path='no_such_folder'))


def test_empty_folder_is_named(tmp_path):
    empty = tmp_path / 'empty_images'
    empty.mkdir()
    (empty / 'readme.txt').write_text('no images here')
    with pytest.raises(ValueError, match='empty_images'):
        StaticImageDataset(
            data_root=str(tmp_path), data_prefix=dict(img_path='empty_images'))


def test_missing_or_empty_list_file_is_named(image_tree):
    with pytest.raises(FileNotFoundError, match='absent.txt'):
        StaticImageDataset(
            data_root=str(image_tree),
            data_prefix=dict(img_path='images'),
            ann_file='absent.txt')
    (image_tree / 'blank.txt').write_text('\n  \n')
    with pytest.raises(ValueError, match='blank.txt'):
        StaticImageDataset(
            data_root=str(image_tree),
            data_prefix=dict(img_path='images'),
            ann_file='blank.txt')


def test_missing_prefix_key():
    with pytest.raises(KeyError, match='img_path'):
        StaticImageDataset(data_prefix=dict(img='x'))


@pytest.fixture
def tree_with_corrupt_jpeg(tmp_path):
    root = tmp_path / 'data'
    write_image(root / 'images' / 'good.jpg')
    (root / 'images' / 'broken.jpg').write_bytes(b'\xff\xd8\xff\xe0garbage')
    return root


def test_corrupt_image_error_names_the_file(tree_with_corrupt_jpeg):
    dataset = StaticImageDataset(
        data_root=str(tree_with_corrupt_jpeg),
        data_prefix=dict(img_path='images'),
        pipeline=PIPELINE)
    assert rel_paths(dataset,
                     tree_with_corrupt_jpeg / 'images')[0] == 'broken.jpg'
    with pytest.raises(UnreadableImageError, match='broken.jpg'):
        dataset[0]


def test_corrupt_image_is_skipped_with_one_warning(tree_with_corrupt_jpeg,
                                                   monkeypatch):
    messages = []
    monkeypatch.setattr('mmhvc.datasets.static_image.print_log',
                        lambda msg, **kwargs: messages.append(msg))
    dataset = StaticImageDataset(
        data_root=str(tree_with_corrupt_jpeg),
        data_prefix=dict(img_path='images'),
        pipeline=PIPELINE,
        skip_bad_images=True)
    np.random.seed(0)
    for _ in range(3):
        item = dataset[0]
        assert item['data_samples'].img_path.endswith('good.jpg')
    assert len(messages) == 1
    assert 'broken.jpg' in messages[0]


def test_listed_missing_file_is_named(image_tree):
    (image_tree / 'list.txt').write_text('a.jpg\ngone.jpg\n')
    dataset = StaticImageDataset(
        data_root=str(image_tree),
        data_prefix=dict(img_path='images'),
        ann_file='list.txt',
        pipeline=PIPELINE)
    with pytest.raises(UnreadableImageError, match='gone.jpg'):
        dataset[1]


def test_skipping_needs_the_checking_loader(image_tree):
    with pytest.raises(ValueError, match='LoadImageWithCheck'):
        StaticImageDataset(
            data_root=str(image_tree),
            data_prefix=dict(img_path='images'),
            pipeline=[dict(type='LoadImageFromFile')],
            skip_bad_images=True)
