import pytest
import torch

from mmhvc.models.propagation import ContextPolicy


def test_context_indices():
    policy = ContextPolicy(context_size=3)
    assert policy.context_indices(0, 1) == [0, 0, 0, 0]
    assert policy.context_indices(0, 2) == [0, 0, 0, 1]
    assert policy.context_indices(0, 5) == [0, 2, 3, 4]
    assert policy.context_indices(3, 4) == [3, 3, 3, 3]
    assert policy.context_indices(3, 5) == [3, 3, 3, 4]
    dedup = ContextPolicy(context_size=3, dedup_context=True)
    assert dedup.context_indices(0, 2) == [0, 1]
    assert dedup.context_indices(0, 5) == [0, 2, 3, 4]
    assert dedup.context_indices(3, 5) == [3, 4]
    with pytest.raises(ValueError, match='after'):
        policy.context_indices(3, 3)


def test_reference_context_length():
    # the HVC protocol: the first frame plus 50 previous frames, padded
    policy = ContextPolicy()
    context = policy.context_indices(0, 60)
    assert len(context) == 51
    assert context == [0] + list(range(10, 60))


def test_memory_frames():
    policy = ContextPolicy(context_size=3)
    # after storing frame 6, frame 7 needs 4, 5, 6 and the group starts
    assert policy.memory_frames([0, 2], 6) == [0, 2, 4, 5, 6]
    assert policy.memory_frames([0], 1) == [0, 1]
    assert policy.memory_frames([5], 5) == [3, 4, 5]


def run_video(policy, num_frames, starts, channels=4, size=3):
    """Retain and store every frame from ``starts[0]`` on as the model does;
    check that every context refers to held frames. Returns the peak number
    of frames held."""
    generator = torch.Generator().manual_seed(0)
    memory = policy.init_memory(len(starts), channels, 2, size, size)
    peak = 0
    for t in range(starts[0], num_frames):
        for start in [s for s in starts if s < t]:
            for frame in policy.context_indices(start, t):
                memory.slot(frame)
        memory.retain(policy.memory_frames([s for s in starts if s <= t], t))
        memory.add(t, torch.randn(channels, size, size, generator=generator),
                   torch.rand(2, size, size, generator=generator))
        peak = max(peak, len(memory.frames))
    return peak


@pytest.mark.parametrize('dedup', [False, True])
def test_memory_stays_bounded(dedup):
    policy = ContextPolicy(context_size=5, dedup_context=dedup)
    assert run_video(policy, 40, [0, 7, 20]) == 5 + 3
    assert run_video(policy, 12, [2]) == 5 + 1


def test_init_memory_capacity():
    memory = ContextPolicy(context_size=5).init_memory(1, 4, 3, 3, 3)
    assert memory.feats.shape == (6, 3, 3, 4)
    assert memory.labels.shape == (6, 9, 3)
    assert memory.coarse_feats is None
    with pytest.raises(RuntimeError, match='full'):
        for t in range(7):
            memory.add(t, torch.zeros(4, 3, 3), torch.zeros(3, 3, 3))
    memory = ContextPolicy(context_size=2).init_memory(
        3, 4, 3, 3, 3, coarse_dtype=torch.bfloat16)
    assert memory.feats.shape[0] == 5
    assert memory.coarse_feats.dtype == torch.bfloat16


def test_invalid_context_size():
    with pytest.raises(ValueError, match='context_size'):
        ContextPolicy(context_size=0)
