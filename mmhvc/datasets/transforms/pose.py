"""Loading and packing of per-frame joint annotations (JHMDB)."""
import io
from typing import Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmengine.logging import print_log
from scipy.io import loadmat

from mmhvc.registry import TRANSFORMS
from .formatting_video import PackVideoInputs


@TRANSFORMS.register_module()
class LoadVideoKeypoints(BaseTransform):
    """Read the joint positions of every frame of a video (JHMDB format).

    ``joint_positions.mat`` holds ``pos_img``, a ``(2, J, T)`` array of
    ``(x, y)`` image coordinates, 1-based (MATLAB). They are converted to
    0-based pixels of the original frame (``pos_img - 1``). A joint is
    annotated ("visible") when both its coordinates are finite: as in CRW's
    protocol, joints outside the frame are given (the propagation model
    draws what falls on the feature grid of their Gaussians) and scored. With
    ``inside_only=True`` a joint must also lie inside the frame
    (``0 <= x <= W - 1``, ``0 <= y <= H - 1``), the stricter variant. A joint
    that is not visible has NaN coordinates and is neither given nor
    scored.

    When the file annotates fewer frames than the video has, the remaining
    frames have no visible joint; annotations beyond the last frame are
    dropped. Both cases are logged as warnings naming the file.

    The first frame is the given frame.

    Required keys: ``joint_path``, ``ori_shape`` (from
    :class:`LoadVideoFrames`), ``frame_paths``.

    Added keys: ``gt_keypoints`` (np.float32 ``(T, J, 2)``), ``gt_visible``
    (bool ``(T, J)``), ``given_frames`` (``[0]``), ``given_keypoints``
    (np.float32 ``(1, J, 2)``), ``given_visible`` (bool ``(1, J)``).

    Args:
        num_joints: Expected number of joints ``J`` (15 for JHMDB).
        key: Name of the array in the ``.mat`` file.
        one_based: Whether the stored coordinates start at 1.
        inside_only: Treat joints outside the frame as not annotated.
        backend_args: Arguments of the MMEngine file backend.
    """

    def __init__(self,
                 num_joints: int = 15,
                 key: str = 'pos_img',
                 one_based: bool = True,
                 inside_only: bool = False,
                 backend_args: Optional[dict] = None) -> None:
        self.num_joints = num_joints
        self.key = key
        self.one_based = one_based
        self.inside_only = inside_only
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        for key in ('joint_path', 'ori_shape', 'frame_paths'):
            if key not in results:
                raise KeyError(f'LoadVideoKeypoints needs "{key}" (put '
                               'LoadVideoFrames before it in the pipeline)')
        path = results['joint_path']
        coords = self._read(path)
        num_frames = len(results['frame_paths'])
        if coords.shape[2] != num_frames:
            print_log(
                f'{path} annotates {coords.shape[2]} frames but the video '
                f'has {num_frames}; frames without annotation are not '
                'scored',
                logger='current',
                level=30)
        height, width = results['ori_shape']
        keypoints = np.full((num_frames, self.num_joints, 2),
                            np.nan,
                            dtype=np.float32)
        count = min(num_frames, coords.shape[2])
        keypoints[:count] = coords[:, :, :count].transpose(2, 1, 0)
        if self.one_based:
            keypoints -= 1
        visible = np.isfinite(keypoints).all(axis=2)
        if self.inside_only:
            with np.errstate(invalid='ignore'):
                visible &= (keypoints[..., 0] >= 0) & \
                    (keypoints[..., 0] <= width - 1) & \
                    (keypoints[..., 1] >= 0) & \
                    (keypoints[..., 1] <= height - 1)
        keypoints[~visible] = np.nan
        if not visible[0].any():
            raise ValueError(f'{path}: no joint is visible in the first '
                             'frame, so there is nothing to propagate')
        results['gt_keypoints'] = keypoints
        results['gt_visible'] = visible
        results['given_frames'] = [0]
        results['given_keypoints'] = keypoints[:1].copy()
        results['given_visible'] = visible[:1].copy()
        return results

    def _read(self, path: str) -> np.ndarray:
        """The ``(2, J, T)`` float32 coordinates stored in ``path``."""
        try:
            content = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError as e:
            raise FileNotFoundError(
                f'Joint annotation not found: {path}') from e
        try:
            mat = loadmat(io.BytesIO(content))
        except Exception as e:
            raise ValueError(f'Cannot read joint annotation {path}: {e}') \
                from e
        if self.key not in mat:
            raise KeyError(
                f'{path} has no "{self.key}" array (found '
                f'{sorted(k for k in mat if not k.startswith("__"))})')
        coords = np.asarray(mat[self.key], dtype=np.float32)
        if coords.ndim == 2:
            coords = coords[:, :, None]
        if coords.ndim != 3 or coords.shape[:2] != (2, self.num_joints):
            raise ValueError(
                f'{path}: "{self.key}" has shape {coords.shape}, expected '
                f'(2, {self.num_joints}, T)')
        return coords

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_joints={self.num_joints}, '
                f"key='{self.key}', one_based={self.one_based}, "
                f'inside_only={self.inside_only}, '
                f'backend_args={self.backend_args})')


@TRANSFORMS.register_module()
class PackKeypointVideoInputs(PackVideoInputs):
    """Pack a whole video with its given and annotated keypoints.

    As :class:`PackVideoInputs`, plus the data fields ``given_keypoints``
    (float32 ``(1, J, 2)``), ``given_visible`` (bool ``(1, J)``),
    ``gt_keypoints`` (float32 ``(T, J, 2)``) and ``gt_visible`` (bool
    ``(T, J)``) for those present in the results. Keypoints are ``(x, y)``
    pixels of the original frame (``ori_shape``), NaN where invisible.

    Args:
        meta_keys: Keys of the results copied into the metainfo.
    """

    KEYPOINT_FIELDS = ('given_keypoints', 'given_visible', 'gt_keypoints',
                       'gt_visible')

    def __init__(
        self,
        meta_keys: Sequence[str] = ('seq_name', 'frame_names', 'frame_paths',
                                    'ori_shape', 'img_shape', 'given_frames',
                                    'action', 'split', 'joint_path')
    ) -> None:
        super().__init__(meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        for key in self.KEYPOINT_FIELDS:
            if key in results:
                packed['data_samples'].set_data({
                    key:
                    torch.from_numpy(np.ascontiguousarray(results[key]))
                })
        return packed
