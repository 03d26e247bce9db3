"""Image loading that names the file when it cannot be read or decoded."""
from typing import Optional

import mmcv
import mmengine.fileio as fileio
from mmcv.transforms import BaseTransform

from mmhvc.registry import TRANSFORMS


class UnreadableImageError(OSError):
    """An image file is missing, unreadable or cannot be decoded.

    Args:
        message: What went wrong; it names the file.
        path: The file, for callers that skip bad images.
    """

    def __init__(self, message: str, path: Optional[str] = None) -> None:
        super().__init__(message)
        self.path = path


@TRANSFORMS.register_module()
class LoadImageWithCheck(BaseTransform):
    """Load an image from ``results['img_path']``, raising a clear error.

    Produces the same keys as mmcv's ``LoadImageFromFile``, but a missing,
    unreadable or undecodable file raises :class:`UnreadableImageError`
    naming the file, which ``StaticImageDataset(skip_bad_images=True)``
    turns into a skipped sample.

    Required keys:

    - img_path

    Added keys:

    - img: np.uint8 (H, W, 3) in BGR order for ``color_type='color'``
    - img_shape: (H, W)
    - ori_shape: (H, W)

    Args:
        color_type: Decoding flag of :func:`mmcv.imfrombytes`.
        imdecode_backend: Decoding backend of :func:`mmcv.imfrombytes`.
        backend_args: Arguments of the mmengine file backend.
    """

    def __init__(self,
                 color_type: str = 'color',
                 imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None) -> None:
        self.color_type = color_type
        self.imdecode_backend = imdecode_backend
        self.backend_args = None if backend_args is None else dict(
            backend_args)

    def transform(self, results: dict) -> dict:
        """Read and decode the image named by ``results['img_path']``.

        Args:
            results: Result dict holding ``img_path``.

        Returns:
            The same dict with ``img``, ``img_shape`` and ``ori_shape``.
        """
        if 'img_path' not in results:
            raise KeyError('LoadImageWithCheck needs the key "img_path"')
        path = results['img_path']
        try:
            content = fileio.get(path, backend_args=self.backend_args)
        except Exception as err:
            raise UnreadableImageError(f'Cannot read image file {path}: {err}',
                                       path) from err
        try:
            img = mmcv.imfrombytes(
                content, flag=self.color_type, backend=self.imdecode_backend)
        except Exception as err:
            raise UnreadableImageError(
                f'Cannot decode image file {path}: {err}', path) from err
        if img is None or img.size == 0:
            raise UnreadableImageError(
                f'Cannot decode image file {path}: not a valid or supported '
                'image', path)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(color_type='{self.color_type}', "
                f"imdecode_backend='{self.imdecode_backend}', "
                f'backend_args={self.backend_args})')
