"""Keypoint tracking by label propagation (JHMDB pose propagation)."""
from typing import List, Sequence, Tuple, Union

import torch
from mmengine.structures import BaseDataElement
from mmengine.utils import ProgressBar
from torch import Tensor

from mmhvc.registry import MODELS
from .keypoint_heatmaps import heatmaps_to_keypoints, keypoints_to_heatmaps
from .vos_model import LabelPropagationSegmentor


@MODELS.register_module()
class KeypointPropagationModel(LabelPropagationSegmentor):
    """Propagate the keypoints given in one frame of a video to its frames.

    Frames are encoded exactly as by
    :class:`~mmhvc.models.propagation.LabelPropagationSegmentor` (same
    backbone, optional merged second encoder, normalisation and checkpoint
    handling), and the same
    :class:`~mmhvc.models.propagation.LabelPropagator` carries the labels
    from frame to frame with the same context. Only the labels differ: one
    soft-label channel per keypoint, which in the given frame is a Gaussian
    around the keypoint on the feature grid (``sigma`` in grid cells). The
    propagated channels of every later frame are kept as its context labels
    and decoded into keypoints by a value-weighted average of each channel's
    ``decode_topk`` largest cells. Both conversions are in
    :mod:`mmhvc.models.propagation.keypoint_heatmaps`.

    There is no background channel: a propagated label is a weighted sum of
    context labels whose weights depend on the features only, so each
    channel is carried on its own and an extra background channel could not
    move any keypoint.

    Keypoints are ``(x, y)`` pixels of the frame size in the metainfo
    ``ori_shape`` (the annotation's frame), which may differ from the size
    of the encoded frames (e.g. resized to 320 x 320): the feature grid is
    taken to span the frame in both cases.

    Args:
        backbone: Config of the encoder (see
            :class:`~mmhvc.models.propagation.LabelPropagationSegmentor`).
        propagator: Config of the label propagator.
        sigma: Standard deviation of the given keypoints' Gaussians, in
            feature-grid cells. The protocol uses 0.5.
        decode_topk: Number of largest cells averaged to locate a keypoint.
            The protocol uses 3.
        **kwargs: Other arguments of
            :class:`~mmhvc.models.propagation.LabelPropagationSegmentor`.
    """

    def __init__(self,
                 backbone: dict,
                 propagator: dict = dict(type='LabelPropagator'),
                 sigma: float = 0.5,
                 decode_topk: int = 3,
                 **kwargs) -> None:
        super().__init__(backbone=backbone, propagator=propagator, **kwargs)
        if sigma <= 0:
            raise ValueError(f'sigma must be > 0, got {sigma}')
        if decode_topk < 1:
            raise ValueError(f'decode_topk must be >= 1, got {decode_topk}')
        self.sigma = sigma
        self.decode_topk = decode_topk

    def predict(self, inputs: Union[Tensor, Sequence[Tensor]],
                data_samples: List[BaseDataElement]) -> List[BaseDataElement]:
        """Add ``pred_keypoints`` (float32 ``(T, J, 2)``, ``(x, y)`` pixels,
        NaN where not located) and ``pred_visible`` (bool ``(T, J)``) to
        each data sample, on the CPU."""
        if len(inputs) != len(data_samples):
            raise ValueError(f'{len(inputs)} videos but {len(data_samples)} '
                             'data samples')
        for video, data_sample in zip(inputs, data_samples):
            keypoints, found = self.track_keypoints(video, data_sample)
            data_sample.set_data(
                dict(pred_keypoints=keypoints, pred_visible=found))
        return data_samples

    @torch.no_grad()
    def track_keypoints(self, video: Tensor,
                        data_sample: BaseDataElement) -> Tuple[Tensor, Tensor]:
        """Propagate the given keypoints of one video.

        Args:
            video: ``(T, 3, H', W')`` frames, 0-255 (BGR when
                ``bgr_to_rgb``).
            data_sample: Holds ``given_keypoints`` (``(1, J, 2)`` ``(x, y)``
                pixels of an ``ori_shape`` frame), ``given_visible`` (bool
                ``(1, J)``) and the metainfo ``given_frames`` (``[t0]``);
                optional metainfo ``ori_shape`` (defaults to ``(H', W')``)
                and ``seq_name``.

        Returns:
            ``(keypoints, found)`` on the CPU: float32 ``(T, J, 2)`` and bool
            ``(T, J)``. Frame ``t0`` holds the given keypoints; frames
            before it have none.
        """
        name = data_sample.metainfo.get('seq_name', '<unnamed video>')
        start, given, visible = self._read_given_keypoints(
            video, data_sample, name)
        image_size = tuple(
            int(s)
            for s in data_sample.metainfo.get('ori_shape', video.shape[2:]))
        num_frames, num_joints = video.shape[0], given.shape[0]
        keypoints = torch.full((num_frames, num_joints, 2), float('nan'))
        found = torch.zeros(num_frames, num_joints, dtype=torch.bool)
        keypoints[start] = torch.where(visible[:, None], given,
                                       torch.nan).cpu()
        found[start] = visible.cpu()

        memory = None
        progress = ProgressBar(num_frames) if self.show_progress else None
        for t in range(start, num_frames):
            feat = self.extract_feat(video[t])
            if memory is None:
                soft = keypoints_to_heatmaps(given, visible, image_size,
                                             feat.shape[1:],
                                             self.sigma).to(feat.dtype)
                memory = self.propagator.init_memory(1, feat.shape[0],
                                                     num_joints, feat.shape[1],
                                                     feat.shape[2],
                                                     feat.device, feat.dtype)
            else:
                soft = self.propagator.propagate(
                    feat, memory,
                    [self.propagator.context_indices(start, t)])[0]
                located, hit = heatmaps_to_keypoints(soft, image_size,
                                                     self.decode_topk)
                keypoints[t], found[t] = located.cpu(), hit.cpu()
            memory.retain(self.propagator.memory_frames([start], t))
            memory.add(t, feat, soft)
            if progress is not None:
                progress.update()
        return keypoints, found

    @staticmethod
    def _read_given_keypoints(video: Tensor, data_sample: BaseDataElement,
                              name: str) -> Tuple[int, Tensor, Tensor]:
        """Check the given keypoints of a video.

        Returns:
            ``(t0, keypoints, visible)``: the given frame, float32 ``(J, 2)``
            and bool ``(J,)``, on the video's device.
        """
        if video.dim() != 4 or video.shape[1] != 3:
            raise ValueError(f'{name}: expected (T, 3, H, W) frames, got '
                             f'{tuple(video.shape)}')
        for key in ('given_keypoints', 'given_visible'):
            if key not in data_sample:
                raise KeyError(f'{name}: the data sample has no "{key}"')
        given_frames = [
            int(t) for t in data_sample.metainfo.get('given_frames', [0])
        ]
        if len(given_frames) != 1 or not 0 <= given_frames[0] < len(video):
            raise ValueError(
                f'{name}: keypoints must be given in exactly one frame below '
                f'{len(video)}, got given_frames {given_frames}')
        keypoints = torch.as_tensor(data_sample.given_keypoints).to(
            video.device, torch.float32)
        visible = torch.as_tensor(data_sample.given_visible).to(
            video.device, torch.bool)
        if keypoints.dim() != 3 or keypoints.shape[0] != 1 or \
                keypoints.shape[2] != 2 or \
                visible.shape != keypoints.shape[:2]:
            raise ValueError(
                f'{name}: given_keypoints {tuple(keypoints.shape)} must be '
                f'(1, J, 2) and given_visible {tuple(visible.shape)} (1, J)')
        if not visible.any():
            raise ValueError(f'{name}: no keypoint is visible in the given '
                             f'frame {given_frames[0]}')
        if not torch.isfinite(keypoints[visible]).all():
            raise ValueError(f'{name}: visible given keypoints must have '
                             'finite coordinates')
        return given_frames[0], keypoints[0], visible[0]
