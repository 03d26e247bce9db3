"""File listing shared by the video object segmentation datasets."""
import os.path as osp
from typing import List, Optional

from mmengine import fileio


def list_stems(folder: str,
               suffix: str,
               backend_args: Optional[dict] = None) -> List[str]:
    """List the names (without suffix) of the files in ``folder``.

    Args:
        folder: Folder to list (not recursive).
        suffix: File name ending to keep, e.g. ``'.jpg'``.
        backend_args: Arguments of the MMEngine file backend.

    Returns:
        list[str]: Sorted file stems, e.g. ``['00000', '00001']``; empty when
        the folder does not exist.
    """
    if not fileio.isdir(folder, backend_args=backend_args):
        return []
    names = fileio.list_dir_or_file(
        folder, list_dir=False, suffix=suffix, backend_args=backend_args)
    return sorted(osp.splitext(name)[0] for name in names)


def read_name_list(path: str,
                   what: str,
                   backend_args: Optional[dict] = None) -> List[str]:
    """Read a list file of sequence names, one per line.

    Args:
        path: The list file (e.g. ``ImageSets/2017/val.txt``).
        what: How error messages call the file, e.g. ``'DAVIS split file'``.
        backend_args: Arguments of the MMEngine file backend.

    Returns:
        list[str]: The non-empty lines, stripped, in file order.

    Raises:
        ValueError: The file lists no name.
    """
    text = fileio.get_text(path, backend_args=backend_args)
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        raise ValueError(f'{what} {path} lists no sequence')
    return names
