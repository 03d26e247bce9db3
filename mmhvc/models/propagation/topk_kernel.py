"""The tiled top-k kernel of label propagation (scores, bf16 prefilter,
selection and aggregation)."""
import math
from collections import Counter
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .context_memory import ContextMemory

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


class _Tile(NamedTuple):
    """A block of query positions and the key window its radius reaches.

    ``rows``/``cols`` are the query block and ``win_rows``/``win_cols`` the
    key window (feature-grid cells, half-open). ``gather`` ``(Q, D)`` maps
    every (query, disk offset) pair to its key's index in the flattened
    window; pairs whose key falls outside the grid map to index 0 and get
    ``-inf`` from ``bias`` ``(Q, D)``, which is ``None`` for inner tiles.
    """
    rows: slice
    cols: slice
    win_rows: slice
    win_cols: slice
    gather: Tensor
    bias: Optional[Tensor]


class _Group(NamedTuple):
    """What one context needs from the shared window scores."""
    window_pos: Tensor  # (n_g,) positions of its frames in the window slots
    window_slots: Tensor  # (n_g,) memory slots of those frames
    window_counts: Tensor  # (n_g,) multiplicity of each frame
    uses_all_window_slots: bool
    global_slot: Optional[int]  # long-term slot compared at every position


class _Source(NamedTuple):
    """Candidate scores of a query block and how to locate them.

    ``scores`` ``(Q, M)``; ``rows(q_index, column)`` gives the memory rows
    (``slot * h * w + position``) and ``counts(column)`` the multiplicities
    of selected columns.
    """
    scores: Tensor
    rows: Callable[[Tensor], Tensor]
    counts: Callable[[Tensor], Tensor]


def _buffer(workspace: Dict[str, Tensor],
            name: str,
            shape: tuple,
            like: Tensor,
            reserve: int = 0) -> Tensor:
    """A contiguous ``shape`` view of the reusable buffer ``name``.

    A buffer that is too small is replaced by one of at least ``reserve``
    elements, so that large temporaries are allocated once rather than per
    tile or frame (which also keeps the heap from fragmenting).
    """
    numel = math.prod(shape)
    if name not in workspace or workspace[name].numel() < numel:
        workspace[name] = like.new_empty(max(numel, reserve))
    return workspace[name][:numel].view(shape)


def _native_bf16(device: torch.device) -> bool:
    """Whether ``device`` is a CPU with bfloat16 dot-product instructions."""
    if device.type != 'cpu':
        return False
    checks = ('_is_avx512_bf16_supported', '_is_amx_tile_supported')
    return any(
        getattr(torch.cpu, name, lambda: False)() for name in checks)


