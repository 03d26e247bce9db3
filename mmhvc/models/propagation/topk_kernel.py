"""The windowed top-k kernel of label propagation (window scores, candidate
selection, bf16 prefilter, aggregation)."""
import math
from typing import (Callable, Dict, Iterator, List, NamedTuple, Optional,
                    Sequence, Tuple, Union)

import torch
from torch import Tensor

from .bf16_prefilter import NeededBlocks, bf16_score_error, needed_blocks
from .context_memory import ContextMemory
from .query_tiles import KeyRow, QueryTile, disk_reach, make_query_tiles
from .slot_plan import ContextGroup, SlotPlan, plan_slots


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


def _runs(flags: Sequence[bool]) -> List[Tuple[int, int]]:
    """Half-open ``(start, stop)`` ranges of the consecutive true flags."""
    runs: List[Tuple[int, int]] = []
    for i, flag in enumerate(flags):
        if not flag:
            continue
        if runs and runs[-1][1] == i:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    return runs


def key_row_scores(block: Tensor,
                   tile: QueryTile,
                   feats: Tensor,
                   slots: slice,
                   buffer: Optional[Tensor],
                   needed: Optional[Sequence[bool]] = None
                   ) -> Iterator[Tuple[KeyRow, Tensor]]:
    """Score the queries ``block`` ``(Q, C)`` of ``tile`` against each key
    row their disks reach, in the memory slots ``slots`` of ``feats`` (a
    :class:`ContextMemory` layout, ``(S, h, w, C)``).

    Each row is one product when all slots are scored, else one per key
    column; its scores are written to ``buffer`` as
    :class:`~.query_tiles.KeyRow` describes. The rows that ``needed`` flags
    False score ``-inf`` instead. Yields each row and its ``(columns,
    slots, queries)`` scores as soon as they are computed.
    """
    channels = block.shape[1]
    span = slots.stop - slots.start
    store = feats.permute(1, 2, 0, 3)
    for i, row in enumerate(tile.key_rows if span else []):
        num_cols = row.cols.stop - row.cols.start
        num_rows = row.queries.stop - row.queries.start
        out = buffer[span * row.offset:span *
                     (row.offset + num_cols * num_rows)].view(
                         num_cols, span, num_rows)
        if needed is not None and not needed[i]:
            out.fill_(float('-inf'))
        elif span == feats.shape[0]:
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
    radius-restricted frames), per group its ``(D, Q)`` cell maxima (None
    without such frames) and per long-term slot ``(P', Q)`` scores, ``P'``
    the positions padded with ``-inf`` to whole runs."""
    window: Optional[Tensor]
    cell_max: List[Optional[Tensor]]
    long_term: Dict[int, Tensor]


class TopkKernel:
    """Windowed top-k label propagation over a :class:`ContextMemory`.

    Each query position is scored against the context positions within
    ``radius`` feature cells (``dy**2 + dx**2 < radius**2``) and, unless
    ``restrict_long_term``, every position of the long-term frame (the first
    of a context); the ``topk`` best over the whole context, a frame repeated
    ``m`` times counting as ``m`` tied candidates, are softmax-weighted with
    ``temperature`` and their soft labels summed.

    Scores: the query grid is cut into ``tile_size`` blocks (rows, columns).
    For each key row that a block's disks reach, the block's queries whose
    disk meets the row are multiplied with the keys of the row that any of
    them reaches, in every memory slot at once: the memory keeps one grid
    cell of all slots together, so a key row of all frames is one matrix
    (one product per key row, shared by all contexts; while fewer than half
    the slots are used, one product per key column over the range of used
    slots; slots that no context restricts to the radius score ``-inf``).
    Tall narrow blocks keep
    this close to the disks: on a 60 x 107 grid (480p frames) the default
    60 x 8 blocks compute 1.5 times the disk area, where the square window
    around a 12 x 12 block is 2.6 times its disks. The long-term frame is
    multiplied with the whole block.

    Selection: the k best candidates of a query are among those of the k
    groups with the largest maxima, for any grouping of the candidates (up
    to the order of exact ties). Short-term candidates are grouped by key
    cell (the same position in every frame; the maximum over frames is one
    elementwise reduction), long-term candidates in runs of about
    ``sqrt(h * w / topk)`` positions; only the members of the top-k groups
    enter the final top-k, which counts each frame's multiplicity. Copies
    of the long-term frame among the short-term frames (the padded context
    of the first frames) raise the multiplicity of the long-term candidates
    inside the disk rather than being scored again.

    With ``bf16_prefilter`` all scores are first computed in bfloat16. The
    k-th best bfloat16 candidate ``tau`` of a query bounds every exact
    top-k candidate from below by ``tau - 2 e`` (``e`` from
    :func:`bf16_score_error`), and only the key rows of a block and the
    long-term runs holding a bfloat16 score above that are scored again in
    the feature dtype; the others are left out, so the selection is that of
    exact scores. Real video features have many candidates close to the
    k-th best, so it rarely skips enough to pay for the first pass (see
    docs/benchmarks.md); it is off by default.

    Args:
        radius: Spatial radius in feature cells (strict, ``> 0``).
        topk: Number of neighbours per query position (``>= 1``).
        temperature: Softmax temperature of the dot products (``> 0``).
        restrict_long_term: Restrict the long-term frame to the radius too.
        bf16_prefilter: Score in bfloat16 first (see above). On CUDA it
            relies on float32 accumulation of bfloat16 products, so enable
            it only when ``torch.backends.cuda.matmul`` does not allow
            reduced-precision bfloat16 reductions.
        tile_size: Query block ``(rows, columns)``, or one int for square
            blocks (``>= 1``); a speed/memory trade-off that does not change
            the result.
    """

    def __init__(self,
                 radius: float = 12.,
                 topk: int = 15,
                 temperature: float = 0.1,
                 restrict_long_term: bool = False,
                 bf16_prefilter: bool = False,
                 tile_size: Union[int, Tuple[int, int]] = (60, 8)) -> None:
        if radius <= 0:
            raise ValueError(f'radius must be > 0, got {radius}')
        if topk < 1:
            raise ValueError(f'topk must be >= 1, got {topk}')
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        if isinstance(tile_size, int):
            tile_size = (tile_size, tile_size)
        if len(tile_size) != 2 or min(tile_size) < 1:
            raise ValueError('tile_size must be an int or (rows, columns), '
                             f'each >= 1, got {tile_size}')
        self.radius = float(radius)
        self.topk = topk
        self.temperature = temperature
        self.restrict_long_term = restrict_long_term
        self.bf16_prefilter = bf16_prefilter
        self.tile_size = (int(tile_size[0]), int(tile_size[1]))
        self.reach = disk_reach(self.radius)
        self._tile_cache: Dict[tuple, List[QueryTile]] = {}

    def coarse_dtype(self, device: torch.device,
                     dtype: torch.dtype) -> Optional[torch.dtype]:
        """bfloat16 when the prefilter is used for features of ``dtype``
        (on any ``device``), else None."""
        return torch.bfloat16 if self.bf16_prefilter and \
            dtype != torch.bfloat16 else None

    @torch.no_grad()
    def propagate(self, query: Tensor, memory: ContextMemory,
                  contexts: Sequence[Sequence[int]]) -> List[Tensor]:
        """Propagate to ``query`` for several contexts that share a memory.

        Args:
            query: ``(C, h, w)`` L2-normalised query features.
            memory: Holds every frame the contexts refer to.
            contexts: Per label group, its context frame indices (first the
                long-term frame, then the short-term frames, repeats allowed).

        Returns:
            Per context, the ``(L, h, w)`` soft labels of the query.
        """
        channels, height, width = query.shape
        if (height, width) != memory.grid_shape or \
                channels != memory.feats.shape[3]:
            raise ValueError(
                f'query features {tuple(query.shape)} do not match the '
                f'memory (C, h, w) = '
                f'{(memory.feats.shape[3], *memory.grid_shape)}')
        plan = plan_slots(memory, contexts, self.restrict_long_term,
                          query.device)
        long_terms = sorted(
            {g.long_term for g in plan.groups if g.long_term is not None})
        grid = (height, width)
        run = max(1, round(math.sqrt(height * width / self.topk)))
        labels = memory.labels.view(-1, memory.labels.shape[2])
        outs = [
            query.new_empty(height, width, labels.shape[1]) for _ in contexts
        ]
        queries = query.permute(1, 2, 0)
        bound = bf16_score_error(channels) * float(memory.max_norm.max())
        key = (height, width, query.device, query.dtype)
        if key not in self._tile_cache:  # keep the last grid's tiles only
            self._tile_cache = {
                key:
                make_query_tiles(height, width, self.tile_size, self.radius,
                                 query.device, query.dtype)
            }
        for tile in self._tile_cache[key]:
            block = queries[tile.rows, tile.cols].reshape(-1, channels)
            needed = None
            if memory.coarse_feats is not None:
                coarse = self._scores(block, tile, memory.coarse_feats, plan,
                                      long_terms, run, memory.workspace,
                                      'coarse')
                floor = torch.stack([
                    self._kth_best(
                        self._candidates(tile, coarse, i, plan, grid, run))
                    for i in range(len(plan.groups))
                ]).amin(0) - 2 * bound * block.norm(dim=1).float()
                needed = needed_blocks(tile, coarse.window, coarse.long_term,
                                       plan.slots.stop - plan.slots.start,
                                       floor, run)
            scores = self._scores(block, tile, memory.feats, plan,
                                  long_terms, run, memory.workspace, 'exact',
                                  needed)
            for i, out in enumerate(outs):
                values, counts, rows = self._select(
                    self._candidates(tile, scores, i, plan, grid, run))
                out[tile.rows, tile.cols] = self._aggregate(
                    values, counts, rows, labels).view(
                        tile.rows.stop - tile.rows.start,
                        tile.cols.stop - tile.cols.start, labels.shape[1])
        return [out.permute(2, 0, 1).contiguous() for out in outs]

    def _scores(self,
                block: Tensor,
                tile: QueryTile,
                feats: Tensor,
                plan: SlotPlan,
                long_terms: List[int],
                run: int,
                workspace: Dict[str, Tensor],
                name: str,
                needed: Optional[NeededBlocks] = None) -> _Scores:
        """Scores of the queries ``block`` ``(Q, C)`` of ``tile`` against
        ``feats`` (a :class:`ContextMemory` layout), in the dtype of
        ``feats``; blocks that ``needed`` leaves out score ``-inf``."""
        block = block.to(feats.dtype)
        num_query, channels = block.shape
        height, width = feats.shape[1:3]
        slots = plan.slots
        span = slots.stop - slots.start
        buffer = _buffer(workspace, f'{name}_window', span * tile.size,
                         block) if span else None
        cell_max: List[Optional[Tensor]] = [
            torch.full_like(tile.bias, float('-inf'), dtype=block.dtype)
            if len(g.window) else None for g in plan.groups
        ]
        win_height = tile.win_rows.stop - tile.win_rows.start
        win_width = tile.win_cols.stop - tile.win_cols.start
        rows_needed = None if needed is None else needed.window
        for row, out in key_row_scores(block, tile, feats, slots, buffer,
                                       rows_needed):
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
                maxima += tile.bias.to(maxima.dtype)
        long_term = {}
        num_pos = height * width
        padded = -(-num_pos // run) * run
        for j, slot in enumerate(long_terms):
            scores = _buffer(workspace, f'{name}_long_term{j}',
                             padded * num_query, block).view(
                                 padded, num_query)
            keys = feats[slot].view(num_pos, channels)
            ranges = [(0, num_pos)] if needed is None else [
                (start * run, min(stop * run, num_pos))
                for start, stop in _runs(needed.long_term[slot])
            ]
            scores[num_pos if needed is None else 0:].fill_(float('-inf'))
            for start, stop in ranges:
                torch.mm(keys[start:stop], block.T, out=scores[start:stop])
            long_term[slot] = scores
        return _Scores(buffer, cell_max, long_term)

    def _kth_best(self, parts: List[_Candidates]) -> Tensor:
        """``(Q,)`` float32 k-th best candidate score (``-inf`` when there
        are fewer than ``topk`` candidates)."""
        values = self._select(parts)[0].float()
        if values.shape[1] < self.topk:
            return torch.full_like(values[:, 0], float('-inf'))
        return values[:, -1]

    def _candidates(self, tile: QueryTile, scores: _Scores, index: int,
                    plan: SlotPlan, grid: Tuple[int, int],
                    run: int) -> List[_Candidates]:
        """Candidates of group ``index`` for the queries of ``tile``: the
        members of its top-k key cells and of its top-k long-term runs."""
        group = plan.groups[index]
        parts = []
        if scores.cell_max[index] is not None:
            parts.append(
                self._window_candidates(tile, scores.window,
                                        scores.cell_max[index], group,
                                        plan.slots, grid[0] * grid[1]))
        if group.long_term is not None:
            parts.append(
                self._long_term_candidates(
                    tile, scores.long_term[group.long_term], group, grid,
                    run))
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
                              group: ContextGroup, grid: Tuple[int, int],
                              run: int) -> _Candidates:
        """Scores ``(Q, k * run)`` of the long-term frame in the ``k`` runs
        of positions with the best maxima of each query."""
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
            if group.long_term_copies:
                dy = p // width - (tile.query_pos // width)[:, None]
                dx = p % width - (tile.query_pos % width)[:, None]
                counts += group.long_term_copies * (
                    dy * dy + dx * dx < self.radius**2)
            return group.long_term * num_pos + p.clamp(max=num_pos - 1), \
                counts

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
