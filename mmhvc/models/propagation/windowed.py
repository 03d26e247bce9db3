"""The windowed backend: the dense algorithm, minus the work that cannot
reach the top-k.

The dense backend (:mod:`.dense`) scores every query position against every
position of every context frame and masks the short-term frames to each
query's neighbourhood (:mod:`.neighbourhood`: a disc or a square of the
radius; "disk" below stands for either). Almost all of those scores are
thrown away: a short-term position outside a query's disk can never be a
neighbour. This backend computes the scores inside the disks (and the
long-term frame, which is unrestricted) and selects the same top-k, so its
output equals the dense backend's up to float rounding and the order of
exact ties. Its terms:

- **memory slot**: the :class:`~.context_memory.ContextMemory` stores each
  frame once, in a slot; the memory keeps one grid cell of all slots
  together, so one row of keys of every frame is one matrix.
- **multiplicity**: the padded reference context repeats frames (51 copies
  of the first frame at ``t = 1``); a frame repeated ``m`` times is scored
  once and counts as ``m`` tied candidates in the top-k.
- **query block**: the query grid is cut into ``tile_size`` blocks (tall and
  narrow, 60 x 8 by default, whose disks cover little more than the disks
  themselves; on a 60 x 107 grid 1.5 times the disk area, where a square
  window around a 12 x 12 block is 2.6 times).
- **key row**: for each grid row of keys that a block's disks reach, the
  block's queries whose disk meets the row are multiplied with the keys of
  the row that any of them reaches, in every memory slot at once: one
  matrix product per key row, shared by all contexts (while fewer than half
  the slots are used, one product per key column over the used slots).
- **key cell**, **long-term run**: the k best candidates of a query are
  among those of the k groups of candidates with the largest maxima, for
  any grouping (up to the order of exact ties). Short-term candidates are
  grouped by key cell (the same position in every frame: the maximum over
  frames is one elementwise reduction), the candidates of each long-term
  frame in runs of about ``sqrt(h * w / topk)`` consecutive positions.
  Only the members of the top-k groups enter the final top-k.

Copies of a long-term frame among the short-term frames (the padded
context of the first frames, or a long-term frame that is also recent)
raise the multiplicity of its candidates inside the disk rather than being
scored again.
"""
import math
from collections import Counter
from typing import (Callable, Dict, Iterator, List, NamedTuple, Optional,
                    Sequence, Tuple, Union)

import torch
from torch import Tensor

from .context_memory import ContextMemory, check_long_term
from .neighbourhood import Neighbourhood


class KeyRow(NamedTuple):
    """One row of a tile's key window and the queries that reach it.

    Its scores against ``n`` memory slots form a ``(columns, n, queries)``
    block of a tile's window buffer, starting at ``n * offset``.
    """
    row: int  # grid row of the keys
    cols: slice  # key columns that some of the queries reach
    queries: slice  # the tile's queries whose disk meets the row
    offset: int  # start of the row's scores, per slot


class QueryTile(NamedTuple):
    """A block of query positions and the disks of its queries.

    ``rows``/``cols`` are the query block (feature-grid cells, half-open),
    its ``Q`` queries indexed row-major; ``win_rows``/``win_cols`` the
    rectangle of keys its radius reaches, its ``D = Wh * Ww`` cells indexed
    row-major. ``size`` is the number of scores per memory slot over all
    ``key_rows``. Per cell: ``bias`` ``(D, Q)`` is 0 inside each query's
    disk and ``-inf`` outside; ``cell_query`` ``(Q, D)``, ``cell_base``
    and ``cell_stride`` ``(D,)`` locate the score of the ``i``-th of ``n``
    slots at ``n * base + i * stride + query`` of the window buffer (for
    the cells a key row covers; 0 elsewhere); ``cell_pos`` ``(D,)`` and
    ``query_pos`` ``(Q,)`` are grid positions ``y * w + x``.
    """
    rows: slice
    cols: slice
    win_rows: slice
    win_cols: slice
    key_rows: List[KeyRow]
    size: int
    bias: Tensor
    cell_query: Tensor
    cell_base: Tensor
    cell_stride: Tensor
    cell_pos: Tensor
    query_pos: Tensor


