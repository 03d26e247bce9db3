"""Which memory slots the contexts of a query frame use, and how: the plan
the top-k kernel scores by."""
from collections import Counter
from typing import List, NamedTuple, Optional, Sequence

import torch
from torch import Tensor

from .context_memory import ContextMemory


class ContextGroup(NamedTuple):
    """How one context uses the memory.

    ``window`` ``(n_g,)`` are the positions of its radius-restricted frames
    in the planned slot range, ``slots`` their memory slots and ``counts``
    their multiplicities. ``long_term`` is the slot compared with every
    position (None when restricted); its copies among the short-term
    frames (``long_term_copies``) add to the multiplicity inside each disk.
    """
    window: Tensor
    slots: Tensor
    counts: Tensor
    all_window: bool
    long_term: Optional[int]
    long_term_copies: int


class SlotPlan(NamedTuple):
    """The range of memory slots ``slots`` whose window scores are computed
    (all slots once they are more than half used, so that one product covers
    a key row), the range ``used`` of positions in it that holds the
    radius-restricted frames, the positions in ``used`` of slots that no
    context restricts (``gaps``, scored ``-inf``), and per context how it
    uses them."""
    slots: slice
    used: slice
    gaps: List[int]
    groups: List[ContextGroup]


def plan_slots(memory: ContextMemory, contexts: Sequence[Sequence[int]],
               restrict_long_term: bool, device: torch.device) -> SlotPlan:
    """The range of memory slots holding the radius-restricted frames of
    all ``contexts`` (per context its frame indices, the long-term frame
    first) and, per context, how it uses them; with ``restrict_long_term``
    the long-term frame is one more radius-restricted frame."""
    per_context = []
    for context in contexts:
        if len(context) == 0:
            raise ValueError('a context must hold at least one frame')
        counts = Counter(memory.slot(f) for f in context[1:])
        long_term = memory.slot(context[0])
        if restrict_long_term:
            counts[long_term] += 1
            per_context.append((counts, None, 0))
        else:
            per_context.append((counts, long_term, counts.pop(long_term, 0)))
    window = sorted(set().union(*(c for c, _, _ in per_context)))
    used = slice(window[0], window[-1] + 1) if window else slice(0, 0)
    num_slots = memory.feats.shape[0]
    span = slice(0, num_slots) if 2 * len(window) > num_slots else used
    first = span.start
    groups = []
    for counts, long_term, copies in per_context:
        slots = sorted(counts)
        groups.append(
            ContextGroup(
                window=torch.tensor([s - first for s in slots],
                                    dtype=torch.long,
                                    device=device),
                slots=torch.tensor(slots, dtype=torch.long, device=device),
                counts=torch.tensor([counts[s] for s in slots],
                                    dtype=memory.feats.dtype,
                                    device=device),
                all_window=slots == window,
                long_term=long_term,
                long_term_copies=copies))
    gaps = sorted(set(range(used.start, used.stop)) - set(window))
    return SlotPlan(span, slice(used.start - first, used.stop - first),
                    [s - first for s in gaps], groups)
