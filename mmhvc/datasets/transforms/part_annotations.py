"""Loading of per-frame part label maps (VIP) for part propagation."""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmhvc.registry import TRANSFORMS
from ..palette import read_annotation_image
from .video import VOID_ID


def read_class_map(path: str,
                   num_classes: int,
                   ignore_index: int = 255,
                   backend_args: Optional[dict] = None) -> np.ndarray:
    """Read a single-channel PNG whose pixel values are class ids.

    Args:
        path: File path (any MMEngine file backend).
        num_classes: Valid ids are ``0 .. num_classes - 1``.
        ignore_index: The one other value allowed (unlabelled pixels).
        backend_args: Arguments of the file backend.

    Returns:
        np.uint8 ``(H, W)`` class ids.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: The file is not a grey-level or palette image, or holds
            an id outside ``0 .. num_classes - 1`` other than
            ``ignore_index``.
    """
    image = read_annotation_image(path, backend_args)
    if image.mode not in ('L', 'P', 'I', 'I;16'):
        raise ValueError(
            f'Annotation {path} is a "{image.mode}" mode image; part labels '
            'must be single-channel PNGs whose pixel values are class ids')
    labels = np.asarray(image).astype(np.int64)
    bad = (labels < 0) | ((labels >= num_classes) & (labels != ignore_index))
    if bad.any():
        raise ValueError(
            f'Annotation {path} holds class ids '
            f'{np.unique(labels[bad])[:10].tolist()} outside 0..'
            f'{num_classes - 1} (and not the ignore value {ignore_index})')
    return labels.astype(np.uint8)


@TRANSFORMS.register_module()
class LoadPartAnnotations(BaseTransform):
    """Read the part label maps of every frame of a video.

    Every frame is annotated with one class id per pixel (VIP: 0 background
    and 19 human parts, 255 unlabelled). Each part class is propagated like
    an object of a video object segmentation dataset: the given mask holds
    the part ids (unlabelled pixels become background), the ground truth
    keeps ``ignore_index``.

    By default the first frame is the only given frame and the parts are
    those it shows (the CRW/UVC protocol). With ``new_parts_given`` a part
    that first appears in a later frame is given there as well (as for
    YouTube-VOS objects), which is what the HVC reference inference code
    does when every frame is annotated.

    Required keys: ``ann_paths`` (T paths, one per frame), ``ori_shape``
    (from :class:`LoadVideoFrames`).

    Added keys: ``gt_masks`` (np.uint8 ``(T, H, W)``), ``given_masks``
    (np.uint8 ``(K, H, W)``: the first with its parts and background 0, a
    later one with its new parts only, 255 elsewhere), ``given_frames``
    (K sorted frame indices),
    ``given_object_ids`` (per given frame, the part ids first given there),
    ``object_ids`` (sorted, all given part ids), ``palette`` (None: the
    default palette is used when masks are written).

    Args:
        num_classes: Number of classes, background included.
        ignore_index: Annotation value of unlabelled pixels.
        new_parts_given: Also give each part at its first appearance.
        backend_args: Arguments of the MMEngine file backend.
    """

    def __init__(self,
                 num_classes: int = 20,
                 ignore_index: int = 255,
                 new_parts_given: bool = False,
                 backend_args: Optional[dict] = None) -> None:
        if not 1 < num_classes <= 255:
            raise ValueError(f'num_classes must be in 2..255, got '
                             f'{num_classes}')
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.new_parts_given = new_parts_given
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        if 'ori_shape' not in results:
            raise KeyError('LoadPartAnnotations needs "ori_shape": put '
                           'LoadVideoFrames before it in the pipeline')
        paths = results.get('ann_paths')
        if not paths:
            raise KeyError('LoadPartAnnotations needs a non-empty '
                           '"ann_paths"')
        shape = tuple(results['ori_shape'])
        gt_masks = np.empty((len(paths), ) + shape, dtype=np.uint8)
        for t, path in enumerate(paths):
            labels = read_class_map(path, self.num_classes, self.ignore_index,
                                    self.backend_args)
            if labels.shape != shape:
                raise ValueError(f'Annotation {path} is {labels.shape[1]}x'
                                 f'{labels.shape[0]} (WxH) but its frames are '
                                 f'{shape[1]}x{shape[0]}')
            gt_masks[t] = labels

        given_frames, given_ids, seen = [], [], set()
        for t, labels in enumerate(gt_masks):
            present = set(np.unique(labels).tolist()) - {0, self.ignore_index}
            new = sorted(present - seen)
            if new:
                given_frames.append(t)
                given_ids.append(new)
                seen.update(new)
            if not self.new_parts_given:
                break
        if not given_frames:
            first = paths[0] if not self.new_parts_given else \
                f'any annotation of sequence "{results.get("seq_name")}"'
            raise ValueError(f'No part is labelled in {first}: there is '
                             'nothing to propagate')
        given_masks = gt_masks[given_frames].copy()
        # The first given mask holds every part and the background; a later
        # one only its new parts, void elsewhere (not given there).
        for k, (mask, ids) in enumerate(zip(given_masks, given_ids)):
            mask[~np.isin(mask, ids)] = 0 if k == 0 else VOID_ID
        results['gt_masks'] = gt_masks
        results['given_masks'] = given_masks
        results['given_frames'] = given_frames
        results['given_object_ids'] = given_ids
        results['object_ids'] = sorted(seen)
        results['palette'] = None
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index}, '
                f'new_parts_given={self.new_parts_given}, '
                f'backend_args={self.backend_args})')