def make_query_tiles(height: int, width: int, tile_size: Tuple[int, int],
                     neighbourhood: Neighbourhood, device: torch.device,
                     dtype: torch.dtype) -> List[QueryTile]:
    """Cut an ``h x w`` grid into ``tile_size`` ``(rows, columns)`` blocks.

    For each key row within reach of a block, the queries whose
    ``neighbourhood`` meets it are those at most ``reach`` rows away (a
    contiguous range of the block's row-major queries), and its key columns
    are those the nearest of them reaches, clipped to the grid.
    """
    block_rows, block_cols = tile_size
    return [
        _make_tile(
            slice(y, min(y + block_rows, height)),
            slice(x, min(x + block_cols, width)), height, width,
            neighbourhood, device, dtype)
        for y in range(0, height, block_rows)
        for x in range(0, width, block_cols)
    ]


def _make_tile(rows: slice, cols: slice, height: int, width: int,
               neighbourhood: Neighbourhood, device: torch.device,
               dtype: torch.dtype) -> QueryTile:
    reach = neighbourhood.reach
    block_width = cols.stop - cols.start
    win_rows = slice(max(rows.start - reach, 0),
                     min(rows.stop + reach, height))
    win_cols = slice(max(cols.start - reach, 0), min(cols.stop + reach,
                                                     width))
    win_width = win_cols.stop - win_cols.start
    num_cells = (win_rows.stop - win_rows.start) * win_width
    num_query = (rows.stop - rows.start) * block_width
    cell_query = torch.zeros(num_query, num_cells, dtype=torch.long)
    cell_base = torch.zeros(num_cells, dtype=torch.long)
    cell_stride = torch.zeros(num_cells, dtype=torch.long)
    key_rows, size = [], 0
    for y in range(win_rows.start, win_rows.stop):
        first = max(rows.start, y - reach)
        last = min(rows.stop, y + reach + 1)
        half = neighbourhood.half_width(
            y - min(max(y, rows.start), rows.stop - 1))
        if first >= last or half < 0:
            continue
        row_cols = slice(max(cols.start - half, 0),
                         min(cols.stop + half, width))
        queries = slice((first - rows.start) * block_width,
                        (last - rows.start) * block_width)
        num_cols = row_cols.stop - row_cols.start
        num_rows = queries.stop - queries.start
        key_rows.append(KeyRow(y, row_cols, queries, size))
        start = (y - win_rows.start) * win_width + \
            row_cols.start - win_cols.start
        cells = slice(start, start + num_cols)
        cell_base[cells] = size + torch.arange(num_cols) * num_rows
        cell_stride[cells] = num_rows
        cell_query[queries, cells] = torch.arange(num_rows)[:, None]
        size += num_cols * num_rows
    qy, qx = torch.meshgrid(
        torch.arange(rows.start, rows.stop),
        torch.arange(cols.start, cols.stop),
        indexing='ij')
    ky, kx = torch.meshgrid(
        torch.arange(win_rows.start, win_rows.stop),
        torch.arange(win_cols.start, win_cols.stop),
        indexing='ij')
    qy, qx, ky, kx = (t.reshape(-1) for t in (qy, qx, ky, kx))
    inside = neighbourhood.contains(ky[:, None] - qy, kx[:, None] - qx)
    bias = torch.zeros(
        inside.shape, dtype=dtype).masked_fill_(~inside, float('-inf'))
    return QueryTile(rows, cols, win_rows, win_cols, key_rows, size,
                     bias.to(device), cell_query.to(device),
                     cell_base.to(device), cell_stride.to(device),
                     (ky * width + kx).to(device),
                     (qy * width + qx).to(device))


