"""Propagate annotated object masks through a video, and again after
corrections: the frame loop behind :func:`mmhvc.apis.propagate_masks`, the
web demo and ``demo/video_demo.py``.

Conventions: frames are ``np.uint8`` ``(H, W, 3)`` in the channel order
the model's data preprocessor expects (BGR for the configs of mmhvc, as
:func:`mmhvc.apis.read_video` gives them); masks are ``np.uint8``
``(H, W)`` object ids, 0 background, 255 void (read as background).
"""
from typing import (Callable, Dict, Iterator, List, NamedTuple, Optional,
                    Sequence, Tuple)

import mmcv
import numpy as np
import torch
from torch import Tensor, nn

from mmhvc.models.propagation import StreamingPropagator, StreamState
from mmhvc.models.propagation.codecs import masks_to_soft, soft_to_masks

#: Directions of propagation from the start frame.
DIRECTIONS = ('forward', 'backward', 'both')
#: Settings of the propagator that a run may override.
SETTINGS = ('context_size', 'topk', 'radius', 'temperature')


class Pass(NamedTuple):
    """The frames one stream visits, in order: ``frames[0]`` is the start
    frame; ``given`` is the annotation at each position or None."""
    frames: List[int]
    given: List[Optional[np.ndarray]]


class _PassCache(NamedTuple):
    """What a pass computed: per position the stream state after the
    frame, its soft labels and its annotation."""
    states: List[StreamState]
    soft: List[Tensor]
    given: List[Optional[np.ndarray]]


def check_annotations(annotations: Dict[int, np.ndarray], num_frames: int,
                      size: Tuple[int, int]) -> Dict[int, np.ndarray]:
    """Check annotated masks and read void (255) as background.

    Args:
        annotations: Frame index -> ``(H, W)`` uint8 ids.
        num_frames: Frames in the video.
        size: ``(H, W)`` of the frames.

    Returns:
        The masks, sorted by frame, void set to 0.

    Raises:
        ValueError: No annotation, a frame outside the video, or a mask of
            another size or type.
    """
    if not annotations:
        raise ValueError('no annotated frame: give the mask of at least '
                         'one frame')
    checked = {}
    for t in sorted(annotations):
        mask = np.asarray(annotations[t])
        if not 0 <= int(t) < num_frames:
            raise ValueError(f'annotated frame {t} is outside the video '
                             f'(frames 0-{num_frames - 1})')
        if mask.shape != tuple(size) or mask.dtype != np.uint8:
            raise ValueError(
                f'the mask of frame {t} is {mask.dtype} {mask.shape}; '
                f'expected uint8 ids of the frame size {tuple(size)}')
        checked[int(t)] = np.where(mask == 255, 0, mask).astype(np.uint8)
    return checked


