"""The frame loop of label propagation, one frame at a time."""
from typing import Callable, List, NamedTuple, Optional

import torch
from torch import Tensor

from .context_memory import ContextMemory
from .label_propagator import LabelPropagator


class _LabelGroup(NamedTuple):
    """Labels given at the same frame, propagated with their own context.

    ``start`` is the frame the group is given at (its long-term frame) and
    ``channels`` a ``(L, 1, 1)`` 0/1 mask of the label channels it predicts
    (None: all of them).
    """
    start: int
    channels: Optional[Tensor]


class StreamingPropagator:
    """Propagate labels through the frames of a video as they arrive.

    Example::

        stream = StreamingPropagator(model.propagator, model.extract_feat)
        soft = stream.start(frames[0], given)   # (L, h, w) on the grid
        for frame in frames[1:]:
            soft = stream.step(frame)           # (L, h, w) soft labels

    Each :meth:`step` encodes its frame (unless it is given as features),
    propagates to it from the context of every label group (each group
    predicting only its own channels; the predictions are summed), then
    applies the labels given at that frame, stores the frame's features and
    soft labels as context for the next frames, and drops the frames that no
    context needs any more, so memory does not grow with the video.

    Labels given at a frame start a new label group there, whose context has
    that frame as its long-term frame (objects that first appear later, as
    YouTube-VOS gives them). Their soft labels ``m`` replace the propagated
    ones ``p`` by their share ``s = sum(m)`` over channels:
    ``(1 - s) * p + s * m``; at the first frame the labels are ``m``.

    After each step, :attr:`propagated` holds the frame's soft labels as
    propagated, before the labels given at the frame were applied (None at
    the first frame).

    Args:
        propagator: The context rule and the top-k propagation.
        encoder: Maps a frame to ``(C, h, w)`` L2-normalised features (e.g.
            ``model.extract_feat``); None when the steps are given features.
        num_long_term: Number of label groups to reserve memory for; more
            groups grow the memory when they start.
    """

    def __init__(self,
                 propagator: LabelPropagator,
                 encoder: Optional[Callable[[Tensor], Tensor]] = None,
                 num_long_term: int = 1) -> None:
        self.propagator = propagator
        self.encoder = encoder
        self.num_long_term = num_long_term
        self.reset()

    def reset(self) -> None:
        """Forget the video: the next frame is frame 0 and needs labels."""
        self.num_frames = 0
        self.propagated: Optional[Tensor] = None
        self.memory: Optional[ContextMemory] = None
        self._groups: List[_LabelGroup] = []

    def start(self,
              frame: Tensor,
              labels: Tensor,
              channels: Optional[Tensor] = None) -> Tensor:
        """Start a new video at ``frame`` with its given ``labels``; see
        :meth:`step`."""
        self.reset()
        return self.step(frame, labels, channels)

    @torch.no_grad()
    def step(self,
             frame: Tensor,
             labels: Optional[Tensor] = None,
             channels: Optional[Tensor] = None) -> Tensor:
        """Propagate to the next frame.

        Args:
            frame: ``(3, H, W)`` frame for the encoder, or ``(C, h, w)``
                features without one.
            labels: ``(L, h, w)`` soft labels given at this frame on the
                feature grid (zero outside the new objects' channels), or
                None.
            channels: ``(L, 1, 1)`` 0/1 mask of the channels the group that
                starts here predicts (None: all of them).

        Returns:
            ``(L, h, w)`` soft labels of the frame.
        """
        feat = frame if self.encoder is None else self.encoder(frame)
        t = self.num_frames
        if labels is None and not self._groups:
            raise ValueError('the first frame of a video needs its labels: '
                             'call start(frame, labels)')
        if labels is not None and \
                tuple(labels.shape[1:]) != tuple(feat.shape[1:]):
            raise ValueError(
                f'frame {t}: labels of shape {tuple(labels.shape)} do not '
                f'match the feature grid {tuple(feat.shape[1:])}')
        if self.memory is None:
            self.memory = self.propagator.init_memory(
                self.num_long_term, feat.shape[0], labels.shape[0],
                feat.shape[1], feat.shape[2], feat.device, feat.dtype)
        soft = self.propagated = self._propagate(feat, t)
        if labels is not None:
            if soft is not None:
                share = labels.sum(0, keepdim=True)
                labels = (1 - share) * soft + share * labels
            soft = labels
            self._groups.append(_LabelGroup(t, channels))
            self.memory.reserve(self.propagator.context_size +
                                len(self._groups))
        self.memory.retain(
            self.propagator.memory_frames([g.start for g in self._groups], t))
        self.memory.add(t, feat, soft)
        self.num_frames += 1
        return soft

    def _propagate(self, feat: Tensor, t: int) -> Optional[Tensor]:
        """Sum of the groups' predictions for frame ``t``, each restricted
        to its channels; None before the first group."""
        if not self._groups:
            return None
        contexts = [
            self.propagator.context_indices(group.start, t)
            for group in self._groups
        ]
        preds = self.propagator.propagate(feat, self.memory, contexts)
        soft = None
        for group, pred in zip(self._groups, preds):
            if group.channels is not None:
                pred = group.channels * pred
            soft = pred if soft is None else soft + pred
        return soft
