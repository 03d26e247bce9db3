import random

import numpy as np
import torch

from mmhvc.datasets import SeededDataset
from mmhvc.registry import DATASETS


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

    def video_frame_indices(self):
        return [list(range(self.n))]


@DATASETS.register_module(force=True)
class SeededTestItems(Items):
    """:class:`Items` built from a config."""


def test_registered_and_built_from_config():
    assert DATASETS.get('SeededDataset') is SeededDataset
    dataset = DATASETS.build(
        dict(type='SeededDataset', dataset=dict(type='SeededTestItems', n=4)))
    assert isinstance(dataset.dataset, SeededTestItems) and len(dataset) == 4


def test_forwards_the_wrapped_attributes():
    dataset = SeededDataset(Items(n=3))
    assert dataset.metainfo == dict(name='items')
    assert dataset.video_frame_indices() == [[0, 1, 2]]


def test_dataset_seeds_each_sample_and_restores_the_generators():
    dataset = SeededDataset(Items())
    assert dataset.metainfo == dict(name='items') and len(dataset) == 6
    np.random.seed(11)
    state = np.random.get_state()
    torch_state = torch.get_rng_state()
    first = dataset[(2, 99)]
    assert dataset[(2, 99)] == first
    assert first == (2, float(np.random.RandomState(99).random_sample()))
    assert dataset[(2, 100)] != first
    np.testing.assert_array_equal(np.random.get_state()[1], state[1])
    assert torch.equal(torch.get_rng_state(), torch_state)
    # A plain index loads without seeding.
    assert dataset[3][0] == 3


def test_seeds_python_and_torch_generators_too():

    class Draws(Items):

        def __getitem__(self, index):
            return random.random(), float(torch.rand(1))

    dataset = SeededDataset(Draws())
    random.seed(5)
    python_state = random.getstate()
    drawn = dataset[(0, 7)]
    assert drawn[0] == random.Random(7).random()
    assert drawn[1] == float(
        torch.rand(1, generator=torch.Generator().manual_seed(7)))
    assert random.getstate() == python_state
