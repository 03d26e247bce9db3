from collections import Counter

import pytest

from mmhvc.datasets.samplers import VideoFrameSampler

# frame counts of four videos; their dataset indices are consecutive
SIZES = [10, 3, 6, 1]


class FakeVideoDataset:
    """Stands in for VideoFrameDataset: only the video grouping matters."""

    def __init__(self, sizes=SIZES):
        self.groups = []
        start = 0
        for size in sizes:
            self.groups.append(list(range(start, start + size)))
            start += size

    def __len__(self):
        return sum(len(group) for group in self.groups)

    def video_frame_indices(self):
        return [list(group) for group in self.groups]


def video_of(dataset):
    return {idx: v for v, group in enumerate(dataset.groups) for idx in group}


def test_at_most_n_frames_per_video_per_epoch():
    dataset = FakeVideoDataset()
    sampler = VideoFrameSampler(dataset, max_frames_per_video=4, seed=0)
    expected = {0: 4, 1: 3, 2: 4, 3: 1}
    assert len(sampler) == sum(expected.values())
    owner = video_of(dataset)
    for epoch in range(3):
        sampler.set_epoch(epoch)
        indices = list(sampler)
        assert len(indices) == len(set(indices)) == len(sampler)
        assert Counter(owner[i] for i in indices) == expected


def test_subset_changes_with_the_epoch_and_repeats_with_the_seed():
    dataset = FakeVideoDataset()
    sampler = VideoFrameSampler(dataset, max_frames_per_video=4, seed=0)
    sampler.set_epoch(0)
    epoch0 = list(sampler)
    sampler.set_epoch(1)
    epoch1 = list(sampler)
    assert set(epoch0) != set(epoch1)
    # the 10-frame video gets a different subset
    assert {i for i in epoch0 if i < 10} != {i for i in epoch1 if i < 10}
    same_seed = VideoFrameSampler(dataset, max_frames_per_video=4, seed=0)
    same_seed.set_epoch(1)
    assert list(same_seed) == epoch1


def test_draws_cover_all_frames_over_epochs():
    dataset = FakeVideoDataset()
    sampler = VideoFrameSampler(dataset, max_frames_per_video=4, seed=1)
    seen = set()
    for epoch in range(30):
        sampler.set_epoch(epoch)
        seen.update(sampler)
    assert seen == set(range(len(dataset)))


def test_without_shuffle_frames_come_in_video_order():
    dataset = FakeVideoDataset()
    sampler = VideoFrameSampler(
        dataset, max_frames_per_video=2, shuffle=False, seed=3)
    indices = list(sampler)
    assert indices == sorted(indices)
    assert Counter(video_of(dataset)[i] for i in indices) == {
        0: 2,
        1: 2,
        2: 2,
        3: 1
    }


def test_no_limit_takes_every_frame():
    dataset = FakeVideoDataset()
    sampler = VideoFrameSampler(dataset, max_frames_per_video=None, seed=0)
    assert sorted(sampler) == list(range(len(dataset)))


@pytest.mark.parametrize('round_up', [True, False])
def test_ranks_split_one_draw(monkeypatch, round_up):
    dataset = FakeVideoDataset()
    per_rank = []
    for rank in range(2):
        monkeypatch.setattr(
            'mmhvc.datasets.samplers.video_frame_sampler.get_dist_info',
            lambda rank=rank: (rank, 2))
        sampler = VideoFrameSampler(
            dataset, max_frames_per_video=4, seed=5, round_up=round_up)
        sampler.set_epoch(2)
        per_rank.append(list(sampler))
        assert len(per_rank[-1]) == len(sampler)
        full = sampler.draw_epoch_indices()
    assert len(full) == 12
    if round_up:
        # 12 drawn frames split evenly, no overlap
        assert sorted(per_rank[0] + per_rank[1]) == sorted(full)
        assert len(per_rank[0]) == len(per_rank[1]) == 6
    assert set(per_rank[0]).isdisjoint(per_rank[1])
    assert set(per_rank[0]) | set(per_rank[1]) == set(full)


def test_odd_total_is_rounded_up(monkeypatch):
    dataset = FakeVideoDataset([3, 2])  # 5 frames, 2 ranks
    monkeypatch.setattr(
        'mmhvc.datasets.samplers.video_frame_sampler.get_dist_info', lambda:
        (1, 2))
    sampler = VideoFrameSampler(dataset, max_frames_per_video=4, seed=0)
    assert len(sampler) == 3 == len(list(sampler))


def test_dataset_without_video_grouping_is_refused():
    with pytest.raises(TypeError, match='video_frame_indices'):
        VideoFrameSampler(list(range(5)), seed=0)
    with pytest.raises(ValueError, match='max_frames_per_video'):
        VideoFrameSampler(FakeVideoDataset(), max_frames_per_video=0, seed=0)
