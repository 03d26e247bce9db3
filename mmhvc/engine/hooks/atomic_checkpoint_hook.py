"""Checkpointing that an interrupted run cannot leave half-written."""
import os
import os.path as osp
import re
import shutil
from typing import List

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook

from mmhvc.registry import HOOKS
from mmhvc.fileio import atomic_write_text, commit_file, temp_path


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """MMEngine's ``CheckpointHook`` with crash-safe saving.

    MMEngine 0.10 writes a checkpoint straight to its final name, so a run
    killed during the write leaves a truncated ``iter_N.pth``; and with
    ``max_keep_ckpts`` it deletes the oldest kept checkpoint *before*
    writing the new one, so with ``max_keep_ckpts=1`` such a kill leaves no
    usable checkpoint at all, while ``last_checkpoint`` names the deleted
    file. On a local file system this hook instead, for every periodic
    save:

    1. writes the checkpoint to a hidden temporary file in ``out_dir``
       (``.<name>.<pid>.tmp``), flushes it to the disk and renames it to
       its final name (an atomic step);
    2. then rewrites ``<work_dir>/last_checkpoint`` the same way;
    3. only then deletes the checkpoints beyond ``max_keep_ckpts``.

    A kill at any moment therefore leaves ``last_checkpoint`` naming a
    complete checkpoint, which still exists. Temporary files left by a
    killed run are deleted when training starts again. Every argument and
    behaviour of ``CheckpointHook`` is kept (best checkpoints are still
    written by MMEngine directly); with a remote ``backend_args`` it
    behaves exactly as ``CheckpointHook``.
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process() and self._is_local():
            self._remove_stale_temp_files()

    def _is_local(self) -> bool:
        return isinstance(self.file_backend, LocalBackend)

    def _remove_stale_temp_files(self) -> None:
        """Delete temporary checkpoint files of earlier, killed runs."""
        if not osp.isdir(self.out_dir):
            return
        name = re.sub(r'\\\{[^}]*\\\}', r'\\d+', re.escape(self.filename_tmpl))
        pattern = re.compile(rf'^\.{name}\.(\d+)\.tmp$')
        for entry in os.listdir(self.out_dir):
            match = pattern.match(entry)
            if match and int(match.group(1)) != os.getpid():
                os.remove(osp.join(self.out_dir, entry))

    def _track_step(self, runner, step: int) -> List[int]:
        """Add ``step`` to the kept checkpoints; return the steps to delete
        once it is saved."""
        if self.max_keep_ckpts <= 0 or (self.keep_ckpt_ids
                                        and self.keep_ckpt_ids[-1] == step):
            return []
        outdated = []
        if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
            outdated.append(self.keep_ckpt_ids.popleft())
        self.keep_ckpt_ids.append(step)
        runner.message_hub.update_info('keep_ckpt_ids',
                                       list(self.keep_ckpt_ids))
        return outdated

    def _save_checkpoint_with_step(self, runner, step: int,
                                   meta: dict) -> None:
        if not self._is_local():
            super()._save_checkpoint_with_step(runner, step, meta)
            return
        outdated = self._track_step(runner, step)
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)

        tmp_path = temp_path(self.last_ckpt)
        try:
            runner.save_checkpoint(
                self.out_dir,
                osp.basename(tmp_path),
                self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler,
                meta=meta,
                by_epoch=self.by_epoch,
                backend_args=self.backend_args,
                **self.args)
            if is_main_process():
                commit_file(tmp_path, self.last_ckpt)
        finally:
            if osp.exists(tmp_path):
                os.remove(tmp_path)
        if not is_main_process():
            return
        atomic_write_text(
            osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        for old_step in outdated:
            path = osp.join(self.out_dir, self.filename_tmpl.format(old_step))
            if osp.isfile(path):
                os.remove(path)
            elif osp.isdir(path):
                shutil.rmtree(path)
