"""The dense backend: label propagation exactly as the paper states it.

Every query position is compared with every position of every context
frame; positions of the short-term frames outside the query's spatial
neighbourhood (:mod:`.neighbourhood`: a disc or a square) are set to
``-inf`` (the long-term frames stay unrestricted unless
``restrict_long_term``); the ``topk`` best over the whole context, in
context order and with its repeated frames, are softmax-weighted with
``temperature`` and their soft labels summed. It is the specification that
the windowed backend is tested against, and the default on CUDA, where it
runs as a few large matrix products per frame.
"""
from typing import List, Optional, Sequence

import torch
from torch import Tensor

from .context_memory import ContextMemory, check_long_term
from .neighbourhood import Neighbourhood


class DenseBackend:
    """Dense masked top-k label propagation over a :class:`ContextMemory`.

    Args:
        radius: Spatial radius in feature cells: with the ``'disc'``
            neighbourhood a short-term key at ``(y', x')`` is a candidate of
            the query at ``(y, x)`` iff ``(y - y')**2 + (x - x')**2 <
            radius**2`` (radius 12: up to 11 cells away, a 23 x 23 bounding
            box); with ``'square'`` iff ``max(|y - y'|, |x - x'|) <=
            radius`` (radius 12: up to 12 cells away, 25 x 25 cells).
        topk: Number of neighbours per query position.
        temperature: Softmax temperature of the dot products.
        restrict_long_term: Restrict the long-term frames to the
            neighbourhood too.
        query_chunk: Query positions scored at once; the scores of a chunk
            take ``query_chunk * N * h * w`` elements for a context of ``N``
            frames, so memory stays bounded whatever the grid.
        neighbourhood: ``'disc'`` (CRW/HVC, default) or ``'square'``
            (DINO).
    """

    def __init__(self,
                 radius: float = 12.,
                 topk: int = 15,
                 temperature: float = 0.1,
                 restrict_long_term: bool = False,
                 query_chunk: int = 100,
                 neighbourhood: str = 'disc') -> None:
        if query_chunk < 1:
            raise ValueError(f'query_chunk must be >= 1, got {query_chunk}')
        self.radius = float(radius)
        self.neighbourhood = Neighbourhood(neighbourhood, radius)
        self.topk = topk
        self.temperature = temperature
        self.restrict_long_term = restrict_long_term
        self.query_chunk = query_chunk

    @torch.no_grad()
    def propagate(self,
                  query: Tensor,
                  memory: ContextMemory,
                  contexts: Sequence[Sequence[int]],
                  num_long_term: Optional[Sequence[int]] = None
                  ) -> List[Tensor]:
        """Propagate to ``query`` for several contexts that share a memory.

        Args:
            query: ``(C, h, w)`` L2-normalised query features.
            memory: Holds every frame the contexts refer to.
            contexts: Per label group, its context frame indices (first the
                long-term frames, then the short-term frames, repeats
                allowed).
            num_long_term: Per context, how many of its first frames are
                long-term frames (None: one each).

        Returns:
            Per context, the ``(L, h, w)`` soft labels of the query.
        """
        channels, height, width = memory.check_query(query)
        queries = query.permute(1, 2, 0).reshape(-1, channels)
        ys, xs = torch.meshgrid(
            torch.arange(height, device=query.device),
            torch.arange(width, device=query.device),
            indexing='ij')
        ys, xs = ys.reshape(-1), xs.reshape(-1)
        if num_long_term is None:
            num_long_term = [1] * len(contexts)
        return [
            self._propagate_context(queries, memory, context, n, ys,
                                    xs).T.reshape(-1, height, width)
            for context, n in zip(contexts, num_long_term)
        ]

    def _propagate_context(self, queries: Tensor, memory: ContextMemory,
                           context: Sequence[int], num_long_term: int,
                           ys: Tensor, xs: Tensor) -> Tensor:
        """``(P, L)`` labels of the ``(P, C)`` queries from one context
        whose first ``num_long_term`` frames are long-term (``ys``, ``xs``:
        ``(P,)`` grid coordinates of the positions)."""
        check_long_term(context, num_long_term)
        slots = [memory.slot(frame) for frame in context]
        distinct = sorted(set(slots))
        order = torch.tensor([distinct.index(s) for s in slots],
                             device=queries.device)
        num_pos, channels = queries.shape
        keys = memory.feats[distinct].reshape(-1, channels)
        labels = memory.labels[slots].reshape(len(slots) * num_pos, -1)
        restricted = torch.ones(len(slots), dtype=torch.bool,
                                device=queries.device)
        restricted[:num_long_term] = self.restrict_long_term
        k = min(self.topk, len(slots) * num_pos)
        out = labels.new_empty(num_pos, labels.shape[1])
        for start in range(0, num_pos, self.query_chunk):
            stop = min(start + self.query_chunk, num_pos)
            scores = (queries[start:stop] @ keys.T).view(
                stop - start, len(distinct), num_pos)[:, order]
            outside = ~self.neighbourhood.contains(
                ys[start:stop, None] - ys, xs[start:stop, None] - xs)
            scores.masked_fill_(
                outside[:, None] & restricted[None, :, None], float('-inf'))
            values, index = (scores.view(stop - start, -1) /
                             self.temperature).topk(k, dim=1)
            weights = values.softmax(dim=1).to(labels.dtype)
            out[start:stop] = torch.einsum('qk,qkl->ql', weights,
                                           labels[index])
        return out
