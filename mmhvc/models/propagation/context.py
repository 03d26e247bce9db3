"""Which frames a query frame is propagated from, and how many are kept."""
from typing import List, Optional, Sequence

import torch

from .context_memory import ContextMemory


class ContextPolicy:
    """The context of each query frame and the size of the memory it needs.

    A context belongs to a group of labels given at frame ``start`` (its
    long-term frame). For query frame ``t > start`` it is the long-term frame
    followed by the short-term frames ``t - context_size .. t - 1`` clamped
    to ``start``. As in the reference protocol the list is not deduplicated,
    so at ``t = start + 1`` it holds ``context_size + 1`` copies of frame
    ``start``; with ``dedup_context`` each frame appears once.

    Args:
        context_size: Number of short-term context frames (``>= 1``).
        dedup_context: Use the long-term frame and the distinct previous
            frames once each instead of the padded reference context.
    """

    def __init__(self,
                 context_size: int = 50,
                 dedup_context: bool = False) -> None:
        if context_size < 1:
            raise ValueError(f'context_size must be >= 1, got {context_size}')
        self.context_size = context_size
        self.dedup_context = dedup_context

    def context_indices(self, start: int, t: int) -> List[int]:
        """Context frame indices for query frame ``t`` of a group from
        ``start``: ``[start] + [max(s, start) for s in t-S .. t-1]``, or with
        ``dedup_context`` each of those frames once."""
        if t <= start:
            raise ValueError(f'query frame {t} must come after the first '
                             f'frame {start} of its context')
        first = t - self.context_size
        if self.dedup_context:
            return [start] + [
                s for s in range(max(first, start), t) if s != start
            ]
        return [start] + [max(s, start) for s in range(first, t)]

    def memory_frames(self, starts: Sequence[int], t: int) -> List[int]:
        """Frames that the contexts of query frame ``t + 1`` can refer to,
        for groups that start at ``starts``. Retaining these before storing
        frame ``t`` keeps a memory from :meth:`init_memory` within capacity.
        """
        return sorted(set(starts).union(
            range(max(t + 1 - self.context_size, 0), t + 1)))

    def init_memory(self,
                    num_long_term: int,
                    num_channels: int,
                    num_labels: int,
                    height: int,
                    width: int,
                    device: torch.device = torch.device('cpu'),
                    dtype: torch.dtype = torch.float32,
                    coarse_dtype: Optional[torch.dtype] = None
                    ) -> ContextMemory:
        """A memory of ``context_size`` recent frames plus ``num_long_term``
        long-term frames of ``(C, h, w)`` features and ``(L, h, w)`` labels
        (see :class:`~mmhvc.models.propagation.ContextMemory` for the other
        arguments)."""
        return ContextMemory(self.context_size + num_long_term, num_channels,
                             num_labels, height, width, device, dtype,
                             coarse_dtype)
