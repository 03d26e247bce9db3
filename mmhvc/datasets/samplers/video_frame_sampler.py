"""Per-epoch sampling of at most N frames of every video."""
import math
from typing import Iterator, List, Optional

import torch
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Dataset, Sampler

from mmhvc.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class VideoFrameSampler(Sampler):
    """Each epoch, draw at most N frames of every video, then shuffle them.

    The frame subset is drawn anew every epoch from a generator seeded with
    ``seed + epoch`` (MMEngine's training loop calls :meth:`set_epoch`), so
    every rank draws the same subset and each rank takes its own slice, as
    in ``DefaultSampler``. Videos with at most N frames contribute all of
    them. The draw happens in the main process, so it is correct with
    persistent data loader workers too.

    Args:
        dataset: A dataset with a ``video_frame_indices()`` method returning
            the dataset indices of each video (:class:`VideoFrameDataset`).
        max_frames_per_video: N; None takes every frame.
        shuffle: Whether to shuffle the drawn frames; without shuffling
            they come video by video in frame order.
        seed: Random seed shared by all ranks; None draws one and
            synchronises it.
        round_up: Whether to repeat frames so that every rank gets the same
            number of samples (as ``DefaultSampler``).
    """

    def __init__(self,
                 dataset: Dataset,
                 max_frames_per_video: Optional[int] = 80,
                 shuffle: bool = True,
                 seed: Optional[int] = None,
                 round_up: bool = True) -> None:
        if not hasattr(dataset, 'video_frame_indices'):
            raise TypeError(
                'VideoFrameSampler needs a dataset with a '
                'video_frame_indices() method (e.g. VideoFrameDataset), got '
                f'{type(dataset).__name__}')
        if max_frames_per_video is not None and (not isinstance(
                max_frames_per_video, int) or max_frames_per_video < 1):
            raise ValueError('max_frames_per_video must be a positive int or '
                             f'None, got {max_frames_per_video}')
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.max_frames_per_video = max_frames_per_video
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.round_up = round_up
        self.epoch = 0
        self.video_groups: List[List[int]] = dataset.video_frame_indices()
        self.num_drawn = sum(
            len(group) if max_frames_per_video is
            None else min(len(group), max_frames_per_video)
            for group in self.video_groups)
        if round_up:
            self.num_samples = math.ceil(self.num_drawn / self.world_size)
            self.total_size = self.num_samples * self.world_size
        else:
            self.num_samples = math.ceil(
                (self.num_drawn - self.rank) / self.world_size)
            self.total_size = self.num_drawn

    def draw_epoch_indices(self) -> List[int]:
        """Return the dataset indices of this epoch, for all ranks.

        Returns:
            ``num_drawn`` indices: at most N per video, shuffled when
            ``shuffle`` is True.
        """
        generator = torch.Generator()
        generator.manual_seed(self.seed + self.epoch)
        limit = self.max_frames_per_video
        indices: List[int] = []
        for group in self.video_groups:
            if limit is None or len(group) <= limit:
                indices.extend(group)
                continue
            chosen = torch.randperm(len(group), generator=generator)[:limit]
            indices.extend(group[i] for i in sorted(chosen.tolist()))
        if self.shuffle:
            order = torch.randperm(len(indices), generator=generator).tolist()
            indices = [indices[i] for i in order]
        return indices

    def __iter__(self) -> Iterator[int]:
        """Iterate over this rank's indices of the current epoch."""
        indices = self.draw_epoch_indices()
        if self.round_up and indices:
            repeats = self.total_size // len(indices) + 1
            indices = (indices * repeats)[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.world_size])

    def __len__(self) -> int:
        """Number of samples of this rank per epoch."""
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch, which selects the frame subset and the order.

        Args:
            epoch: Epoch number.
        """
        self.epoch = epoch
