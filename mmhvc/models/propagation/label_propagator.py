"""Label propagation: the CRW/HVC test-time context and its backends."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import Tensor

from mmhvc.registry import MODELS
from .context_memory import ContextMemory
from .dense import DenseBackend
from .neighbourhood import check_neighbourhood
from .windowed import WindowedBackend

BACKENDS = ('auto', 'dense', 'windowed')


@MODELS.register_module()
class LabelPropagator(BaseModule):
    """Propagate soft labels from context frames to a query frame.

    For every query position, the dot products with the context positions
    in its spatial neighbourhood (same coordinates in every frame) are
    computed, the ``topk`` largest over the whole context are kept,
    softmax-weighted with ``temperature``, and the neighbours' soft labels
    are summed with those weights. The neighbourhood of the query at ``(y,
    x)`` holds the keys at ``(y', x')`` with, for ``neighbourhood``

    - ``'disc'`` (CRW/HVC, the default): ``(y - y')**2 + (x - x')**2 <
      radius**2``, a strict Euclidean disc; radius 12 reaches 11 cells in
      each direction (a 23 x 23 bounding box);
    - ``'square'`` (DINO's ``size_mask_neighborhood``): ``|y - y'| <=
      radius`` and ``|x - x'| <= radius``, an inclusive square of half side
      ``radius``; radius 12 reaches 12 cells (25 x 25 cells).

    As in the CRW reference, the long-term frame (the first of a context) is
    compared with *every* query position unless ``restrict_long_term`` is
    set; DINO restricts every context frame, the first one included:
    ``neighbourhood='square', restrict_long_term=True``.

    The context of a query frame ``t`` for a label group that starts at
    frame ``t0`` is :meth:`context_indices`: the long-term frame ``t0``
    followed by the short-term frames ``t - context_size .. t - 1`` clamped
    to ``t0``. As in the reference the list is not deduplicated, so at
    ``t = t0 + 1`` it holds ``context_size + 1`` copies of frame ``t0``
    (identical copies tie and may all be selected); ``dedup_context`` uses
    each frame once. Frames whose labels were corrected after ``t0`` (an
    extension of the reference protocol for interactive use) are further
    long-term frames: they follow ``t0`` and are compared with every query
    position as well.

    Two backends compute the same result (up to float rounding and the
    order of exact ties): ``'dense'``
    (:class:`~mmhvc.models.propagation.dense.DenseBackend`, the algorithm as
    stated, in chunks of queries) and ``'windowed'``
    (:class:`~mmhvc.models.propagation.windowed.WindowedBackend`, which
    skips the scores that cannot reach the top-k, the fast one on CPUs).
    ``'auto'`` picks dense on CUDA and windowed elsewhere.

    Args:
        radius: Spatial radius in feature cells: of the disc (strict) or
            half side of the square (inclusive).
        topk: Number of neighbours per query position.
        temperature: Softmax temperature of the dot products.
        context_size: Number of short-term context frames.
        dedup_context: Use each context frame once (long-term frame plus the
            distinct previous frames) instead of the padded reference context.
        restrict_long_term: Restrict the long-term frame to the
            neighbourhood as well. The CRW reference does not.
        backend: ``'auto'``, ``'dense'`` or ``'windowed'``.
        tile_size: Query blocks ``(rows, columns)`` of the windowed backend.
        query_chunk: Query positions scored at once by the dense backend.
        neighbourhood: ``'disc'`` or ``'square'``, the shape above.
        init_cfg: Initialisation config (the propagator has no weights).
    """

    def __init__(self,
                 radius: float = 12.,
                 topk: int = 15,
                 temperature: float = 0.1,
                 context_size: int = 50,
                 dedup_context: bool = False,
                 restrict_long_term: bool = False,
                 backend: str = 'auto',
                 tile_size: Union[int, Tuple[int, int]] = (60, 8),
                 query_chunk: int = 100,
                 neighbourhood: str = 'disc',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if radius <= 0:
            raise ValueError(f'radius must be > 0, got {radius}')
        if topk < 1:
            raise ValueError(f'topk must be >= 1, got {topk}')
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        if context_size < 1:
            raise ValueError(f'context_size must be >= 1, got {context_size}')
        if backend not in BACKENDS:
            raise ValueError(f'backend must be one of {BACKENDS}, got '
                             f'"{backend}"')
        self.neighbourhood = check_neighbourhood(neighbourhood)
        self.radius = float(radius)
        self.topk = topk
        self.temperature = temperature
        self.context_size = context_size
        self.dedup_context = dedup_context
        self.backend = backend
        self.dense = DenseBackend(radius, topk, temperature,
                                  restrict_long_term, query_chunk,
                                  neighbourhood)
        self.windowed = WindowedBackend(radius, topk, temperature,
                                        restrict_long_term, tile_size,
                                        neighbourhood)

    def context_indices(self,
                        start: int,
                        t: int,
                        corrected: Sequence[int] = ()) -> List[int]:
        """Context frame indices for query frame ``t`` of a group from
        ``start``: ``[start] + [max(s, start) for s in t-S .. t-1]``, or with
        ``dedup_context`` each of those frames once.

        The frames of ``corrected`` between ``start`` and ``t`` (exclusive)
        are inserted after ``start`` as further long-term frames, in
        increasing order; :meth:`num_long_term` counts the long-term frames.
        """
        if t <= start:
            raise ValueError(f'query frame {t} must come after the first '
                             f'frame {start} of its context')
        long_term = [start] + sorted(
            {c for c in corrected if start < c < t})
        first = t - self.context_size
        if self.dedup_context:
            return long_term + [
                s for s in range(max(first, start), t) if s != start
            ]
        return long_term + [max(s, start) for s in range(first, t)]

    @staticmethod
    def num_long_term(start: int, t: int,
                      corrected: Sequence[int] = ()) -> int:
        """Number of long-term frames that :meth:`context_indices` puts
        first in the context of query frame ``t`` of a group from
        ``start``."""
        return 1 + len({c for c in corrected if start < c < t})

    def memory_frames(self, starts: Sequence[int], t: int) -> List[int]:
        """Frames that the contexts of query frame ``t + 1`` can refer to,
        for groups that start at ``starts`` (and frames corrected up to
        ``t``, passed with them). Retaining these before storing frame ``t``
        keeps a memory from :meth:`init_memory` within capacity.
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
                    dtype: torch.dtype = torch.float32) -> ContextMemory:
        """A memory of ``context_size`` recent frames plus ``num_long_term``
        long-term frames of ``(C, h, w)`` features and ``(L, h, w)``
        labels."""
        return ContextMemory(self.context_size + num_long_term, num_channels,
                             num_labels, height, width, device, dtype)

    def resolve_backend(self, device: torch.device) -> str:
        """The backend used for features on ``device``."""
        if self.backend != 'auto':
            return self.backend
        return 'dense' if device.type == 'cuda' else 'windowed'

    def forward(self, query: Tensor, context_feats: Tensor,
                context_labels: Tensor) -> Tensor:
        """Propagate to ``query`` from an explicit context.

        Args:
            query: ``(C, h, w)`` L2-normalised query features.
            context_feats: ``(N, C, h, w)`` L2-normalised context features;
                frame 0 is the long-term frame, frames ``1 .. N-1`` are
                short-term.
            context_labels: ``(N, L, h, w)`` soft labels of the context.

        Returns:
            ``(L, h, w)`` soft labels of the query.
        """
        if context_feats.dim() != 4 or context_labels.dim() != 4 or \
                context_feats.shape[0] != context_labels.shape[0] or \
                context_feats.shape[2:] != context_labels.shape[2:]:
            raise ValueError(
                'context_feats (N, C, h, w) and context_labels (N, L, h, w) '
                f'do not match: {tuple(context_feats.shape)} and '
                f'{tuple(context_labels.shape)}')
        num_frames, channels, height, width = context_feats.shape
        memory = ContextMemory(num_frames, channels, context_labels.shape[1],
                               height, width, query.device,
                               context_feats.dtype)
        for i in range(num_frames):
            memory.add(i, context_feats[i], context_labels[i])
        return self.propagate(query, memory, [list(range(num_frames))])[0]

    def propagate(self,
                  query: Tensor,
                  memory: ContextMemory,
                  contexts: Sequence[Sequence[int]],
                  num_long_term: Optional[Sequence[int]] = None
                  ) -> List[Tensor]:
        """Propagate to ``query`` for several contexts that share a memory.

        Args:
            query: ``(C, h, w)`` L2-normalised query features.
            memory: Holds every frame the contexts refer to, e.g. from
                :meth:`init_memory`.
            contexts: Per label group, its context frame indices (first the
                long-term frames, then the short-term frames, repeats
                allowed), e.g. from :meth:`context_indices`.
            num_long_term: Per context, the number of its long-term frames
                (e.g. from :meth:`num_long_term`); None: one each.

        Returns:
            Per context, the ``(L, h, w)`` soft labels of the query.
        """
        backend = getattr(self, self.resolve_backend(query.device))
        return backend.propagate(query, memory, contexts, num_long_term)

    def configured(self, **overrides) -> 'LabelPropagator':
        """A new propagator with these settings and ``overrides`` of its
        arguments (e.g. ``topk=10``)."""
        args = dict(
            radius=self.radius,
            topk=self.topk,
            temperature=self.temperature,
            context_size=self.context_size,
            dedup_context=self.dedup_context,
            restrict_long_term=self.dense.restrict_long_term,
            backend=self.backend,
            tile_size=self.windowed.tile_size,
            query_chunk=self.dense.query_chunk,
            neighbourhood=self.neighbourhood)
        unknown = sorted(set(overrides) - set(args))
        if unknown:
            raise TypeError(f'LabelPropagator has no argument {unknown[0]}')
        args.update(overrides)
        return LabelPropagator(**args)
