"""Crash-safe file writes on the local file system.

A file written with these helpers is, at every moment, either absent, its
previous version, or complete: the content goes to a hidden temporary file
in the destination folder, which is renamed over the destination
(``os.replace``, atomic on POSIX and Windows) only once it is fully written.
A process killed in between leaves the temporary file behind and the
destination untouched. With ``durable=True`` the file and its folder are
also flushed to the disk (``fsync``), so the rename survives a power loss.

Every file of the project that must never be seen half-written (checkpoints,
``last_checkpoint``, masks, tables, videos) goes through :func:`commit_file`;
a folder that must be complete or absent (the results of one sequence)
through :func:`atomic_dir`.
"""
import glob
import os
import os.path as osp
import shutil
from contextlib import contextmanager
from typing import Any, Iterator, List

import torch


def temp_path(path: str, keep_extension: bool = False) -> str:
    """A hidden sibling of ``path`` to write before renaming it to ``path``.

    Args:
        path: The destination file.
        keep_extension: End the name with the extension of ``path``, for
            writers that choose the format from it (OpenCV's image and video
            writers).

    Returns:
        ``<folder>/.<name>.<pid>.tmp``, or ``<folder>/.<stem>.<pid>.tmp<ext>``
        with ``keep_extension``.
    """
    folder, name = osp.split(osp.abspath(path))
    if keep_extension:
        stem, ext = osp.splitext(name)
        return osp.join(folder, f'.{stem}.{os.getpid()}.tmp{ext}')
    return osp.join(folder, f'.{name}.{os.getpid()}.tmp')


def fsync_path(path: str) -> None:
    """Flush a file or a folder to the disk.

    Folders cannot be opened or flushed on some platforms and file systems
    (Windows); for a folder such a failure is ignored.
    """
    is_dir = osp.isdir(path)
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        if not is_dir:
            raise


def commit_file(tmp_path: str, path: str, durable: bool = True) -> None:
    """Move the fully written ``tmp_path`` over ``path`` in one step.

    Args:
        tmp_path: The written temporary file, in the folder of ``path``.
        path: The destination; replaced when it exists.
        durable: fsync the file before and its folder after the rename.
    """
    if durable:
        fsync_path(tmp_path)
    os.replace(tmp_path, path)
    if durable:
        fsync_path(osp.dirname(osp.abspath(path)))


@contextmanager
def atomic_path(path: str,
                keep_extension: bool = False,
                durable: bool = False) -> Iterator[str]:
    """Yield a temporary path to write; it becomes ``path`` on success.

    The destination folder is created when missing. When the ``with``
    block raises, the temporary file is removed and ``path`` is untouched.

    Args:
        path: The destination file.
        keep_extension: See :func:`temp_path`.
        durable: See :func:`commit_file`.

    Yields:
        The temporary path to write to.
    """
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp_path = temp_path(path, keep_extension)
    try:
        yield tmp_path
        if not osp.isfile(tmp_path):
            raise FileNotFoundError(
                f'nothing was written for {path} (expected the temporary '
                f'file {tmp_path})')
        commit_file(tmp_path, path, durable)
    finally:
        if osp.exists(tmp_path):
            os.remove(tmp_path)


@contextmanager
def atomic_dir(path: str) -> Iterator[str]:
    """Yield a temporary folder to fill; it becomes ``path`` on success.

    The folder is filled as the hidden sibling ``.<name>.<pid>.tmp`` and
    renamed to ``path`` in one step, so ``path`` exists only complete. A
    ``path`` already there is replaced. When the ``with`` block raises, the
    temporary folder is removed and ``path`` is untouched.

    Args:
        path: The destination folder.

    Yields:
        The temporary folder, created empty.
    """
    tmp_dir = temp_path(path.rstrip('/\\'))
    if osp.exists(tmp_dir):
        shutil.rmtree(tmp_dir)
    os.makedirs(tmp_dir)
    try:
        yield tmp_dir
        if osp.isdir(path):
            shutil.rmtree(path)
        os.replace(tmp_dir, path)
    finally:
        if osp.exists(tmp_dir):
            shutil.rmtree(tmp_dir)


def remove_temporaries(folder: str) -> List[str]:
    """Delete what a killed writer left below ``folder``: the hidden
    ``.<name>.<pid>.tmp[<ext>]`` files of :func:`atomic_path` and folders
    of :func:`atomic_dir`.

    Returns:
        The paths removed.
    """
    pattern = osp.join(glob.escape(folder), '**', '.*.tmp*')
    removed = []
    for path in sorted(glob.glob(pattern, recursive=True)):
        if osp.isdir(path):
            shutil.rmtree(path)
        elif osp.isfile(path):
            os.remove(path)
        else:
            continue
        removed.append(path)
    return removed


def atomic_write_text(path: str, text: str, durable: bool = True) -> None:
    """Write ``text`` (UTF-8) to ``path`` through :func:`atomic_path`."""
    with atomic_path(path, durable=durable) as tmp_path:
        with open(tmp_path, 'w', encoding='utf-8') as f:
            f.write(text)


def atomic_write_bytes(path: str, data: bytes, durable: bool = False) -> None:
    """Write ``data`` to ``path`` through :func:`atomic_path`.

    Args:
        path: The destination file.
        data: The bytes to write.
        durable: See :func:`commit_file`. Off by default: the callers write
            many small files (masks, tables) that a rerun recreates.
    """
    with atomic_path(path, durable=durable) as tmp_path:
        with open(tmp_path, 'wb') as f:
            f.write(data)


def atomic_torch_save(obj: Any, path: str, durable: bool = False) -> None:
    """``torch.save`` ``obj`` to ``path`` through :func:`atomic_path`.

    Args:
        obj: What to save (a checkpoint dict, a state dict).
        path: The destination file.
        durable: See :func:`commit_file`.
    """
    with atomic_path(path, durable=durable) as tmp_path:
        torch.save(obj, tmp_path)
