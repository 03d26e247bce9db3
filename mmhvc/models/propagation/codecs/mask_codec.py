"""Object (or part) id masks as soft labels, and back."""
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.structures import BaseDataElement
from torch import Tensor

from mmhvc.registry import LABEL_CODECS
from .base import BaseLabelCodec, GivenLabels


@dataclass
class GivenMasks(GivenLabels):
    """Given masks of a video, checked and split into groups.

    Attributes:
        masks: uint8 ``(K, H, W)`` given label maps, each keeping only the
            objects first given at its frame (others set to 0).
        group_ids: Per given frame, the ids first given there.
        label_ids: uint8 ``(L,)`` object id of each channel, ``[0] + ids``.
    """
    masks: Tensor
    group_ids: List[List[int]]
    label_ids: Tensor


@LABEL_CODECS.register_module()
class MaskCodec(BaseLabelCodec):
    """Label maps of object ids: DAVIS and YouTube-VOS objects, VIP parts.

    Labels have one channel for the background and one per object id
    (``[0] + object_ids``). The objects given at frame ``t0`` (all of them
    for DAVIS; those that first appear there for YouTube-VOS) form a group:
    their given mask becomes one-hot soft labels, resized to the feature
    grid (bilinear, ``align_corners=True``), and from ``t0 + 1`` on the
    group predicts only its own channels (the first group also predicts the
    background). At a later given frame the new objects' resized masks ``m``
    replace the propagated labels ``p`` where they have foreground
    (``p = (1 - s) * p + s * m`` with ``s = sum(m)``, see
    :class:`~mmhvc.models.propagation.StreamingPropagator`). A frame's output
    is the argmax of its soft labels upsampled to the frame size (bilinear,
    ``align_corners=True``), mapped back to object ids; where a given mask
    has an object, that object is written. Frames before the first given
    frame are background.

    Data sample: ``given_masks`` (uint8 ``(K, H, W)`` label maps, 0
    background) and the metainfo ``given_frames`` (K sorted frame indices);
    optional metainfo ``object_ids`` (sorted ids) and ``given_object_ids``
    (per given frame, the ids first given there).

    Output: ``pred_masks``, uint8 ``(T, H, W)`` object ids.
    """

    def read(self, data_sample: BaseDataElement, video: Tensor,
             name: str) -> GivenMasks:
        if 'given_masks' not in data_sample:
            raise KeyError(f'{name}: the data sample has no "given_masks"')
        if 'given_frames' not in data_sample.metainfo:
            raise KeyError(f'{name}: the metainfo has no "given_frames"')
        given_masks = data_sample.given_masks.to(video.device)
        given_frames = [int(t) for t in data_sample.metainfo['given_frames']]
        if given_masks.dim() != 3 or given_masks.shape[0] != len(
                given_frames) or given_masks.shape[1:] != video.shape[2:]:
            raise ValueError(
                f'{name}: given_masks {tuple(given_masks.shape)} must be '
                f'(K, H, W) with K = {len(given_frames)} given frames and '
                f'(H, W) = {tuple(video.shape[2:])}')
        if not given_frames or given_frames != sorted(set(given_frames)) or \
                given_frames[0] < 0 or given_frames[-1] >= video.shape[0]:
            raise ValueError(
                f'{name}: given_frames {given_frames} must be sorted, '
                f'distinct frame indices below {video.shape[0]}')
        listed = data_sample.metainfo.get('given_object_ids')
        group_ids, seen = [], set()
        for k, frame in enumerate(given_frames):
            present = [int(i) for i in torch.unique(given_masks[k]) if i > 0]
            ids = present if listed is None else [int(i) for i in listed[k]]
            if not set(ids) <= set(present):
                raise ValueError(
                    f'{name}: objects {sorted(set(ids) - set(present))} are '
                    f'listed at given frame {frame} but absent from its mask')
            new = sorted(set(ids) - seen)
            if not new:
                raise ValueError(f'{name}: the mask given at frame {frame} '
                                 'has no object that was not given before')
            group_ids.append(new)
            seen.update(new)
        object_ids = sorted(seen)
        if 'object_ids' in data_sample.metainfo and sorted(
                int(i) for i in data_sample.metainfo['object_ids']) != \
                object_ids:
            raise ValueError(
                f'{name}: object_ids {data_sample.metainfo["object_ids"]} do '
                f'not match the ids in the given masks {object_ids}')
        if object_ids[-1] > 255:
            raise ValueError(f'{name}: object ids must be < 256 for uint8 '
                             f'masks, got {object_ids[-1]}')
        masks = torch.stack([
            torch.where(
                torch.isin(mask, torch.tensor(ids, device=mask.device)),
                mask, torch.zeros_like(mask))
            for mask, ids in zip(given_masks, group_ids)
        ])
        return GivenMasks(
            frames=given_frames,
            num_labels=len(object_ids) + 1,
            masks=masks,
            group_ids=group_ids,
            label_ids=torch.tensor([0] + object_ids,
                                   dtype=torch.uint8,
                                   device=video.device))

    def encode(self, labels: GivenMasks, index: int,
               feat: Tensor) -> Tuple[Tensor, Tensor]:
        """One-hot labels of the new objects (and of the background for the
        first group), resized to the grid of ``feat``."""
        members = labels.group_ids[index]
        if index == 0:
            members = [0] + members
        channel_of = {
            int(obj): c
            for c, obj in enumerate(labels.label_ids.tolist())
        }
        given = labels.masks[index]
        one_hot = given.new_zeros(
            labels.num_labels, *given.shape, dtype=torch.float32)
        for obj in members:
            one_hot[channel_of[obj]] = (given == obj).float()
        resized = F.interpolate(
            one_hot[None],
            tuple(feat.shape[1:]),
            mode='bilinear',
            align_corners=True)[0]
        channels = resized.new_zeros(labels.num_labels, 1, 1)
        channels[[channel_of[obj] for obj in members]] = 1
        return resized, channels

    def decode(self, labels: GivenMasks,
               soft: Tensor) -> Dict[str, Tensor]:
        """``pred_masks``: ``(H, W)`` ids of the argmax of the soft labels
        after bilinear upsampling (``align_corners=True``)."""
        up = F.interpolate(
            soft[None],
            tuple(labels.masks.shape[1:]),
            mode='bilinear',
            align_corners=True)[0]
        return dict(pred_masks=labels.label_ids[up.argmax(0)])

    def given_outputs(self, labels: GivenMasks, index: int,
                      decoded: Optional[Dict[str, Tensor]]
                      ) -> Dict[str, Tensor]:
        given = labels.masks[index]
        if decoded is None:
            return dict(pred_masks=given)
        return dict(
            pred_masks=torch.where(given > 0, given, decoded['pred_masks']))

    def empty_outputs(self, labels: GivenMasks,
                      num_frames: int) -> Dict[str, Tensor]:
        return dict(
            pred_masks=torch.zeros(
                num_frames, *labels.masks.shape[1:], dtype=torch.uint8))