class ContextGroup(NamedTuple):
    """How one context uses the memory.

    ``window`` ``(n_g,)`` are the positions of its radius-restricted frames
    in the planned slot range, ``slots`` their memory slots and ``counts``
    their multiplicities. ``long_term`` are the slots compared with every
    position (none when restricted); the copies of each among the
    short-term frames (``long_term_copies``) add to its multiplicity inside
    each disk.
    """
    window: Tensor
    slots: Tensor
    counts: Tensor
    all_window: bool
    long_term: Tuple[int, ...]
    long_term_copies: Tuple[int, ...]


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


def plan_slots(memory: ContextMemory,
               contexts: Sequence[Sequence[int]],
               restrict_long_term: bool,
               device: torch.device,
               num_long_term: Optional[Sequence[int]] = None) -> SlotPlan:
    """The range of memory slots holding the radius-restricted frames of
    all ``contexts`` (per context its frame indices, its
    ``num_long_term`` long-term frames first, one when None) and, per
    context, how it uses them; with ``restrict_long_term`` the long-term
    frames are radius-restricted frames too."""
    if num_long_term is None:
        num_long_term = [1] * len(contexts)
    per_context = []
    for context, num in zip(contexts, num_long_term):
        check_long_term(context, num)
        counts = Counter(memory.slot(f) for f in context[num:])
        long_term = tuple(memory.slot(f) for f in context[:num])
        if restrict_long_term:
            counts.update(long_term)
            per_context.append((counts, (), ()))
        else:
            per_context.append((counts, long_term,
                                tuple(counts.pop(s, 0) for s in long_term)))
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


#: Candidate scores ``(Q, M)`` of a query block and a function mapping
#: selected columns ``(Q, k)`` to their memory rows and multiplicities.
_Candidates = Tuple[Tensor, Callable[[Tensor], Tuple[Tensor, Tensor]]]


def _buffer(workspace: Dict[str, Tensor], name: str, numel: int,
            like: Tensor) -> Tensor:
    """The first ``numel`` elements of the reusable flat buffer ``name``
    (reallocated when too small, so large temporaries are allocated once per
    video rather than per tile)."""
    if name not in workspace or workspace[name].numel() < numel or \
            workspace[name].dtype != like.dtype:
        workspace[name] = like.new_empty(numel)
    return workspace[name][:numel]


def key_row_scores(
        block: Tensor, tile: QueryTile, feats: Tensor, slots: slice,
        buffer: Optional[Tensor]) -> Iterator[Tuple[KeyRow, Tensor]]:
    """Score the queries ``block`` ``(Q, C)`` of ``tile`` against each key
    row their disks reach, in the memory slots ``slots`` of ``feats`` (a
    :class:`ContextMemory` layout, ``(S, h, w, C)``).

    Each row is one product when all slots are scored, else one per key
    column; its scores are written to ``buffer`` as :class:`KeyRow`
    describes. Yields each row and its ``(columns, slots, queries)`` scores
    as soon as they are computed.
    """
    channels = block.shape[1]
    span = slots.stop - slots.start
    store = feats.permute(1, 2, 0, 3)
    for row in tile.key_rows if span else []:
        num_cols = row.cols.stop - row.cols.start
        num_rows = row.queries.stop - row.queries.start
        out = buffer[span * row.offset:span *
                     (row.offset + num_cols * num_rows)].view(
                         num_cols, span, num_rows)
        if span == feats.shape[0]:
            torch.mm(store[row.row, row.cols].reshape(-1, channels),
                     block[row.queries].T,
                     out=out.view(-1, num_rows))
        else:
            torch.bmm(store[row.row, row.cols, slots],
                      block[row.queries].T.expand(num_cols, -1, -1),
                      out=out)
        yield row, out


