"""The frame loop of label propagation, one frame at a time."""
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

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


class StreamState(NamedTuple):
    """Where a :class:`StreamingPropagator` stands before its next frame,
    without the tensors: enough to rebuild it from the frames' features and
    soft labels (see :meth:`StreamingPropagator.restore`).

    ``num_frames`` frames were seen; ``groups`` are the label groups,
    ``corrected`` the corrected frames, ``slots`` maps each frame held in
    the memory to its slot and ``capacity`` is the memory's size.
    """
    num_frames: int
    groups: Tuple[_LabelGroup, ...]
    corrected: Tuple[int, ...]
    slots: Dict[int, int]
    capacity: int


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

    :meth:`correct` replaces the labels of a frame with corrected ones (all
    channels) and makes it a long-term frame of every group started before
    it: from then on every query compares with it in full, as with the
    group's first frame (see
    :meth:`~mmhvc.models.propagation.LabelPropagator.context_indices`).

    The frame index ``t`` counts the frames the stream has seen, in the
    order they were given: feeding a video's frames in reverse order
    propagates backward in time.

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
        self._corrected: List[int] = []

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
        if labels is not None:
            self._check_labels(labels, feat)
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
            self._reserve()
        self._store(t, feat, soft)
        return soft

    @torch.no_grad()
    def correct(self, frame: Tensor, labels: Tensor) -> Tensor:
        """Take corrected labels for the next frame.

        The frame is propagated as by :meth:`step` (the result is kept in
        :attr:`propagated`), but its soft labels become ``labels``, and it
        joins the long-term frames of every group started before it.

        Args:
            frame: ``(3, H, W)`` frame for the encoder, or ``(C, h, w)``
                features without one.
            labels: ``(L, h, w)`` soft labels of every channel on the
                feature grid.

        Returns:
            ``labels``, the frame's soft labels.
        """
        if not self._groups:
            raise ValueError('a correction needs a started video: call '
                             'start(frame, labels) first')
        feat = frame if self.encoder is None else self.encoder(frame)
        t = self.num_frames
        self._check_labels(labels, feat)
        if labels.shape[0] != self.memory.labels.shape[2]:
            raise ValueError(
                f'frame {t}: corrected labels have {labels.shape[0]} '
                f'channels, the video {self.memory.labels.shape[2]}')
        self.propagated = self._propagate(feat, t)
        self._corrected.append(t)
        self._reserve()
        self._store(t, feat, labels)
        return labels

    def state(self) -> StreamState:
        """Where the stream stands before its next frame (see
        :class:`StreamState`)."""
        return StreamState(
            self.num_frames, tuple(self._groups), tuple(self._corrected),
            {} if self.memory is None else self.memory.slots,
            0 if self.memory is None else self.memory.capacity)

    def restore(self, state: StreamState,
                frame_data: Callable[[int], Tuple[Tensor, Tensor]]) -> None:
        """Continue from an earlier :meth:`state` of the same video.

        The memory is rebuilt as it was, each frame in its slot, so the next
        steps give what they gave after that state.

        Args:
            state: From :meth:`state`, with at least one frame seen.
            frame_data: Maps a frame index ``t < state.num_frames`` to its
                ``(C, h, w)`` features and the ``(L, h, w)`` soft labels
                the stream returned for it.
        """
        if not state.slots:
            raise ValueError('cannot restore a stream that has seen no '
                             'frame; call start(frame, labels)')
        self.reset()
        for t, slot in sorted(state.slots.items(), key=lambda x: x[1]):
            feat, soft = frame_data(t)
            if self.memory is None:
                self.memory = ContextMemory(state.capacity, feat.shape[0],
                                            soft.shape[0], feat.shape[1],
                                            feat.shape[2], feat.device,
                                            feat.dtype)
            self.memory.add(t, feat, soft, slot)
        self.num_frames = state.num_frames
        self._groups = list(state.groups)
        self._corrected = list(state.corrected)

    def _check_labels(self, labels: Tensor, feat: Tensor) -> None:
        if tuple(labels.shape[1:]) != tuple(feat.shape[1:]):
            raise ValueError(
                f'frame {self.num_frames}: labels of shape '
                f'{tuple(labels.shape)} do not match the feature grid '
                f'{tuple(feat.shape[1:])}')

    def _reserve(self) -> None:
        """Grow the memory for the long-term frames of every group."""
        self.memory.reserve(self.propagator.context_size +
                            len(self._groups) + len(self._corrected))

    def _store(self, t: int, feat: Tensor, soft: Tensor) -> None:
        """Keep frame ``t`` as context and drop the frames no context of
        the next frames needs."""
        self.memory.retain(
            self.propagator.memory_frames(
                [g.start for g in self._groups] + self._corrected, t))
        self.memory.add(t, feat, soft)
        self.num_frames += 1

    def _propagate(self, feat: Tensor, t: int) -> Optional[Tensor]:
        """Sum of the groups' predictions for frame ``t``, each restricted
        to its channels; None before the first group."""
        if not self._groups:
            return None
        contexts = [
            self.propagator.context_indices(group.start, t, self._corrected)
            for group in self._groups
        ]
        num_long_term = [
            self.propagator.num_long_term(group.start, t, self._corrected)
            for group in self._groups
        ]
        preds = self.propagator.propagate(feat, self.memory, contexts,
                                          num_long_term)
        soft = None
        for group, pred in zip(self._groups, preds):
            if group.channels is not None:
                pred = group.channels * pred
            soft = pred if soft is None else soft + pred
        return soft
