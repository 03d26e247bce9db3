import os

import cv2
import numpy as np
import pytest
from mmengine.dataset import DefaultSampler, pseudo_collate
from torch.utils.data import DataLoader

from mmhvc.datasets import SeededDataset, StaticImageDataset
from mmhvc.datasets.samplers import SeededSampler, sample_seed
from mmhvc.datasets.samplers import seeded_sampler as module
from mmhvc.registry import DATA_SAMPLERS

PIPELINE = [
    dict(type='LoadImageWithCheck'),
    dict(type='RandomResizedCropPair', size=8),
    dict(type='PackCropPairInputs'),
]


class Items:
    """A dataset of ``n`` items; each item is a draw of NumPy's global
    generator (so it shows how the generator was seeded)."""
    metainfo = dict(name='items')

    def __init__(self, n=6):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        return index, float(np.random.random_sample())


@pytest.fixture(scope='module')
def image_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('seeded')
    rng = np.random.default_rng(0)
    os.makedirs(root / 'images')
    for i in range(6):
        cv2.imwrite(str(root / 'images' / f'{i}.png'),
                    rng.integers(0, 256, (20, 28, 3), dtype=np.uint8))
    return str(root)


def test_registered_and_seed_function():
    assert DATA_SAMPLERS.get('SeededSampler') is SeededSampler
    assert sample_seed(0, 1, 2) == sample_seed(0, 1, 2)
    seeds = {sample_seed(s, e, p) for s in (0, 1) for e in (0, 1)
             for p in range(50)}
    assert len(seeds) == 200


def test_pairs_indices_with_the_seed_of_their_position():
    dataset = SeededDataset(Items())
    sampler = SeededSampler(dataset, seed=3)
    inner = DefaultSampler(dataset, shuffle=True, seed=3)
    for epoch in (0, 1):
        sampler.set_epoch(epoch)
        inner.set_epoch(epoch)
        assert list(sampler) == [(index, sample_seed(3, epoch, position))
                                 for position, index in enumerate(inner)]


def test_positions_continue_with_an_infinite_sampler():
    dataset = SeededDataset(Items())
    sampler = SeededSampler(
        dataset, sampler=dict(type='InfiniteSampler', shuffle=True), seed=0)
    first = iter(sampler)
    drawn = [next(first) for _ in range(8)]
    # A second iterator (a re-created data loader iterator) goes on.
    assert next(iter(sampler))[1] == sample_seed(0, 0, 8)
    assert [seed for _, seed in drawn] == [
        sample_seed(0, 0, p) for p in range(8)
    ]


def test_ranks_share_the_global_order(monkeypatch):
    """Two ranks together yield what one process yields."""
    dataset = SeededDataset(Items(n=8))
    single = list(SeededSampler(dataset, seed=5))
    per_rank = []
    for rank in (0, 1):
        monkeypatch.setattr(module, 'get_dist_info', lambda r=rank: (r, 2))
        monkeypatch.setattr('mmengine.dataset.sampler.get_dist_info',
                            lambda r=rank: (r, 2))
        per_rank.append(list(SeededSampler(dataset, seed=5)))
    merged = [pair for pairs in zip(*per_rank) for pair in pairs]
    assert merged == single


def test_needs_the_seeded_dataset():
    with pytest.raises(TypeError, match="type='SeededDataset'"):
        SeededSampler(Items(), seed=0)


def crop_boxes(image_root, epochs, num_workers=0, start_epoch=0):
    """Crop boxes of every sample of the given epochs, in loading order."""
    dataset = SeededDataset(
        StaticImageDataset(
            data_root=image_root,
            data_prefix=dict(img_path='images'),
            pipeline=PIPELINE))
    sampler = SeededSampler(dataset, seed=0)
    loader = DataLoader(
        dataset,
        batch_size=2,
        sampler=sampler,
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
        collate_fn=pseudo_collate)
    boxes = {}
    for epoch in range(start_epoch, epochs):
        sampler.set_epoch(epoch)
        boxes[epoch] = [
            sample.crop_boxes.numpy() for batch in loader
            for sample in batch['data_samples']
        ]
    return boxes


def test_crops_do_not_depend_on_history_or_workers(image_root):
    np.random.seed(0)
    full = crop_boxes(image_root, epochs=3)
    # Different crops in different epochs ...
    assert not np.allclose(full[0], full[1])
    # ... and, for an epoch, the same crops when training starts there
    # (a resume) or loads with worker processes.
    np.random.seed(123)
    resumed = crop_boxes(image_root, epochs=3, start_epoch=2)
    np.testing.assert_array_equal(resumed[2], full[2])
    with_workers = crop_boxes(image_root, epochs=2, num_workers=2)
    np.testing.assert_array_equal(with_workers[1], full[1])


def test_wraps_the_video_frame_sampler():
    class Videos(Items):

        def video_frame_indices(self):
            return [[0, 1, 2, 3], [4, 5]]

    dataset = SeededDataset(Videos())
    sampler = SeededSampler(
        dataset,
        sampler=dict(type='VideoFrameSampler', max_frames_per_video=2),
        seed=1)
    inner = DATA_SAMPLERS.build(
        dict(type='VideoFrameSampler', max_frames_per_video=2),
        default_args=dict(dataset=dataset, seed=1))
    for epoch in (0, 1):
        sampler.set_epoch(epoch)
        inner.set_epoch(epoch)
        assert [index for index, _ in sampler] == list(inner)
