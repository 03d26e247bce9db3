"""Unlabelled still images (COCO, PASCAL VOC, MSRA10K or any folder)."""
import logging
import os.path as osp
from typing import List, Optional, Sequence

import mmengine.fileio as fileio
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from mmhvc.registry import DATASETS
from .transforms.loading import LoadImageWithCheck, UnreadableImageError

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


@DATASETS.register_module()
class StaticImageDataset(BaseDataset):
    """Every image file under one folder, or every image of a list file.

    Without ``ann_file`` the folder ``data_root / data_prefix['img_path']``
    is scanned recursively for files whose extension (case-insensitive) is
    in ``extensions``; hidden files and folders (name starting with ``.``)
    are ignored and the paths are sorted, so the order does not depend on
    the file system. With ``ann_file`` (a text file, resolved against
    ``data_root`` when relative) every non-blank line is one image path
    relative to the image folder.

    Typical layouts (see ``docs/dataset_prepare.md``):

    - COCO: ``data_root='data/coco', data_prefix=dict(img_path='train2017')``
    - PASCAL VOC: ``data_root='data/VOCdevkit/VOC2012',
      data_prefix=dict(img_path='JPEGImages')``
    - MSRA10K: ``data_root='data/MSRA10K_Imgs_GT',
      data_prefix=dict(img_path='Imgs'), extensions=('.jpg', )`` -- the
      folder also holds the ``.png`` saliency masks, which the default
      extensions would take as images.

    Each item is ``dict(img_path=...)`` before the pipeline.

    Args:
        data_root: Root folder of the data set.
        data_prefix: ``dict(img_path=...)``, the image folder relative to
            ``data_root`` (or absolute).
        ann_file: Optional list file of image paths, one per line.
        extensions: File extensions taken as images when scanning.
        skip_bad_images: When False, an unreadable image raises
            :class:`UnreadableImageError` naming the file. When True, it is
            reported once as a warning and another random index is loaded
            instead (MMEngine's refetch of a ``None`` sample). Needs
            ``LoadImageWithCheck`` in the pipeline.
        backend_args: Arguments of the mmengine file backend used to scan
            the folder and read the list file.
        **kwargs: Other arguments of :class:`mmengine.dataset.BaseDataset`
            (``pipeline``, ``indices``, ``serialize_data``, ...).
    """

    def __init__(self,
                 data_root: str = '',
                 data_prefix: dict = dict(img_path=''),
                 ann_file: str = '',
                 extensions: Sequence[str] = IMG_EXTENSIONS,
                 skip_bad_images: bool = False,
                 backend_args: Optional[dict] = None,
                 **kwargs) -> None:
        if 'img_path' not in data_prefix:
            raise KeyError('data_prefix must hold the key "img_path", got '
                           f'{data_prefix}')
        if isinstance(extensions, str):
            extensions = (extensions, )
        if not extensions:
            raise ValueError('extensions must name at least one extension')
        self.extensions = tuple(
            ext.lower() if ext.startswith('.') else f'.{ext.lower()}'
            for ext in extensions)
        self.skip_bad_images = skip_bad_images
        self.backend_args = backend_args
        self._reported_bad_images: set = set()
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=data_prefix,
            **kwargs)
        if skip_bad_images and not any(
                isinstance(t, LoadImageWithCheck)
                for t in self.pipeline.transforms):
            raise ValueError(
                'skip_bad_images=True needs dict(type="LoadImageWithCheck") '
                'in the pipeline to detect unreadable images')

    def load_data_list(self) -> List[dict]:
        """List the images, from ``ann_file`` or by scanning the folder.

        Returns:
            One ``dict(img_path=...)`` per image.
        """
        img_dir = self.data_prefix['img_path']
        if self.ann_file:
            rel_paths = self._read_list_file(self.ann_file)
        else:
            rel_paths = self._scan_images(img_dir, recursive=True)
            if not rel_paths:
                raise ValueError(
                    f'No image file with an extension in {self.extensions} '
                    f'found under {img_dir!r}')
        return [
            dict(
                img_path=fileio.join_path(
                    img_dir, rel_path, backend_args=self.backend_args))
            for rel_path in rel_paths
        ]

    def prepare_data(self, idx: int) -> Optional[dict]:
        """Run the pipeline on item ``idx``.

        Returns:
            The pipeline output, or None for an unreadable image when
            ``skip_bad_images`` is True (the caller then draws another
            index).
        """
        data_info = self.get_data_info(idx)
        try:
            return self.pipeline(data_info)
        except UnreadableImageError as err:
            if not self.skip_bad_images:
                raise
            path = err.path or data_info['img_path']
            if path not in self._reported_bad_images:
                self._reported_bad_images.add(path)
                print_log(
                    f'Skipping an unreadable image: {err}',
                    logger='current',
                    level=logging.WARNING)
            return None

    def _read_list_file(self, list_file: str) -> List[str]:
        """Return the non-blank, stripped lines of a list file."""
        if not fileio.exists(list_file, backend_args=self.backend_args):
            raise FileNotFoundError(f'List file {list_file!r} does not exist')
        lines = fileio.get_text(
            list_file, backend_args=self.backend_args).splitlines()
        entries = [line.strip() for line in lines if line.strip()]
        if not entries:
            raise ValueError(f'List file {list_file!r} lists nothing')
        return entries

    def _scan_images(self, folder: str, recursive: bool) -> List[str]:
        """Return the sorted image paths under ``folder``, relative to it.

        Raises:
            FileNotFoundError: If ``folder`` is not a directory.
        """
        if not folder or not fileio.isdir(
                folder, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'Image folder {folder!r} does not exist; check data_root and '
                'data_prefix["img_path"]')
        paths = fileio.list_dir_or_file(
            folder,
            list_dir=False,
            recursive=recursive,
            backend_args=self.backend_args)
        return sorted(
            path for path in paths
            if osp.splitext(path)[1].lower() in self.extensions and not any(
                part.startswith('.')
                for part in path.replace('\\', '/').split('/')))
