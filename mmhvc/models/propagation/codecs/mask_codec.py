"""Object (or part) id masks as soft labels, and back."""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmhvc.registry import LABEL_CODECS
from .base import BaseLabelCodec

#: Pixels of a given mask that carry no label.
VOID_ID = 255


def masks_to_soft(mask: Tensor, label_ids: Sequence[int],
                  grid_size: Tuple[int, int]) -> Tensor:
    """One-hot soft labels of an id mask, resized to the feature grid.

    Args:
        mask: ``(H, W)`` integer ids; pixels whose id is not in
            ``label_ids`` (void, 255) are in no channel.
        label_ids: Object id of each channel, background (0) first.
        grid_size: ``(h, w)`` of the feature grid.

    Returns:
        float32 ``(L, h, w)`` labels, resized bilinearly with
        ``align_corners=True``, on the device of ``mask``.
    """
    one_hot = torch.stack([(mask == int(i)).float() for i in label_ids])
    return F.interpolate(
        one_hot[None], tuple(grid_size), mode='bilinear',
        align_corners=True)[0]


def soft_to_masks(soft: Tensor, label_ids: Tensor,
                  image_size: Tuple[int, int]) -> Tensor:
    """The id mask of ``(L, h, w)`` soft labels: the argmax after bilinear
    upsampling to ``image_size`` (``align_corners=True``), as the id of its
    channel (``label_ids``, ``(L,)``); ``(H, W)``, dtype of ``label_ids``.
    """
    up = F.interpolate(
        soft[None], tuple(image_size), mode='bilinear',
        align_corners=True)[0]
    return label_ids.to(up.device)[up.argmax(0)]


def masks_to_soft_nearest(mask: Tensor, label_ids: Sequence[int],
                          grid_size: Tuple[int, int]) -> Tensor:
    """One-hot soft labels of an id mask resized to the feature grid by
    nearest-neighbour sampling at cell centres (DINO's protocol).

    Args:
        mask: ``(H, W)`` integer ids; ids not in ``label_ids`` are in no
            channel.
        label_ids: Object id of each channel, background (0) first.
        grid_size: ``(h, w)`` of the feature grid.

    Returns:
        float32 ``(L, h, w)`` one-hot labels: cell ``(i, j)`` takes the id
        of pixel ``(floor((i + 0.5) H / h), floor((j + 0.5) W / w))``.
    """
    small = F.interpolate(
        mask[None, None].float(), tuple(grid_size),
        mode='nearest-exact')[0, 0]
    return torch.stack([(small == int(i)).float() for i in label_ids])


def soft_to_masks_normalized(soft: Tensor, label_ids: Tensor,
                             input_size: Tuple[int, int],
                             image_size: Tuple[int, int]) -> Tensor:
    """The id mask of ``(L, h, w)`` soft labels as DINO's protocol reads
    it: bilinear upsampling to ``input_size`` (the encoded frame size,
    ``align_corners=False``), each channel with a positive maximum rescaled
    to ``[0, 1]`` (minus its minimum, over its maximum), the argmax, and a
    nearest-neighbour resize (cell centres) to ``image_size``; ``(H, W)``,
    dtype of ``label_ids``."""
    up = F.interpolate(
        soft[None], tuple(input_size), mode='bilinear',
        align_corners=False)[0]
    shifted = up - up.amin(dim=(1, 2), keepdim=True)
    span = shifted.amax(dim=(1, 2), keepdim=True)
    positive = up.amax(dim=(1, 2), keepdim=True) > 0
    index = torch.where(positive, shifted / span.clamp_min(1e-30),
                        up).argmax(0)
    if tuple(input_size) != tuple(image_size):
        index = F.interpolate(
            index[None, None].float(), tuple(image_size),
            mode='nearest-exact')[0, 0].long()
    return label_ids.to(up.device)[index]


RESAMPLINGS = ('crw', 'dino')


