"""Blocks of query positions and the key rows their radius reaches."""
import math
from typing import List, NamedTuple, Tuple

import torch
from torch import Tensor


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


def disk_reach(radius: float) -> int:
    """Largest ``|dy|`` (or ``|dx|``) of a cell inside the strict disk of
    ``radius``: ``ceil(radius) - 1``."""
    return math.ceil(radius) - 1


def half_width(radius: float, dy: int) -> int:
    """Largest ``dx >= 0`` with ``dy**2 + dx**2 < radius**2``, or -1 if
    the row offset ``dy`` is beyond the radius."""
    dx = -1
    while dy * dy + (dx + 1)**2 < radius**2:
        dx += 1
    return dx


def make_query_tiles(height: int, width: int, tile_size: Tuple[int, int],
                     radius: float, device: torch.device,
                     dtype: torch.dtype) -> List[QueryTile]:
    """Cut an ``h x w`` grid into ``tile_size`` ``(rows, columns)`` blocks.

    For each key row within reach of a block, the queries whose disk meets
    it are those at most ``reach`` rows away (a contiguous range of the
    block's row-major queries), and its key columns are those the nearest
    of them reaches, clipped to the grid.
    """
    block_rows, block_cols = tile_size
    return [
        _make_tile(
            slice(y, min(y + block_rows, height)),
            slice(x, min(x + block_cols, width)), height, width, radius,
            device, dtype) for y in range(0, height, block_rows)
        for x in range(0, width, block_cols)
    ]


def _make_tile(rows: slice, cols: slice, height: int, width: int,
               radius: float, device: torch.device,
               dtype: torch.dtype) -> QueryTile:
    reach = disk_reach(radius)
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
        half = half_width(radius, y - min(max(y, rows.start), rows.stop - 1))
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
    inside = (ky[:, None] - qy)**2 + (kx[:, None] - qx)**2 < radius**2
    bias = torch.zeros(
        inside.shape, dtype=dtype).masked_fill_(~inside, float('-inf'))
    return QueryTile(rows, cols, win_rows, win_cols, key_rows, size,
                     bias.to(device), cell_query.to(device),
                     cell_base.to(device), cell_stride.to(device),
                     (ky * width + kx).to(device),
                     (qy * width + qx).to(device))
