"""Label propagation with the CRW/HVC test-time context and top-k kernel."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import Tensor

from mmhvc.registry import MODELS
from .context import ContextPolicy
from .context_memory import ContextMemory
from .topk_kernel import TopkKernel


@MODELS.register_module()
class LabelPropagator(BaseModule):
    """Propagate soft labels from context frames to a query frame.

    It combines a :class:`~mmhvc.models.propagation.context.ContextPolicy`
    (``context``: which frames each query frame is propagated from, and how
    large the memory of a video must be) with a
    :class:`~mmhvc.models.propagation.topk_kernel.TopkKernel` (``kernel``:
    the windowed top-k propagation itself).

    For every query position, the dot products with the context positions
    within ``radius`` feature cells (Euclidean, ``dy**2 + dx**2 <
    radius**2``, same coordinates in every frame) are computed, the ``topk``
    largest over the whole context are kept, softmax-weighted with
    ``temperature``, and the neighbours' soft labels are summed with those
    weights.

    The context of a query frame ``t`` for a label group that starts at
    frame ``t0`` is :meth:`context_indices`: the long-term frame ``t0``
    followed by the short-term frames ``t - context_size .. t - 1`` clamped
    to ``t0``. As in the reference the list is not deduplicated, so at
    ``t = t0 + 1`` it holds ``context_size + 1`` copies of frame ``t0``; a
    frame repeated ``m`` times is a candidate set of multiplicity ``m`` for
    the top-k (identical copies tie and may all be selected).

    As in the reference, the long-term frame is compared with *every* query
    position (no radius) unless ``restrict_long_term`` is set; its short-term
    copies are radius restricted.

    The result equals
    :func:`~mmhvc.testing.dense_propagation.dense_label_propagation` on the
    expanded context, up to float rounding and the order of exact ties.

    Args:
        radius: Spatial radius in feature cells (strict).
        topk: Number of neighbours per query position.
        temperature: Softmax temperature of the dot products.
        context_size: Number of short-term context frames.
        dedup_context: Use each context frame once (long-term frame plus the
            distinct previous frames) instead of the padded reference context.
        restrict_long_term: Restrict the long-term frame to the radius as
            well. The reference does not.
        bf16_prefilter: Score in bfloat16 first and score again exactly
            only the blocks that can hold a top-k candidate (see
            :class:`~mmhvc.models.propagation.topk_kernel.TopkKernel`); the
            selection is that of exact scores. Off by default: on real
            video features it skips too little to be faster
            (docs/benchmarks.md). It relies on float32 accumulation of
            bfloat16 products, so on CUDA enable it only when
            ``torch.backends.cuda.matmul`` does not allow reduced-precision
            bfloat16 reductions (``allow_bf16_reduced_precision_reduction``).
        tile_size: Query blocks ``(rows, columns)``, or one int for square
            blocks; a speed/memory trade-off that does not change the
            result.
        init_cfg: Initialisation config (the propagator has no weights).
    """

    def __init__(self,
                 radius: float = 12.,
                 topk: int = 15,
                 temperature: float = 0.1,
                 context_size: int = 50,
                 dedup_context: bool = False,
                 restrict_long_term: bool = False,
                 bf16_prefilter: bool = False,
                 tile_size: Union[int, Tuple[int, int]] = (60, 8),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.kernel = TopkKernel(radius, topk, temperature,
                                 restrict_long_term, bf16_prefilter,
                                 tile_size)
        self.context = ContextPolicy(context_size, dedup_context)

    @property
    def radius(self) -> float:
        """Spatial radius in feature cells."""
        return self.kernel.radius

    @property
    def topk(self) -> int:
        """Number of neighbours per query position."""
        return self.kernel.topk

    @property
    def temperature(self) -> float:
        """Softmax temperature of the dot products."""
        return self.kernel.temperature

    @property
    def context_size(self) -> int:
        """Number of short-term context frames."""
        return self.context.context_size

    def context_indices(self, start: int, t: int) -> List[int]:
        """Context frame indices of query frame ``t`` for a group given at
        ``start`` (see :meth:`ContextPolicy.context_indices`)."""
        return self.context.context_indices(start, t)

    def memory_frames(self, starts: Sequence[int], t: int) -> List[int]:
        """Frames to retain before storing frame ``t`` (see
        :meth:`ContextPolicy.memory_frames`)."""
        return self.context.memory_frames(starts, t)

    def init_memory(self,
                    num_long_term: int,
                    num_channels: int,
                    num_labels: int,
                    height: int,
                    width: int,
                    device: torch.device = torch.device('cpu'),
                    dtype: torch.dtype = torch.float32) -> ContextMemory:
        """A memory large enough for ``context_size`` recent frames plus
        ``num_long_term`` long-term frames (with a bfloat16 copy of the
        features when the prefilter is used on ``device``)."""
        return self.context.init_memory(num_long_term, num_channels,
                                        num_labels, height, width, device,
                                        dtype,
                                        self.kernel.coarse_dtype(
                                            device, dtype))

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
        memory = ContextMemory(
            num_frames, channels, context_labels.shape[1], height, width,
            query.device, query.dtype,
            self.kernel.coarse_dtype(query.device, query.dtype))
        for i in range(num_frames):
            memory.add(i, context_feats[i], context_labels[i])
        return self.propagate(query, memory, [list(range(num_frames))])[0]

    def propagate(self, query: Tensor, memory: ContextMemory,
                  contexts: Sequence[Sequence[int]]) -> List[Tensor]:
        """Propagate to ``query`` for several contexts that share a memory.

        Args:
            query: ``(C, h, w)`` L2-normalised query features.
            memory: Holds every frame the contexts refer to, e.g. from
                :meth:`init_memory`.
            contexts: Per label group, its context frame indices (first the
                long-term frame, then the short-term frames, repeats allowed),
                e.g. from :meth:`context_indices`.

        Returns:
            Per context, the ``(L, h, w)`` soft labels of the query.
        """
        return self.kernel.propagate(query, memory, contexts)