def plan_passes(annotations: Dict[int, np.ndarray], num_frames: int,
                direction: str, start: Optional[int]) -> List[Pass]:
    """The passes of a run: forward from ``start`` to the last frame and/or
    backward from ``start`` to frame 0; every other annotation corrects the
    pass that reaches it.

    Args:
        annotations: Checked masks (:func:`check_annotations`).
        num_frames: Frames in the video.
        direction: One of :data:`DIRECTIONS`.
        start: The annotated frame propagation starts from; None: the
            first annotated frame (the last one for ``'backward'``).

    Raises:
        ValueError: Unknown direction, a start frame without annotation or
            whose mask is empty, or an annotation the direction never
            reaches.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f'direction must be one of {DIRECTIONS}, got '
                         f'"{direction}"')
    frames = sorted(annotations)
    if start is None:
        start = frames[-1] if direction == 'backward' else frames[0]
    if start not in annotations:
        raise ValueError(f'the start frame {start} has no annotation '
                         f'(annotated: {frames})')
    if not annotations[start].any():
        raise ValueError(f'the mask of the start frame {start} is empty: '
                         'no object to propagate')
    if direction == 'forward':
        unreached, side = [t for t in frames if t < start], 'before'
    else:
        unreached, side = [t for t in frames if t > start], 'after'
    if direction != 'both' and unreached:
        raise ValueError(
            f'annotated frames {unreached} come {side} the start frame '
            f'{start}, so a {direction} run never reaches them; propagate in '
            'both directions')
    orders = []
    if direction in ('forward', 'both'):
        orders.append(list(range(start, num_frames)))
    if direction in ('backward', 'both'):
        orders.append(list(range(start, -1, -1)))
    return [Pass(order, [annotations.get(t) for t in order])
            for order in orders]


def processing_size(size: Tuple[int, int],
                    short_side: Optional[int]) -> Tuple[int, int]:
    """``(h, w)`` at which frames of ``size`` are encoded: scaled so that
    the short side is ``short_side`` (never enlarged; None keeps
    ``size``)."""
    if short_side is None or short_side >= min(size):
        return tuple(size)
    if short_side < 8:
        raise ValueError(f'the short side must be at least 8 pixels, got '
                         f'{short_side}')
    scale = short_side / min(size)
    return (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))


class MaskPropagation:
    """Propagate annotated masks through one video, run after run.

    A run (:meth:`run`, or :meth:`iter_run` for results as they arrive)
    propagates from a start frame forward to the last frame and/or backward
    to frame 0, one :class:`~mmhvc.models.propagation.StreamingPropagator`
    per direction (backward feeds the frames in reverse order). Every other
    annotated frame is a *correction* of the pass that reaches it: its mask
    replaces the result there and the frame joins the long-term frames of
    the context, so every later query of that pass compares with it in
    full, as with the start frame. Frames that no pass reaches are 0.

    Each frame is encoded once and its features are kept. Each pass keeps,
    per frame, its stream state and soft labels; a later run restarts the
    pass at its first frame whose annotation changed and keeps the results
    before it, which equal what a run from scratch gives (the stream is
    rebuilt exactly). A change of the object ids or the start frame
    restarts the whole pass.

    Args:
        model: A model from :func:`mmhvc.apis.init_model`.
        frames: T frames, ``(H, W, 3)`` uint8.
        settings: Overrides of the propagator's settings, keys in
            :data:`SETTINGS`; None or empty keeps the config's.
        short_side: Encode the frames resized so that their short side is
            this many pixels (never enlarged); None: at their size. Masks
            are always given and returned at the frames' size.
    """

    def __init__(self,
                 model: nn.Module,
                 frames: Sequence[np.ndarray],
                 settings: Optional[dict] = None,
                 short_side: Optional[int] = None) -> None:
        if len(frames) == 0:
            raise ValueError('the video has no frame')
        unknown = sorted(set(settings or {}) - set(SETTINGS))
        if unknown:
            raise ValueError(f'unknown propagation setting "{unknown[0]}"; '
                             f'expected some of {SETTINGS}')
        self.model = model
        self.frames = list(frames)
        self.size = tuple(self.frames[0].shape[:2])
        self.encode_size = processing_size(self.size, short_side)
        self.propagator = model.propagator.configured(
            **settings) if settings else model.propagator
        self.device = next(model.parameters()).device
        self.masks = np.zeros((len(self.frames), *self.size), np.uint8)
        self._feats: Dict[int, Tensor] = {}
        self._label_ids: Optional[Tuple[int, ...]] = None
        self._caches: Dict[Tuple[int, int], _PassCache] = {}

    def run(self,
            annotations: Dict[int, np.ndarray],
            direction: str = 'forward',
            start: Optional[int] = None,
            progress: Optional[Callable[[int], None]] = None) -> np.ndarray:
        """Propagate and return ``(T, H, W)`` uint8 ids of every frame.

        Args:
            annotations: Frame index -> ``(H, W)`` uint8 ids.
            direction: ``'forward'``, ``'backward'`` or ``'both'``.
            start: The annotated frame to start from (see
                :func:`plan_passes`).
            progress: Called with each frame index as its mask is ready.
        """
        for t in self.iter_run(annotations, direction, start):
            if progress is not None:
                progress(t)
        return self.masks.copy()

    def iter_run(self,
                 annotations: Dict[int, np.ndarray],
                 direction: str = 'forward',
                 start: Optional[int] = None) -> Iterator[int]:
        """Propagate, yielding each frame index as :attr:`masks` gets its
        new result (frames kept from the last run are not yielded).

        Stopping the iteration early leaves the frames computed so far (and
        those kept) in :attr:`masks` and the others 0; the next run goes on
        from there.
        """
        annotations = check_annotations(annotations, len(self.frames),
                                        self.size)
        passes = plan_passes(annotations, len(self.frames), direction,
                             start)
        label_ids = (0, ) + tuple(
            sorted({int(i)
                    for m in annotations.values()
                    for i in np.unique(m) if i}))
        if label_ids != self._label_ids:
            self._caches.clear()
        self._label_ids = label_ids
        keys = [(p.frames[0], p.frames[-1]) for p in passes]
        for key in set(self._caches) - set(keys):
            self._caches.pop(key)
        self.masks[:] = 0
        for key, plan in zip(keys, passes):
            cache = self._caches.setdefault(key, _PassCache([], [], []))
            keep = _kept_positions(cache, plan)
            del cache.states[keep:], cache.soft[keep:], cache.given[keep:]
            for i in range(keep):
                self.masks[plan.frames[i]] = self._decode(
                    cache.soft[i], plan.given[i])
        for key, plan in zip(keys, passes):
            yield from self._run_pass(plan, self._caches[key])

    def _run_pass(self, plan: Pass, cache: _PassCache) -> Iterator[int]:
        """Continue ``plan`` from the end of its ``cache``."""
        stream = StreamingPropagator(self.propagator)
        first = len(cache.soft)
        if first:
            stream.restore(
                cache.states[-1], lambda i:
                (self.feature(plan.frames[i]), cache.soft[i]))
        for i in range(first, len(plan.frames)):
            t = plan.frames[i]
            feat = self.feature(t)
            given = plan.given[i]
            with self.model.precision(self.device):
                if i == 0:
                    soft = stream.start(feat, self._soft(given, feat))
                elif given is not None:
                    soft = stream.correct(feat, self._soft(given, feat))
                else:
                    soft = stream.step(feat)
            cache.states.append(stream.state())
            cache.soft.append(soft)
            cache.given.append(given)
            self.masks[t] = self._decode(soft, given)
            yield t

    def feature(self, t: int) -> Tensor:
        """``(C, h, w)`` features of frame ``t``, encoded once.

        Frames are encoded ``model.encode_batch`` at a time, in batches
        that start at multiples of it, as the model encodes a video from
        frame 0.
        """
        if t not in self._feats:
            batch = getattr(self.model, 'encode_batch', 1)
            first = t - t % batch
            indices = range(first, min(first + batch, len(self.frames)))
            video = torch.from_numpy(
                np.stack([self._encode_input(i) for i in indices])).permute(
                    0, 3, 1, 2).to(self.device)
            for i, feat in zip(indices, self.model.extract_feats(video)):
                self._feats[i] = feat
        return self._feats[t]

    def _encode_input(self, t: int) -> np.ndarray:
        frame = self.frames[t]
        if tuple(frame.shape[:2]) != self.size:
            raise ValueError(f'frame {t} is {frame.shape[1]}x'
                             f'{frame.shape[0]} (WxH), frame 0 '
                             f'{self.size[1]}x{self.size[0]}')
        if self.encode_size == self.size:
            return frame
        return mmcv.imresize(frame,
                             (self.encode_size[1], self.encode_size[0]),
                             interpolation='area')

    def _soft(self, mask: np.ndarray, feat: Tensor) -> Tensor:
        return masks_to_soft(
            torch.from_numpy(mask).to(feat.device), self._label_ids,
            feat.shape[1:])

    def _decode(self, soft: Tensor,
                given: Optional[np.ndarray]) -> np.ndarray:
        if given is not None:
            return given
        return soft_to_masks(
            soft, torch.tensor(self._label_ids, dtype=torch.uint8),
            self.size).cpu().numpy()


def _kept_positions(cache: _PassCache, plan: Pass) -> int:
    """How many positions of ``cache`` ``plan`` can keep: those before the
    first whose annotation differs."""
    keep = 0
    for i, given in enumerate(cache.given[:len(plan.frames)]):
        new = plan.given[i]
        if (given is None) != (new is None) or \
                given is not None and not np.array_equal(given, new):
            break
        keep = i + 1
    return keep
