"""Bounded per-video store of frame features and soft labels."""
import heapq
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import torch
from torch import Tensor


def check_long_term(context: Sequence[int], num_long_term: int) -> None:
    """Check that a context of frame indices is not empty and starts with
    ``num_long_term`` distinct long-term frames (at least one)."""
    if len(context) == 0:
        raise ValueError('a context must hold at least one frame')
    if not 1 <= num_long_term <= len(context):
        raise ValueError(
            f'a context of {len(context)} frames cannot start with '
            f'{num_long_term} long-term frames (at least one)')
    if len(set(context[:num_long_term])) < num_long_term:
        raise ValueError('the long-term frames of a context must be '
                         f'distinct, got {list(context[:num_long_term])}')


class ContextMemory:
    """Features and soft labels of the frames a video's contexts refer to.

    Each frame is stored once, in one of ``capacity`` preallocated slots,
    however many object groups or context entries refer to it, so memory does
    not grow with the video length or the number of objects. Freed slots are
    reused lowest first.

    Args:
        capacity: Number of slots (frames held at once).
        num_channels: Feature channels ``C``.
        num_labels: Soft-label channels ``L`` (background plus objects).
        height: Feature-grid height ``h``.
        width: Feature-grid width ``w``.
        device: Device of the stored tensors.
        dtype: Floating dtype of the stored tensors.

    Attributes:
        feats: ``(capacity, h, w, C)`` features, channel-last: a view of
            position-major storage ``(h, w, capacity, C)``, where the
            features of one grid cell in all slots are adjacent (so a row
            of keys of every slot is one matrix for the propagator).
        labels: ``(capacity, h * w, L)`` soft labels, position-major.
        workspace: Scratch buffers of the propagator, kept with the memory so
            that they are allocated once per video rather than per frame.
    """

    def __init__(self,
                 capacity: int,
                 num_channels: int,
                 num_labels: int,
                 height: int,
                 width: int,
                 device: torch.device = torch.device('cpu'),
                 dtype: torch.dtype = torch.float32) -> None:
        if capacity < 1:
            raise ValueError(f'capacity must be >= 1, got {capacity}')
        storage = torch.zeros(
            height, width, capacity, num_channels, device=device, dtype=dtype)
        self.feats = storage.permute(2, 0, 1, 3)
        self.labels = torch.zeros(
            capacity, height * width, num_labels, device=device, dtype=dtype)
        self.workspace: Dict[str, Tensor] = {}
        self._slots: Dict[int, int] = {}
        self._free: List[int] = list(range(capacity))

    @property
    def grid_shape(self) -> tuple:
        """``(h, w)`` of the stored feature grid."""
        return tuple(self.feats.shape[1:3])

    @property
    def capacity(self) -> int:
        """Number of slots."""
        return self.feats.shape[0]

    def check_query(self, query: Tensor) -> Tuple[int, int, int]:
        """``(C, h, w)`` of ``query`` features, checked against the memory."""
        if query.dim() != 3 or tuple(query.shape[1:]) != self.grid_shape or \
                query.shape[0] != self.feats.shape[3]:
            raise ValueError(
                f'query features {tuple(query.shape)} do not match the '
                'memory (C, h, w) = '
                f'{(self.feats.shape[3], *self.grid_shape)}')
        return tuple(query.shape)

    def reserve(self, capacity: int) -> None:
        """Grow to at least ``capacity`` slots, keeping every held frame in
        its slot."""
        old = self.capacity
        if capacity <= old:
            return
        height, width, _, channels = self.feats.permute(1, 2, 0, 3).shape
        storage = self.feats.new_zeros(height, width, capacity, channels)
        storage[:, :, :old] = self.feats.permute(1, 2, 0, 3)
        self.feats = storage.permute(2, 0, 1, 3)
        labels = self.labels.new_zeros(capacity, *self.labels.shape[1:])
        labels[:old] = self.labels
        self.labels = labels
        for slot in range(old, capacity):
            heapq.heappush(self._free, slot)

    @property
    def frames(self) -> List[int]:
        """Indices of the frames held, in insertion order."""
        return list(self._slots)

    @property
    def slots(self) -> Dict[int, int]:
        """A copy of the map from each held frame to its slot."""
        return dict(self._slots)

    def __contains__(self, frame: int) -> bool:
        return frame in self._slots

    def slot(self, frame: int) -> int:
        """Slot that holds ``frame``."""
        if frame not in self._slots:
            raise KeyError(f'frame {frame} is not in the context memory '
                           f'(held: {sorted(self._slots)})')
        return self._slots[frame]

    def add(self,
            frame: int,
            feat: Tensor,
            label: Tensor,
            slot: Optional[int] = None) -> None:
        """Store ``feat`` ``(C, h, w)`` and ``label`` ``(L, h, w)`` of a frame.

        Storing a frame that is already held overwrites it in place. A new
        frame goes to the lowest free slot, or to ``slot`` when given (a
        free one; to rebuild a memory as it was, see :attr:`slots`).
        """
        if feat.shape[1:] != self.feats.shape[1:3] or \
                feat.shape[0] != self.feats.shape[3]:
            raise ValueError(
                f'frame {frame}: features of shape {tuple(feat.shape)} do not '
                f'fit the memory (C, h, w) = '
                f'{(self.feats.shape[3], *self.feats.shape[1:3])}')
        if label.shape != (self.labels.shape[2], *self.feats.shape[1:3]):
            raise ValueError(
                f'frame {frame}: labels of shape {tuple(label.shape)} do not '
                f'fit the memory (L, h, w) = '
                f'{(self.labels.shape[2], *self.feats.shape[1:3])}')
        if slot is not None and frame not in self._slots:
            if slot not in self._free:
                raise ValueError(f'frame {frame}: slot {slot} is not free '
                                 f'(free: {sorted(self._free)})')
            self._free.remove(slot)
            heapq.heapify(self._free)
            self._slots[frame] = slot
        if frame not in self._slots:
            if not self._free:
                raise RuntimeError(
                    f'context memory is full ({self.feats.shape[0]} frames: '
                    f'{sorted(self._slots)}); cannot add frame {frame}')
            self._slots[frame] = heapq.heappop(self._free)
        slot = self._slots[frame]
        self.feats[slot] = feat.permute(1, 2, 0)
        self.labels[slot] = label.flatten(1).T

    def retain(self, frames: Iterable[int]) -> None:
        """Free every held frame that is not in ``frames``."""
        keep = set(frames)
        for frame in [f for f in self._slots if f not in keep]:
            heapq.heappush(self._free, self._slots.pop(frame))