class _Scores(NamedTuple):
    """Scores of a query block: the window buffer (None without
    radius-restricted frames), per group its ``(D, Q)`` key-cell maxima
    (None without such frames) and per long-term slot ``(P', Q)`` scores,
    ``P'`` the positions padded with ``-inf`` to whole runs."""
    window: Optional[Tensor]
    cell_max: List[Optional[Tensor]]
    long_term: Dict[int, Tensor]


class WindowedBackend:
    """Windowed top-k label propagation over a :class:`ContextMemory` (see
    the module docstring for how it scores and selects).

    Args:
        radius: Spatial radius in feature cells (``> 0``): with the
            ``'disc'`` neighbourhood a key at offset ``(dy, dx)`` from a
            query is a candidate iff ``dy**2 + dx**2 < radius**2`` (radius
            12: up to 11 cells away, a 23 x 23 bounding box); with
            ``'square'`` iff ``max(|dy|, |dx|) <= radius`` (radius 12: up
            to 12 cells away, 25 x 25 cells).
        topk: Number of neighbours per query position (``>= 1``).
        temperature: Softmax temperature of the dot products (``> 0``).
        restrict_long_term: Restrict the long-term frame to the
            neighbourhood too.
        tile_size: Query block ``(rows, columns)``, or one int for square
            blocks (``>= 1``); a speed/memory trade-off that does not change
            the result.
        neighbourhood: ``'disc'`` (CRW/HVC, default) or ``'square'``
            (DINO).
    """

    def __init__(self,
                 radius: float = 12.,
                 topk: int = 15,
                 temperature: float = 0.1,
                 restrict_long_term: bool = False,
                 tile_size: Union[int, Tuple[int, int]] = (60, 8),
                 neighbourhood: str = 'disc') -> None:
        if isinstance(tile_size, int):
            tile_size = (tile_size, tile_size)
        if len(tile_size) != 2 or min(tile_size) < 1:
            raise ValueError('tile_size must be an int or (rows, columns), '
                             f'each >= 1, got {tile_size}')
        self.radius = float(radius)
        self.neighbourhood = Neighbourhood(neighbourhood, radius)
        self.topk = topk
        self.temperature = temperature
        self.restrict_long_term = restrict_long_term
        self.tile_size = (int(tile_size[0]), int(tile_size[1]))
        self._tile_cache: Dict[tuple, List[QueryTile]] = {}

    def query_tiles(self, height: int, width: int, device: torch.device,
                    dtype: torch.dtype) -> List[QueryTile]:
        """The query blocks of an ``h x w`` grid (those of the last grid are
        kept)."""
        key = (height, width, device, dtype)
        if key not in self._tile_cache:
            self._tile_cache = {
                key:
                make_query_tiles(height, width, self.tile_size,
                                 self.neighbourhood, device, dtype)
            }
        return self._tile_cache[key]

    @torch.no_grad()
    def propagate(self,
                  query: Tensor,
                  memory: ContextMemory,
                  contexts: Sequence[Sequence[int]],
                  num_long_term: Optional[Sequence[int]] = None
                  ) -> List[Tensor]:
        """Per context, the ``(L, h, w)`` soft labels of ``query``: the
        arguments and result of :meth:`.dense.DenseBackend.propagate`."""
        channels, height, width = memory.check_query(query)
        query = query.to(memory.feats.dtype)
        plan = plan_slots(memory, contexts, self.restrict_long_term,
                          query.device, num_long_term)
        long_terms = sorted({s for g in plan.groups for s in g.long_term})
        run = max(1, round(math.sqrt(height * width / self.topk)))
        labels = memory.labels.view(-1, memory.labels.shape[2])
        outs = [
            query.new_empty(height, width, labels.shape[1]) for _ in contexts
        ]
        queries = query.permute(1, 2, 0)
        for tile in self.query_tiles(height, width, query.device,
                                     query.dtype):
            block = queries[tile.rows, tile.cols].reshape(-1, channels)
            scores = self._scores(block, tile, memory.feats, plan,
                                  long_terms, run, memory.workspace)
            for i, out in enumerate(outs):
                values, counts, rows = self._select(
                    self._candidates(tile, scores, i, plan, (height, width),
                                     run))
                out[tile.rows, tile.cols] = self._aggregate(
                    values, counts, rows, labels).view(
                        tile.rows.stop - tile.rows.start,
                        tile.cols.stop - tile.cols.start, labels.shape[1])
        return [out.permute(2, 0, 1).contiguous() for out in outs]

    def _scores(self, block: Tensor, tile: QueryTile, feats: Tensor,
                plan: SlotPlan, long_terms: List[int], run: int,
                workspace: Dict[str, Tensor]) -> _Scores:
        """Scores of the queries ``block`` ``(Q, C)`` of ``tile`` against
        ``feats`` (a :class:`ContextMemory` layout)."""
        num_query, channels = block.shape
        height, width = feats.shape[1:3]
        slots = plan.slots
        span = slots.stop - slots.start
        buffer = _buffer(workspace, 'window', span * tile.size,
                         block) if span else None
        cell_max: List[Optional[Tensor]] = [
            torch.full_like(tile.bias, float('-inf'))
            if len(g.window) else None for g in plan.groups
        ]
        win_height = tile.win_rows.stop - tile.win_rows.start
        win_width = tile.win_cols.stop - tile.win_cols.start
        for row, out in key_row_scores(block, tile, feats, slots, buffer):
            for j in plan.gaps:
                out[:, j].fill_(float('-inf'))
            cells = (row.row - tile.win_rows.start,
                     slice(row.cols.start - tile.win_cols.start,
                           row.cols.stop - tile.win_cols.start),
                     row.queries)
            for group, maxima in zip(plan.groups, cell_max):
                if maxima is not None:
                    part = out[:, plan.used] if group.all_window else \
                        out.index_select(1, group.window)
                    torch.amax(
                        part,
                        1,
                        out=maxima.view(win_height, win_width,
                                        num_query)[cells])
        for maxima in cell_max:
            if maxima is not None:
                maxima += tile.bias
        long_term = {}
        num_pos = height * width
        padded = -(-num_pos // run) * run
        for j, slot in enumerate(long_terms):
            scores = _buffer(workspace, f'long_term{j}', padded * num_query,
                             block).view(padded, num_query)
            scores[num_pos:].fill_(float('-inf'))
            torch.mm(feats[slot].view(num_pos, channels), block.T,
                     out=scores[:num_pos])
            long_term[slot] = scores
        return _Scores(buffer, cell_max, long_term)

    def _candidates(self, tile: QueryTile, scores: _Scores, index: int,
                    plan: SlotPlan, grid: Tuple[int, int],
                    run: int) -> List[_Candidates]:
        """Candidates of group ``index`` for the queries of ``tile``: the
        members of its top-k key cells and of the top-k runs of each of its
        long-term frames."""
        group = plan.groups[index]
        parts = []
        if scores.cell_max[index] is not None:
            parts.append(
                self._window_candidates(tile, scores.window,
                                        scores.cell_max[index], group,
                                        plan.slots, grid[0] * grid[1]))
        for slot, copies in zip(group.long_term, group.long_term_copies):
            parts.append(
                self._long_term_candidates(tile, scores.long_term[slot],
                                           slot, copies, grid, run))
        return parts

    def _window_candidates(self, tile: QueryTile, window: Tensor,
                           cell_max: Tensor, group: ContextGroup, slots: slice,
                           num_pos: int) -> _Candidates:
        """Scores ``(Q, k * n_g)`` of the group's frames at the ``k`` key
        cells with the best maxima of each query."""
        num_query = cell_max.shape[1]
        k = min(self.topk, cell_max.shape[0])
        best, cells = cell_max.T.topk(k, dim=1)
        start = tile.cell_query.gather(1, cells) + \
            tile.cell_base[cells] * (slots.stop - slots.start)
        index = start[..., None] + tile.cell_stride[cells][..., None] * \
            group.window
        values = window.take(index).masked_fill_(best.isneginf()[..., None],
                                                 float('-inf'))
        num_frames = len(group.window)

        def decode(column: Tensor) -> Tuple[Tensor, Tensor]:
            frame = column % num_frames
            pos = tile.cell_pos[cells.gather(1, column // num_frames)]
            return group.slots[frame] * num_pos + pos, group.counts[frame]

        return values.view(num_query, -1), decode

    def _long_term_candidates(self, tile: QueryTile, scores: Tensor,
                              slot: int, copies: int, grid: Tuple[int, int],
                              run: int) -> _Candidates:
        """Scores ``(Q, k * run)`` of the long-term frame in memory slot
        ``slot`` in the ``k`` runs of positions with the best maxima of each
        query; ``copies`` of it are among the short-term frames."""
        padded, num_query = scores.shape
        height, width = grid
        num_pos = height * width
        k = min(self.topk, padded // run)
        _, runs = scores.view(-1, run, num_query).amax(1).T.topk(k, dim=1)
        pos = (runs[..., None] * run +
               torch.arange(run, device=scores.device)).view(num_query, -1)
        values = scores.take(pos * num_query + torch.arange(
            num_query, device=scores.device)[:, None])

        def decode(column: Tensor) -> Tuple[Tensor, Tensor]:
            p = pos.gather(1, column)
            counts = torch.ones(p.shape, dtype=scores.dtype,
                                device=p.device)
            if copies:
                dy = p // width - (tile.query_pos // width)[:, None]
                dx = p % width - (tile.query_pos % width)[:, None]
                counts += copies * self.neighbourhood.contains(dy, dx)
            return slot * num_pos + p.clamp(max=num_pos - 1), counts

        return values, decode

    def _select(self, parts: List[_Candidates]
                ) -> Tuple[Tensor, Tensor, Tensor]:
        """The ``topk`` best candidates ``(Q, k)`` in descending order, with
        their multiplicities and memory rows."""
        values = torch.cat([p[0] for p in parts], 1) if len(parts) > 1 \
            else parts[0][0]
        values, column = values.topk(min(self.topk, values.shape[1]), dim=1)
        rows = counts = None
        start = 0
        for part, decode in parts:
            stop = start + part.shape[1]
            mine = (column >= start) & (column < stop)
            row, count = decode((column - start).clamp(0, stop - start - 1))
            rows = row if rows is None else torch.where(mine, row, rows)
            counts = count.to(values.dtype) if counts is None else \
                torch.where(mine, count.to(values.dtype), counts)
            start = stop
        return values, counts, rows

    def _aggregate(self, values: Tensor, counts: Tensor, rows: Tensor,
                   labels: Tensor) -> Tensor:
        """Softmax-weighted labels of the top-k of a candidate multiset.

        Args:
            values: ``(Q, M)`` dot products of distinct candidates, in
                descending order.
            counts: ``(Q, M)`` multiplicity of each candidate.
            rows: ``(Q, M)`` row of each candidate in ``labels``.
            labels: ``(S * h * w, L)`` soft labels of the memory.

        Returns:
            ``(Q, L)`` labels: the ``topk`` largest values, a candidate of
            multiplicity ``m`` counted up to ``m`` times, weighted by
            ``softmax(value / temperature)``. They are summed as the best
            candidate's labels plus the weighted differences of the others,
            so that neighbours with equal labels reproduce them exactly.
        """
        before = counts.cumsum(1) - counts
        taken = torch.minimum(counts, (self.topk - before).clamp(min=0))
        weights = taken * ((values - values[:, :1]) / self.temperature).exp()
        weights = weights / weights.sum(1, keepdim=True)
        neighbours = labels[rows]
        return neighbours[:, 0] + torch.einsum(
            'qm,qml->ql', weights[:, 1:],
            neighbours[:, 1:] - neighbours[:, :1])
