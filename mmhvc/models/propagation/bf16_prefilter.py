"""The bfloat16 prefilter of the top-k kernel: its error bound and the score
blocks it keeps for exact scoring."""
from typing import Dict, List, NamedTuple, Optional

from torch import Tensor

from .query_tiles import QueryTile

#: Unit roundoff of bfloat16 (8 significant bits) and of float32.
_BF16_ROUNDOFF = 2.0**-9
_FP32_ROUNDOFF = 2.0**-24


def bf16_score_error(channels: int) -> float:
    """Bound on ``|s_bf16 - q.k| / (|q| |k|)`` for one dot product.

    ``s_bf16`` is computed from ``q`` and ``k`` rounded to bfloat16,
    accumulated in float32 over ``channels`` terms (any order) and rounded
    to bfloat16: input rounding contributes ``2u + u**2`` (``u = 2**-9``),
    accumulation ``gamma = C u32 / (1 - C u32)`` of the products' sum and the
    output rounding ``u`` of the result. A 5% margin is added.
    """
    rel_in = 2 * _BF16_ROUNDOFF + _BF16_ROUNDOFF**2
    gamma = channels * _FP32_ROUNDOFF / (1 - channels * _FP32_ROUNDOFF)
    rel_sum = rel_in + gamma * (1 + rel_in)
    return 1.05 * (rel_sum + _BF16_ROUNDOFF * (1 + rel_sum))


class NeededBlocks(NamedTuple):
    """The score blocks of a tile that can hold an exact top-k candidate:
    per key row of the tile; per long-term slot, per run of positions."""
    window: List[bool]
    long_term: Dict[int, List[bool]]


def needed_blocks(tile: QueryTile, window: Optional[Tensor],
                  long_term: Dict[int, Tensor], num_window: int,
                  floor: Tensor, run: int) -> NeededBlocks:
    """The blocks holding a coarse score at or above ``floor`` ``(Q,)`` of
    one of their queries.

    Args:
        tile: The query tile.
        window: Coarse window buffer of ``tile`` against ``num_window``
            slots (None without such slots), laid out as
            :class:`~.query_tiles.KeyRow` describes.
        long_term: Per long-term slot, ``(P', Q)`` coarse scores, ``P'`` a
            multiple of ``run``.
        num_window: Number of window slots.
        floor: ``(Q,)`` float32 lowest score an exact top-k candidate can
            have in the coarse dtype; it is lowered by more than the
            rounding to that dtype before comparing.
        run: Positions per long-term run.
    """
    rows = []
    n = num_window
    for row in tile.key_rows if n else []:
        num_cols = row.cols.stop - row.cols.start
        num_rows = row.queries.stop - row.queries.start
        out = window[n * row.offset:n *
                     (row.offset + num_cols * num_rows)].view(-1, num_rows)
        low = floor[row.queries]
        low = (low - low.abs() * 2.0**-7).to(out.dtype)
        rows.append(bool((out >= low).any()))
    runs = {}
    for slot, scores in long_term.items():
        low = (floor - floor.abs() * 2.0**-7).to(scores.dtype)
        runs[slot] = (scores >= low).view(-1, run *
                                          scores.shape[1]).any(1).tolist()
    return NeededBlocks(rows, runs)
