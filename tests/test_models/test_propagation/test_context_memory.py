import pytest
import torch

from mmhvc.models.propagation import ContextMemory


def test_memory_checks_shapes_and_frames():
    memory = ContextMemory(2, 4, 3, 5, 6)
    with pytest.raises(ValueError, match='features'):
        memory.add(0, torch.zeros(4, 5, 7), torch.zeros(3, 5, 6))
    with pytest.raises(ValueError, match='labels'):
        memory.add(0, torch.zeros(4, 5, 6), torch.zeros(2, 5, 6))
    with pytest.raises(KeyError, match='frame 3'):
        memory.slot(3)
    with pytest.raises(ValueError, match='capacity'):
        ContextMemory(0, 4, 3, 5, 6)
    with pytest.raises(ValueError, match='query features'):
        memory.check_query(torch.zeros(4, 5, 7))
    assert memory.check_query(torch.zeros(4, 5, 6)) == (4, 5, 6)


def test_stores_channel_last_features_and_position_major_labels():
    generator = torch.Generator().manual_seed(0)
    feat = torch.randn(4, 5, 6, generator=generator)
    label = torch.rand(3, 5, 6, generator=generator)
    memory = ContextMemory(2, 4, 3, 5, 6)
    memory.add(3, feat, label)
    slot = memory.slot(3)
    assert 3 in memory and memory.frames == [3]
    assert memory.grid_shape == (5, 6)
    # feats[slot, y, x, c] = feat[c, y, x]; labels[slot, y * w + x, l]
    assert torch.equal(memory.feats[slot, 2, 4], feat[:, 2, 4])
    assert torch.equal(memory.labels[slot, 2 * 6 + 4], label[:, 2, 4])


def test_slots_are_reused_lowest_first_and_overwritten_in_place():
    memory = ContextMemory(3, 1, 1, 1, 1)
    ones = torch.ones(1, 1, 1)
    for frame in (10, 11, 12):
        memory.add(frame, frame * ones, ones)
    assert [memory.slot(f) for f in (10, 11, 12)] == [0, 1, 2]
    memory.retain([12])
    assert memory.frames == [12]
    memory.add(14, 14 * ones, ones)
    memory.add(13, 13 * ones, ones)
    assert (memory.slot(14), memory.slot(13)) == (0, 1)
    memory.add(12, 20 * ones, ones)
    assert memory.slot(12) == 2 and memory.feats[2].item() == 20


def test_reserve_grows_and_keeps_every_frame_in_its_slot():
    generator = torch.Generator().manual_seed(0)
    memory = ContextMemory(2, 4, 3, 5, 6)
    feats = torch.randn(4, 4, 5, 6, generator=generator)
    labels = torch.rand(4, 3, 5, 6, generator=generator)
    memory.add(7, feats[0], labels[0])
    memory.add(8, feats[1], labels[1])
    with pytest.raises(RuntimeError, match='full'):
        memory.add(9, feats[2], labels[2])
    memory.reserve(1)
    assert memory.capacity == 2
    memory.reserve(4)
    assert memory.capacity == 4
    assert (memory.slot(7), memory.slot(8)) == (0, 1)
    memory.add(9, feats[2], labels[2])
    memory.add(10, feats[3], labels[3])
    for i, frame in enumerate((7, 8, 9, 10)):
        slot = memory.slot(frame)
        assert torch.equal(memory.feats[slot], feats[i].permute(1, 2, 0))
        assert torch.equal(memory.labels[slot], labels[i].flatten(1).T)


def test_a_frame_can_be_put_in_a_chosen_free_slot():
    memory = ContextMemory(3, 2, 2, 1, 1)
    feat = torch.ones(2, 1, 1)
    label = torch.zeros(2, 1, 1)
    memory.add(5, feat, label, slot=2)
    memory.add(6, feat, label)
    assert memory.slots == {5: 2, 6: 0}
    with pytest.raises(ValueError, match='slot 2 is not free'):
        memory.add(7, feat, label, slot=2)
    # the remaining free slot is still taken lowest first
    memory.add(7, feat, label)
    assert memory.slot(7) == 1