@LABEL_CODECS.register_module()
class MaskCodec(BaseLabelCodec):
    """Label maps of object ids: DAVIS and YouTube-VOS objects, VIP parts.

    Labels have one channel for the background and one per object id
    (``[0] + object_ids``). A given mask becomes one-hot soft labels,
    resized to the feature grid (:func:`masks_to_soft`). The first given
    mask holds the background and the objects given there; a later one
    (objects that first appear there, as YouTube-VOS gives them) holds only
    its new objects and is void (255) elsewhere, so it carries only their
    channels and leaves the propagated labels elsewhere. A frame's output
    is the argmax of its soft labels upsampled to the frame size, as object
    ids (:func:`soft_to_masks`); where a given mask has an object, that
    object is written, and the output of the first given frame is its mask
    (void as background).

    ``resampling`` sets how labels move between the frame and the feature
    grid: ``'crw'`` (CRW and HVC) as above; ``'dino'`` as DINO's video
    segmentation script: a given mask is resized to the grid by
    nearest-neighbour sampling (:func:`masks_to_soft_nearest`), and soft
    labels are upsampled to the encoded frame size (``input_shape``), each
    channel rescaled to ``[0, 1]``, and the argmax resized to the frame by
    nearest neighbour (:func:`soft_to_masks_normalized`).

    Data sample: ``given_masks`` (uint8 ``(K, H, W)`` label maps) and the
    metainfo ``given_frames`` (K sorted frame indices) and ``object_ids``
    (the sorted ids of every given object).

    Output: ``pred_masks``, uint8 ``(H, W)`` object ids of a frame, at the
    size of the propagated frames (that of the given masks).
    """

    given_keys = ('given_masks', )

    def __init__(self, resampling: str = 'crw') -> None:
        if resampling not in RESAMPLINGS:
            raise ValueError(f'MaskCodec: resampling must be one of '
                             f'{RESAMPLINGS}, got "{resampling}"')
        self.resampling = resampling

    @staticmethod
    def label_ids(meta: dict) -> Tensor:
        """uint8 ``(L,)``: the object id of each channel,
        ``[0] + object_ids``."""
        if 'object_ids' not in meta:
            raise KeyError(f'{meta.get("seq_name", "<unnamed video>")}: '
                           'the metainfo has no "object_ids"')
        return torch.tensor([0] + [int(i) for i in meta['object_ids']],
                            dtype=torch.uint8)

    def encode(self, given: Dict[str, Tensor], meta: dict,
               grid_size: Tuple[int, int]) -> Tensor:
        """One-hot labels of the given mask's background and objects."""
        mask = given['given_masks']
        if tuple(mask.shape) != tuple(meta['frame_shape']):
            raise ValueError(
                f'{meta.get("seq_name", "<unnamed video>")}: a given mask is '
                f'{tuple(mask.shape)} but the frames are '
                f'{tuple(meta["frame_shape"])} (H, W)')
        to_soft = masks_to_soft_nearest if self.resampling == 'dino' \
            else masks_to_soft
        return to_soft(mask, self.label_ids(meta).tolist(), grid_size)

    def decode(self,
               soft: Optional[Tensor],
               meta: dict,
               given: Optional[Dict[str, Tensor]] = None) -> Dict[str, Tensor]:
        """``pred_masks``: the ids of the soft labels' argmax, with the
        given objects written over them."""
        mask = None if given is None else given['given_masks']
        if soft is None:
            return dict(
                pred_masks=torch.where(mask == VOID_ID,
                                       torch.zeros_like(mask),
                                       mask).to(torch.uint8))
        frame_shape = tuple(meta['frame_shape'])
        if self.resampling == 'dino':
            pred = soft_to_masks_normalized(
                soft, self.label_ids(meta),
                tuple(meta.get('input_shape', frame_shape)), frame_shape)
        else:
            pred = soft_to_masks(soft, self.label_ids(meta), frame_shape)
        if mask is not None:
            mask = mask.to(pred.device, pred.dtype)
            pred = torch.where((mask > 0) & (mask != VOID_ID), mask, pred)
        return dict(pred_masks=pred)
