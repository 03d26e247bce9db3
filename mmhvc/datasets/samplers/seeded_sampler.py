"""Random augmentations that depend only on the sample's place in training.

Random transforms (``RandomResizedCropPair`` among them) draw from the
global NumPy generator of the process that loads the sample. Its state
depends on everything that process loaded before, and MMEngine neither
saves it in checkpoints nor the data loader workers' generators; so after a
resume at an epoch boundary the crops differ from an uninterrupted run's,
and they also change with ``num_workers``. With :class:`SeededSampler` and
:class:`~mmhvc.datasets.SeededDataset` the random numbers of each sample
come from its own seed, a function of ``(seed, epoch, position)`` only,
where ``position`` is the sample's index in the epoch's global order (over
all processes). Crops
then do not depend on history, on the number of data loader workers or on
how the processes share the work, and a resumed run sees exactly the crops
of an uninterrupted one.
"""
from typing import Iterator, Optional, Tuple

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Dataset, Sampler

from mmhvc.registry import DATA_SAMPLERS
from ..seeded_dataset import SeededDataset


def sample_seed(seed: int, epoch: int, position: int) -> int:
    """The seed of the sample at global ``position`` of ``epoch``.

    Args:
        seed: The run's seed.
        epoch: The epoch (0 for samplers without epochs).
        position: Index of the sample in the epoch's global order.

    Returns:
        A 32-bit seed, well mixed from the three numbers
        (``numpy.random.SeedSequence``).
    """
    entropy = [int(seed) % 2**32, int(epoch), int(position)]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


@DATA_SAMPLERS.register_module()
class SeededSampler(Sampler):
    """Pair every index of a sampler with the seed of its sample.

    Yields ``(index, seed)`` for :class:`~mmhvc.datasets.SeededDataset`,
    with ``index`` as the wrapped sampler yields it and ``seed`` =
    :func:`sample_seed` ``(seed, epoch, position)``. ``position`` counts the
    samples of all processes since the last :meth:`set_epoch`: the k-th
    sample of rank r is at ``k * world_size + r``, the layout of MMEngine's
    ``DefaultSampler`` and ``InfiniteSampler`` and of
    :class:`VideoFrameSampler`. When a loop skips samples by drawing them
    (MMEngine's resume of an iteration-based loop), the positions advance as
    in the uninterrupted run.

    Args:
        dataset: The dataset; it must be a
            :class:`~mmhvc.datasets.SeededDataset`.
        sampler: Config of the wrapped sampler, e.g.
            ``dict(type='DefaultSampler', shuffle=True)``; it is built with
            the same ``dataset`` and ``seed``.
        seed: The run's seed, shared by all ranks; None draws one and
            synchronises it (as MMEngine's samplers do).
    """

    def __init__(self,
                 dataset: Dataset,
                 sampler: dict = dict(type='DefaultSampler', shuffle=True),
                 seed: Optional[int] = None) -> None:
        if not isinstance(dataset, SeededDataset):
            raise TypeError(
                'SeededSampler yields (index, seed) pairs, which only '
                'SeededDataset accepts: wrap the training dataset as '
                "dataset=dict(type='SeededDataset', dataset=...), got "
                f'{type(dataset).__name__}')
        self.rank, self.world_size = get_dist_info()
        self.seed = sync_random_seed() if seed is None else seed
        self.sampler = DATA_SAMPLERS.build(
            sampler, default_args=dict(dataset=dataset, seed=self.seed))
        self.epoch = 0
        self._count = 0

    def __iter__(self) -> Iterator[Tuple[int, int]]:
        for index in self.sampler:
            position = self._count * self.world_size + self.rank
            self._count += 1
            yield index, sample_seed(self.seed, self.epoch, position)

    def __len__(self) -> int:
        return len(self.sampler)

    def set_epoch(self, epoch: int) -> None:
        """Start ``epoch``: forwarded to the wrapped sampler; positions
        count from 0 again."""
        self.epoch = epoch
        self._count = 0
        if hasattr(self.sampler, 'set_epoch'):
            self.sampler.set_epoch(epoch)