class TopkKernel:
    """Windowed top-k label propagation over a :class:`ContextMemory`.

    Each query position is scored against the context positions within
    ``radius`` feature cells (``dy**2 + dx**2 < radius**2``) and, unless
    ``restrict_long_term``, every position of the long-term frame (the first
    of a context); the ``topk`` best over the whole context, a frame repeated
    ``m`` times counting as ``m`` tied candidates, are softmax-weighted with
    ``temperature`` and their soft labels summed.

    The query grid is cut into ``tile_size x tile_size`` blocks; each block
    is multiplied with the ``(tile_size + 2 * reach)**2`` key window of every
    distinct context frame in one matrix product (shared by all contexts),
    and the scores inside each query's disk are gathered. With
    ``bf16_prefilter`` the scores are first computed in bfloat16, and every
    candidate within twice :func:`bf16_score_error` of the k-th best is
    re-scored in the feature dtype, so the selection is that of exact scores.

    Args:
        radius: Spatial radius in feature cells (strict, ``> 0``).
        topk: Number of neighbours per query position (``>= 1``).
        temperature: Softmax temperature of the dot products (``> 0``).
        restrict_long_term: Restrict the long-term frame to the radius too.
        bf16_prefilter: Score in bfloat16 first; None enables it on CPUs with
            bfloat16 dot-product instructions.
        tile_size: Side of the query blocks (``>= 1``); a speed/memory
            trade-off that does not change the result.
    """

    def __init__(self,
                 radius: float = 12.,
                 topk: int = 15,
                 temperature: float = 0.1,
                 restrict_long_term: bool = False,
                 bf16_prefilter: Optional[bool] = None,
                 tile_size: int = 12) -> None:
        if radius <= 0:
            raise ValueError(f'radius must be > 0, got {radius}')
        if topk < 1:
            raise ValueError(f'topk must be >= 1, got {topk}')
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        if tile_size < 1:
            raise ValueError(f'tile_size must be >= 1, got {tile_size}')
        self.radius = float(radius)
        self.topk = topk
        self.temperature = temperature
        self.restrict_long_term = restrict_long_term
        self.bf16_prefilter = bf16_prefilter
        self.tile_size = tile_size
        self.reach = math.ceil(self.radius) - 1
        span = torch.arange(-self.reach, self.reach + 1)
        dy, dx = torch.meshgrid(span, span, indexing='ij')
        inside = dy**2 + dx**2 < self.radius**2
        self._offsets = (dy[inside], dx[inside])
        self._tile_cache: Dict[tuple, List[_Tile]] = {}

    def coarse_dtype(self, device: torch.device,
                     dtype: torch.dtype) -> Optional[torch.dtype]:
        """bfloat16 when the prefilter is used for features of ``dtype`` on
        ``device``, else None."""
        prefilter = self.bf16_prefilter
        if prefilter is None:
            prefilter = _native_bf16(torch.device(device))
        return torch.bfloat16 if prefilter and dtype != torch.bfloat16 \
            else None

    @torch.no_grad()
    def propagate(self, query: Tensor, memory: ContextMemory,
                  contexts: Sequence[Sequence[int]]) -> List[Tensor]:
        """Propagate to ``query`` for several contexts that share a memory.

        Args:
            query: ``(C, h, w)`` L2-normalised query features.
            memory: Holds every frame the contexts refer to.
            contexts: Per object group, its context frame indices (first the
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
        coarse = memory.coarse_feats is not None
        score_feats = memory.coarse_feats if coarse else memory.feats
        window_slots, groups = self._plan(memory, contexts, query.device)
        num_labels = memory.labels.shape[2]
        outs = [
            query.new_empty(height, width, num_labels) for _ in contexts
        ]
        queries = query.permute(1, 2, 0)
        bound = bf16_score_error(channels) * float(memory.max_norm.max())
        workspace = memory.workspace
        for tile in self._tiles(height, width, query.device, query.dtype):
            block = queries[tile.rows, tile.cols].reshape(-1, channels)
            score_block = block.to(score_feats.dtype)
            window = None
            if len(window_slots):
                window = self._window_scores(score_block, tile, score_feats,
                                             window_slots, workspace)
            tolerance = bound * block.norm(dim=1, keepdim=True) \
                if coarse else None
            for group, out in zip(groups, outs):
                sources = self._sources(group, tile, window, score_block,
                                        score_feats, workspace)
                values, counts, rows = self._select(sources, block, memory,
                                                    tolerance)
                out[tile.rows, tile.cols] = self._aggregate(
                    values, counts, rows, memory.labels.view(
                        -1, num_labels)).view(
                            tile.rows.stop - tile.rows.start,
                            tile.cols.stop - tile.cols.start, num_labels)
        return [out.permute(2, 0, 1).contiguous() for out in outs]

    def _sources(self, group: _Group, tile: _Tile, window: Optional[Tensor],
                 score_block: Tensor, score_feats: Tensor,
                 workspace: Dict[str, Tensor]) -> List[_Source]:
        """Candidate sources of a group for a tile: its frames' disks in the
        window scores and, unless restricted, the whole long-term frame."""
        height, width = score_feats.shape[1:3]
        num_pos = height * width
        num_offsets = len(self._offsets[0])
        sources = []
        if len(group.window_pos):
            scores = window if group.uses_all_window_slots else \
                window.index_select(1, group.window_pos)
            win_width = tile.win_cols.stop - tile.win_cols.start

            def window_rows(index: Tensor) -> Tensor:
                local = tile.gather.gather(1, index % num_offsets)
                pos = (tile.win_rows.start + local // win_width) * width + \
                    tile.win_cols.start + local % win_width
                slot = group.window_slots[index // num_offsets]
                return slot * num_pos + pos

            sources.append(
                _Source(
                    scores.reshape(scores.shape[0], -1), window_rows,
                    lambda index: group.window_counts[index // num_offsets]))
        if group.global_slot is not None:
            keys = score_feats[group.global_slot].view(num_pos, -1)
            scores = _buffer(workspace, 'global',
                             (score_block.shape[0], num_pos), score_block)
            torch.mm(score_block, keys.T, out=scores)
            offset = group.global_slot * num_pos
            dtype = group.window_counts.dtype
            sources.append(
                _Source(scores, lambda index: offset + index,
                        lambda index: torch.ones_like(index, dtype=dtype)))
        return sources

    def _select(self, sources: List[_Source], block: Tensor,
                memory: ContextMemory, tolerance: Optional[Tensor]
                ) -> Tuple[Tensor, Tensor, Tensor]:
        """The candidates that can be in the top-k, with exact scores.

        Without ``tolerance`` the scores are exact and the top-k of each
        source is returned. Otherwise, with ``tau`` the k-th best coarse
        score over the sources, every candidate scoring at least
        ``tau - 2 * tolerance`` is kept (the exact k-th best is at least
        ``tau - tolerance``) and re-scored from ``memory.feats``.

        Returns:
            ``(values, counts, rows)``, each ``(Q, M)``: dot products,
            multiplicities and memory rows of the candidates.
        """
        values, counts, rows = [], [], []
        if tolerance is None:
            for source in sources:
                value, index = source.scores.topk(
                    min(self.topk, source.scores.shape[1]), dim=1)
                values.append(value)
                counts.append(source.counts(index))
                rows.append(source.rows(index))
            return torch.cat(values, 1), torch.cat(counts, 1), torch.cat(
                rows, 1)
        keep = [min(4 * self.topk, s.scores.shape[1]) for s in sources]
        tops = [s.scores.topk(k, dim=1) for s, k in zip(sources, keep)]
        best = torch.cat([value[:, :self.topk] for value, _ in tops], 1)
        kth = best.topk(min(self.topk, best.shape[1]), dim=1).values[:, -1:]
        floor = kth.to(tolerance.dtype) - 2 * tolerance
        if best.shape[1] < self.topk:
            floor = torch.full_like(floor, float('-inf'))
        for i, source in enumerate(sources):
            while keep[i] < source.scores.shape[1] and bool(
                    (tops[i].values[:, -1:].to(floor.dtype) >= floor).any()):
                keep[i] = min(2 * keep[i], source.scores.shape[1])
                tops[i] = source.scores.topk(keep[i], dim=1)
            above = tops[i].values.to(floor.dtype) >= floor
            needed = int(above.sum(1).max())
            if needed == 0:
                continue
            coarse = tops[i].values[:, :needed]
            index = tops[i].indices[:, :needed]
            row = source.rows(index)
            keys = memory.feats.view(-1, block.shape[1]).index_select(
                0, row.view(-1)).view(*row.shape, block.shape[1])
            exact = torch.bmm(keys, block[:, :, None])[..., 0]
            values.append(exact.masked_fill_(coarse.isneginf(),
                                             float('-inf')))
            counts.append(source.counts(index))
            rows.append(row)
        return torch.cat(values, 1), torch.cat(counts, 1), torch.cat(rows, 1)

    def _window_scores(self, block: Tensor, tile: _Tile, feats: Tensor,
                       slots: Tensor, workspace: Dict[str, Tensor]) -> Tensor:
        """Dot products of a query block with its disks in memory slots.

        Args:
            block: ``(Q, C)`` queries of ``tile``, in the dtype of ``feats``.
            tile: The tile.
            feats: ``(S, h, w, C)`` memory features.
            slots: ``(n,)`` memory slots, increasing.
            workspace: Reusable buffers (keyed by name), sized for a full
                memory and the largest tile when first needed.

        Returns:
            ``(Q, n, D)`` scores, ``D`` the disk offsets; ``-inf`` where the
            key lies outside the grid. A view into ``workspace``.
        """
        num_query, channels = block.shape
        num_slots, height, width = feats.shape[:3]
        side = self.tile_size + 2 * self.reach
        most_keys = num_slots * min(side, height) * min(side, width)
        most_queries = min(self.tile_size, height) * min(
            self.tile_size, width)
        window = feats[:, tile.win_rows, tile.win_cols]
        keys = _buffer(workspace, 'keys', (len(slots), ) + window.shape[1:],
                       block, most_keys * channels)
        first, last = int(slots[0]), int(slots[-1])
        if last - first + 1 == len(slots):
            keys.copy_(window[first:last + 1])
        else:
            torch.index_select(window, 0, slots, out=keys)
        scores = _buffer(workspace, 'scores',
                         (num_query, keys[..., 0].numel()), block,
                         most_queries * most_keys)
        torch.mm(block, keys.view(-1, channels).T, out=scores)
        cand = _buffer(workspace, 'cand',
                       (num_query, len(slots), tile.gather.shape[1]), block,
                       most_queries * num_slots * tile.gather.shape[1])
        torch.gather(
            scores.view(num_query, len(slots), -1),
            2,
            tile.gather[:, None].expand(-1, len(slots), -1),
            out=cand)
        if tile.bias is not None:
            cand += tile.bias[:, None].to(cand.dtype)
        return cand

    def _aggregate(self, values: Tensor, counts: Tensor, rows: Tensor,
                   labels: Tensor) -> Tensor:
        """Softmax-weighted labels of the top-k of a candidate multiset.

        Args:
            values: ``(Q, M)`` dot products of distinct candidates.
            counts: ``(Q, M)`` multiplicity of each candidate.
            rows: ``(Q, M)`` row of each candidate in ``labels``.
            labels: ``(S * h * w, L)`` soft labels of the memory.

        Returns:
            ``(Q, L)`` labels: the ``topk`` largest values, a candidate of
            multiplicity ``m`` counted up to ``m`` times, weighted by
            ``softmax(value / temperature)``.
        """
        values, order = values.sort(dim=1, descending=True)
        counts = counts.gather(1, order).to(values.dtype)
        before = counts.cumsum(1) - counts
        taken = torch.minimum(counts, (self.topk - before).clamp(min=0))
        weights = taken * ((values - values[:, :1]) / self.temperature).exp()
        weights = weights / weights.sum(1, keepdim=True)
        return torch.einsum('qm,qml->ql', weights,
                            labels[rows.gather(1, order)])

    def _plan(self, memory: ContextMemory, contexts: Sequence[Sequence[int]],
              device: torch.device) -> Tuple[Tensor, List[_Group]]:
        """Distinct radius-restricted frames of all contexts (as memory
        slots) and, per context, how it uses them."""
        per_context = []
        for context in contexts:
            if len(context) == 0:
                raise ValueError('a context must hold at least one frame')
            counts = Counter(memory.slot(f) for f in context[1:])
            global_slot = memory.slot(context[0])
            if self.restrict_long_term:
                counts[global_slot] += 1
                global_slot = None
            per_context.append((counts, global_slot))
        window = sorted(set().union(*(c for c, _ in per_context)))
        position = {slot: i for i, slot in enumerate(window)}
        groups = []
        for counts, global_slot in per_context:
            slots = sorted(counts)
            groups.append(
                _Group(
                    window_pos=torch.tensor([position[s] for s in slots],
                                            dtype=torch.long,
                                            device=device),
                    window_slots=torch.tensor(
                        slots, dtype=torch.long, device=device),
                    window_counts=torch.tensor([counts[s] for s in slots],
                                               dtype=memory.feats.dtype,
                                               device=device),
                    uses_all_window_slots=slots == window,
                    global_slot=global_slot))
        return torch.tensor(window, dtype=torch.long, device=device), groups

    def _tiles(self, height: int, width: int, device: torch.device,
               dtype: torch.dtype) -> List[_Tile]:
        """Query blocks of an ``h x w`` grid with their key windows (the last
        grid seen is cached)."""
        key = (height, width, device, dtype)
        if key not in self._tile_cache:
            self._tile_cache.clear()
            self._tile_cache[key] = [
                self._make_tile(y, x, height, width, device, dtype)
                for y in range(0, height, self.tile_size)
                for x in range(0, width, self.tile_size)
            ]
        return self._tile_cache[key]

    def _make_tile(self, y: int, x: int, height: int, width: int,
                   device: torch.device, dtype: torch.dtype) -> _Tile:
        rows = slice(y, min(y + self.tile_size, height))
        cols = slice(x, min(x + self.tile_size, width))
        win_rows = slice(max(rows.start - self.reach, 0),
                         min(rows.stop + self.reach, height))
        win_cols = slice(max(cols.start - self.reach, 0),
                         min(cols.stop + self.reach, width))
        qy, qx = torch.meshgrid(
            torch.arange(rows.start, rows.stop),
            torch.arange(cols.start, cols.stop),
            indexing='ij')
        ky = qy.reshape(-1, 1) + self._offsets[0]
        kx = qx.reshape(-1, 1) + self._offsets[1]
        inside = (ky >= 0) & (ky < height) & (kx >= 0) & (kx < width)
        local = (ky - win_rows.start) * (win_cols.stop - win_cols.start) + \
            kx - win_cols.start
        bias = None
        if not bool(inside.all()):
            bias = torch.zeros(inside.shape, dtype=dtype).masked_fill_(
                ~inside, float('-inf')).to(device)
        return _Tile(rows, cols, win_rows, win_cols,
                     local.masked_fill_(~inside, 0).to(device), bias)
