"""Loading of whole videos (frames and object masks) for label propagation."""
from typing import List, Optional, Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio

from mmhvc.registry import TRANSFORMS
from ..palette import read_indexed_png

VOID_ID = 255


@TRANSFORMS.register_module()
class LoadVideoFrames(BaseTransform):
    """Read every frame of a sequence into one array.

    Required keys: ``frame_paths`` (list[str], T paths).

    Added keys: ``img`` (np.uint8 (T, H, W, 3), BGR), ``img_shape`` and
    ``ori_shape`` ((H, W)).

    Args:
        imdecode_backend: Decoding backend of :func:`mmcv.imfrombytes`.
        backend_args: Arguments of the MMEngine file backend.
    """

    def __init__(self,
                 imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None) -> None:
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        paths = results.get('frame_paths')
        if not paths:
            raise KeyError('LoadVideoFrames needs a non-empty "frame_paths"')
        video = None
        for t, path in enumerate(paths):
            frame = self._read(path)
            if video is None:
                video = np.empty((len(paths), ) + frame.shape, dtype=np.uint8)
            elif frame.shape != video.shape[1:]:
                raise ValueError(
                    f'Frame {path} is {frame.shape[1]}x{frame.shape[0]} '
                    f'(WxH) but {paths[0]} is {video.shape[2]}x'
                    f'{video.shape[1]}: all frames of a sequence must share '
                    'one size')
            video[t] = frame
        results['img'] = video
        results['img_shape'] = results['ori_shape'] = tuple(video.shape[1:3])
        return results

    def _read(self, path: str) -> np.ndarray:
        """Decode one frame to np.uint8 (H, W, 3) BGR."""
        try:
            content = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError as e:
            raise FileNotFoundError(f'Frame not found: {path}') from e
        try:
            frame = mmcv.imfrombytes(
                content,
                flag='color',
                channel_order='bgr',
                backend=self.imdecode_backend)
        except Exception as e:
            raise ValueError(f'Cannot decode frame {path}: {e}') from e
        if frame is None:
            raise ValueError(
                f'Cannot decode frame {path}: unreadable or corrupt image')
        return np.asarray(frame, dtype=np.uint8)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(imdecode_backend='
                f"'{self.imdecode_backend}', "
                f'backend_args={self.backend_args})')


def read_sized_annotation(path: str,
                          shape: Tuple[int, int],
                          backend_args: Optional[dict] = None
                          ) -> Tuple[np.ndarray, np.ndarray]:
    """Read an indexed annotation PNG whose size must be the frames'.

    Returns:
        ``(label_map, palette)`` as :func:`~mmhvc.datasets.read_indexed_png`
        gives them.

    Raises:
        ValueError: The annotation is not ``shape`` ``(H, W)``; the message
            names the file.
    """
    mask, palette = read_indexed_png(path, backend_args)
    if mask.shape != tuple(shape):
        raise ValueError(
            f'Annotation {path} is {mask.shape[1]}x{mask.shape[0]} (WxH) '
            f'but its frames are {shape[1]}x{shape[0]}')
    return mask, palette


@TRANSFORMS.register_module()
class LoadVideoAnnotations(BaseTransform):
    """Read the given object masks and, when present, the ground truth.

    Annotations are indexed ('P' mode) PNGs whose palette indices are object
    ids: 0 background, 1..254 objects, 255 void.

    Given masks: void is set to 0 (background). When ``given_object_ids`` is
    in the results (YouTube-VOS), the mask of given frame k keeps only the
    objects listed at k, those first appearing there, and each must have at
    least one pixel. Otherwise every object in the mask is given, and there
    must be at least one. With ``single_object`` (set by
    ``DAVISDataset(single_object=True)``) every object id becomes 1, in the
    given masks and the ground truth (void stays 255); the DAVIS-2016
    protocol instead keeps the objects apart and merges them in the metric.

    Required keys: ``ori_shape`` ((H, W), from :class:`LoadVideoFrames`),
    ``frame_paths``, ``given_ann_paths`` (K paths), ``gt_ann_paths`` (T
    paths or None).
    Optional keys: ``given_object_ids`` (K lists), ``single_object``.

    Added keys: ``given_masks`` (np.uint8 (K, H, W); with
    ``given_object_ids``, a later given mask holds its new objects only, 255
    elsewhere: the rest of the frame is not given there),
    ``given_object_ids``
    (list[list[int]]), ``object_ids`` (sorted list[int], every given id),
    ``palette`` (np.uint8 (256, 3), from the first given mask), and
    ``gt_masks`` (np.uint8 (T, H, W), void 255 kept) when ``gt_ann_paths``
    is not None.

    Args:
        backend_args: Arguments of the MMEngine file backend.
    """

    def __init__(self, backend_args: Optional[dict] = None) -> None:
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        if 'ori_shape' not in results:
            raise KeyError('LoadVideoAnnotations needs "ori_shape": put '
                           'LoadVideoFrames before it in the pipeline')
        single_object = results.get('single_object', False)
        wanted_ids = results.get('given_object_ids')
        given_paths = results['given_ann_paths']
        if wanted_ids is not None and len(wanted_ids) != len(given_paths):
            raise ValueError(
                f'{len(wanted_ids)} lists of given_object_ids for '
                f'{len(given_paths)} given annotations of sequence '
                f'"{results.get("seq_name")}"')

        given_masks, given_ids, palette = [], [], None
        for k, path in enumerate(given_paths):
            mask, file_palette = read_sized_annotation(
                path, results['ori_shape'], self.backend_args)
            palette = file_palette if palette is None else palette
            mask[mask == VOID_ID] = 0
            if single_object:
                mask[mask > 0] = 1
            present = [int(i) for i in np.unique(mask) if i > 0]
            if wanted_ids is not None:
                missing = sorted(set(wanted_ids[k]) - set(present))
                if missing:
                    raise ValueError(
                        f'Annotation {path} has no pixel of object(s) '
                        f'{missing}, which first appear in this frame')
                # The first given mask holds the background too; a later
                # one only its new objects, void elsewhere (not given).
                mask[~np.isin(mask, wanted_ids[k])] = 0 if k == 0 else VOID_ID
                present = sorted(int(i) for i in wanted_ids[k])
            if not present:
                raise ValueError(
                    f'Annotation {path} is a given mask without any object '
                    '(only background or void pixels)')
            given_masks.append(mask)
            given_ids.append(present)
        results['given_masks'] = np.stack(given_masks)
        results['given_object_ids'] = given_ids
        results['object_ids'] = sorted(set().union(*given_ids))
        results['palette'] = palette

        gt_paths = results.get('gt_ann_paths')
        if gt_paths is not None:
            results['gt_masks'] = self._read_ground_truth(
                gt_paths, results, single_object)
        return results

    def _read_ground_truth(self, paths: List[str], results: dict,
                           single_object: bool) -> np.ndarray:
        """Read T label maps into np.uint8 (T, H, W), void 255 kept."""
        num_frames = len(results['frame_paths'])
        if len(paths) != num_frames:
            raise ValueError(
                f'{len(paths)} ground-truth annotations for {num_frames} '
                f'frames of sequence "{results.get("seq_name")}"')
        gt_masks = np.empty((num_frames, ) + tuple(results['ori_shape']),
                            dtype=np.uint8)
        for t, path in enumerate(paths):
            mask, _ = read_sized_annotation(path, results['ori_shape'],
                                            self.backend_args)
            if single_object:
                mask[(mask > 0) & (mask != VOID_ID)] = 1
            gt_masks[t] = mask
        return gt_masks

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'backend_args={self.backend_args})')
