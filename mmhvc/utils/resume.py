"""Choosing the checkpoint to resume training from.

MMEngine resumes from the path written in ``<work_dir>/last_checkpoint``
without looking at the file. A run killed while it wrote a checkpoint or
that file can leave either one truncated. Here a checkpoint counts only
when it is complete: torch writes checkpoints as zip archives whose
directory is stored at the very end, so a truncated file has no readable
zip directory and is recognised without loading it.
"""
import logging
import os
import os.path as osp
import re
import zipfile
from typing import List, Optional

from mmengine.logging import print_log

# File names of MMEngine's CheckpointHook: iter_<N>.pth or epoch_<N>.pth.
CHECKPOINT_NAME = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


def is_complete_checkpoint(path: str) -> bool:
    """Whether ``path`` is a readable, complete ``torch.save`` zip archive.

    Args:
        path: A checkpoint file (local file system).

    Returns:
        True when the file exists and its zip directory lists a pickled
        object (``*/data.pkl``); False for a missing, empty, truncated or
        non-zip file.
    """
    if not osp.isfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError):
        return False
    return any(name.endswith('data.pkl') for name in names)


def check_resume_checkpoint(path: str) -> None:
    """Raise a clear error when ``path`` cannot be resumed from.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: ``path`` is not a complete checkpoint (e.g. truncated by
            an interrupted write).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'--resume: checkpoint not found: {path}')
    if not is_complete_checkpoint(path):
        raise ValueError(
            f'--resume: {path} is not a complete checkpoint (truncated by '
            'an interrupted write, or not written by torch.save). Pass '
            'another checkpoint, or --resume without a path to take the '
            'latest complete one of the work dir.')


def _numbered_checkpoints(folders: List[str]) -> List[str]:
    """``iter_N.pth`` / ``epoch_N.pth`` files of ``folders``, highest N
    first."""
    found = {}
    for folder in folders:
        if not osp.isdir(folder):
            continue
        for name in os.listdir(folder):
            match = CHECKPOINT_NAME.match(name)
            if match:
                path = osp.join(folder, name)
                found[osp.abspath(path)] = (int(match.group(1)), path)
    return [path for _, path in sorted(found.values(), reverse=True)]


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint to resume a training run in ``work_dir`` from.

    The file named in ``<work_dir>/last_checkpoint`` is taken when it is
    complete. Otherwise (the pointer is missing, empty, or names a missing
    or truncated file) the numbered checkpoints ``iter_N.pth`` /
    ``epoch_N.pth`` of the pointer's folder and of ``work_dir`` are tried
    from the highest N down, and the first complete one is taken; every
    skipped file is reported.

    Args:
        work_dir: The work dir of the run.

    Returns:
        The checkpoint path, or None when there is no complete checkpoint.
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    named = ''
    if osp.isfile(pointer):
        with open(pointer, encoding='utf-8', errors='replace') as f:
            named = f.read().strip()
        if named and is_complete_checkpoint(named):
            return named
        print_log(
            f'{pointer} names {named or "nothing"!r}, which is not a '
            'complete checkpoint; looking for the latest complete one.',
            logger='current',
            level=logging.WARNING)
    folders = ([osp.dirname(named)] if named else []) + [work_dir]
    for path in _numbered_checkpoints(folders):
        if is_complete_checkpoint(path):
            return path
        print_log(
            f'Skipping {path}: not a complete checkpoint.',
            logger='current',
            level=logging.WARNING)
    return None
