"""A dataset wrapper that loads each sample with generators seeded for it.

Together with :class:`~mmhvc.datasets.samplers.SeededSampler`, which pairs
every index with the seed of its place in training, the random transforms
of a sample draw the same numbers whatever the process loaded before (see
:mod:`mmhvc.datasets.samplers.seeded_sampler`).
"""
import random

import numpy as np
import torch
from torch.utils.data import Dataset

from mmhvc.registry import DATASETS


@DATASETS.register_module()
class SeededDataset(Dataset):
    """Load each sample with the global random generators seeded for it.

    Wraps a dataset. An index ``(i, s)`` (from
    :class:`~mmhvc.datasets.samplers.SeededSampler`) loads item ``i`` with
    the global ``random``, NumPy and torch generators seeded with ``s``;
    their previous states are restored afterwards, so the loading has no
    side effect on other users of the generators. A plain integer index
    loads the item without seeding. Other attributes
    (``metainfo``, ``video_frame_indices`` ...) are those of the wrapped
    dataset.

    Args:
        dataset: The wrapped dataset, or its config.
    """

    def __init__(self, dataset) -> None:
        self.dataset = DATASETS.build(dataset) if isinstance(dataset,
                                                             dict) else dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getattr__(self, name: str):
        if name == 'dataset':
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __getitem__(self, key):
        if not isinstance(key, tuple):
            return self.dataset[key]
        index, seed = key
        states = random.getstate(), np.random.get_state(), \
            torch.get_rng_state()
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        try:
            return self.dataset[index]
        finally:
            random.setstate(states[0])
            np.random.set_state(states[1])
            torch.set_rng_state(states[2])
