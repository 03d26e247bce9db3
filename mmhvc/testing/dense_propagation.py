"""Dense masked label propagation: the oracle for tests and benchmarks.

This is the straightforward form of the CRW/HVC test-time propagation step:
every query position is compared with *every* position of every context
frame, positions of radius-restricted frames that lie outside the spatial
radius are set to ``-inf``, and the top-k over the concatenated context
(frame-major order) are softmax-weighted. It costs
``O(h*w * N*h*w * C)`` per query frame and is kept only as the ground truth
that :class:`~mmhvc.models.propagation.LabelPropagator` is checked against
(``tests/test_models/test_propagation``) and timed against
(``tools/analysis_tools/benchmark_propagation.py``). It is not used at
inference time.
"""
import torch
from torch import Tensor


def dense_label_propagation(query: Tensor,
                            context_feats: Tensor,
                            context_labels: Tensor,
                            radius: float = 12.,
                            topk: int = 15,
                            temperature: float = 0.1,
                            num_long_term: int = 1,
                            restrict_long_term: bool = False,
                            query_chunk: int = 128) -> Tensor:
    """Propagate soft labels to one query frame with a dense affinity.

    Args:
        query: ``(C, h, w)`` query features, L2-normalised over ``C``.
        context_feats: ``(N, C, h, w)`` context features, L2-normalised over
            ``C``, in context order (long-term frames first). Repeated frames
            are repeated here, exactly as in the reference context.
        context_labels: ``(N, L, h, w)`` soft labels of the context frames.
        radius: Spatial radius in feature cells. A context position
            ``(y', x')`` of a restricted frame is a candidate for the query
            position ``(y, x)`` iff ``(y - y')**2 + (x - x')**2 < radius**2``.
        topk: Number of neighbours kept per query position.
        temperature: Softmax temperature applied to the dot products.
        num_long_term: Number of leading context frames that are long-term.
        restrict_long_term: Whether the long-term frames are radius
            restricted too. The reference leaves them unrestricted.
        query_chunk: Query positions processed at once (bounds memory).

    Returns:
        ``(L, h, w)`` soft labels of the query frame.
    """
    channels, height, width = query.shape
    num_frames, num_labels = context_labels.shape[:2]
    num_pos = height * width
    keys = context_feats.permute(0, 2, 3, 1).reshape(num_frames * num_pos,
                                                     channels)
    labels = context_labels.permute(0, 2, 3, 1).reshape(
        num_frames * num_pos, num_labels)
    queries = query.permute(1, 2, 0).reshape(num_pos, channels)
    ys, xs = torch.meshgrid(
        torch.arange(height, device=query.device),
        torch.arange(width, device=query.device),
        indexing='ij')
    ys, xs = ys.reshape(-1), xs.reshape(-1)
    first_restricted = 0 if restrict_long_term else num_long_term
    k = min(topk, num_frames * num_pos)

    out = query.new_empty(num_pos, num_labels)
    for start in range(0, num_pos, query_chunk):
        stop = min(start + query_chunk, num_pos)
        scores = (queries[start:stop] @ keys.T).view(stop - start, num_frames,
                                                     num_pos)
        dist2 = ((ys[start:stop, None] - ys[None])**2 +
                 (xs[start:stop, None] - xs[None])**2)
        outside = torch.zeros_like(dist2, dtype=query.dtype).masked_fill_(
            dist2 >= radius**2, float('-inf'))
        scores[:, first_restricted:] += outside[:, None]
        values, index = (scores.view(stop - start, -1) / temperature).topk(
            k, dim=1)
        weights = values.softmax(dim=1)
        out[start:stop] = (weights[..., None] * labels[index]).sum(1)
    return out.T.reshape(num_labels, height, width)
