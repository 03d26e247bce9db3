"""Evaluation runs on results folders: propagation writes each sequence's
folder, and resuming is skipping the folders that are written.

An evaluation run (one ``tools/test.py`` run) writes into its run folder
``<work_dir>/<timestamp>``, besides its log:

- ``evaluation_run.json``: the fingerprint of the config and the
  checkpoint (see :func:`evaluation_fingerprint`), before the first
  sequence is propagated.
- ``results/``: one folder per sequence, which exists only once complete
  (see :class:`~mmhvc.evaluation.BaseVideoMetric`), and the tables.

``tools/test.py --resume`` continues the latest run folder of the work dir
(:func:`find_latest_run`) after checking its fingerprint: the sequences
whose folders are written are not propagated again, and every sequence is
then scored from its folder.
"""
import copy
import glob
import hashlib
import json
import os.path as osp
from typing import Any, Dict, List, Optional, Union

from mmengine.config import Config
from mmengine.dist import barrier, broadcast_object_list, is_main_process
from mmengine.evaluator import Evaluator
from mmengine.logging import print_log
from mmengine.runner import TestLoop
from torch.utils.data import DataLoader

from mmhvc.fileio import atomic_write_text, remove_temporaries
from mmhvc.registry import LOOPS

RUN_FILE = 'evaluation_run.json'

#: The parts of the config that decide what an evaluation computes.
FINGERPRINT_KEYS = ('model', 'test_dataloader.dataset', 'test_evaluator',
                    'test_cfg')


def _config_part(cfg: Config, key: str) -> Any:
    """The value at a dotted ``key`` of the config, None when absent."""
    value = cfg
    for part in key.split('.'):
        if not hasattr(value, 'get'):
            return None
        value = value.get(part)
    return value


def _sha256_of_file(path: str, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(chunk_size), b''):
            digest.update(chunk)
    return digest.hexdigest()


def evaluation_fingerprint(cfg: Config, checkpoint: str) -> Dict[str, str]:
    """What identifies an evaluation: its config and its checkpoint.

    Args:
        cfg: The config, as the tool loaded it (with ``--cfg-options``
            applied), before the tool adds its own settings.
        checkpoint: The checkpoint file.

    Returns:
        ``config``: the sha256 of the config's :data:`FINGERPRINT_KEYS`
        (model, test dataset, evaluator and test loop, as canonical JSON;
        the work dir, the launcher or the number of data loader workers do
        not change it), ``checkpoint``: the sha256 of the checkpoint file, and,
        for messages, ``config_file`` and ``checkpoint_file``.
    """
    parts = {key: _config_part(cfg, key) for key in FINGERPRINT_KEYS}
    text = json.dumps(
        Config(dict(parts=parts)).to_dict(), sort_keys=True, default=repr)
    return dict(
        config=hashlib.sha256(text.encode()).hexdigest(),
        checkpoint=_sha256_of_file(checkpoint),
        config_file=str(cfg.filename),
        checkpoint_file=osp.abspath(checkpoint))


def find_latest_run(work_dir: str) -> Optional[str]:
    """The latest run folder of ``work_dir`` with an ``evaluation_run.json``.

    Run folders are named by their start time (``%Y%m%d_%H%M%S``), so the
    latest is the last in name order. None when there is none.
    """
    runs = sorted(glob.glob(osp.join(glob.escape(work_dir), '*', RUN_FILE)))
    return osp.dirname(runs[-1]) if runs else None


def check_fingerprint(run_dir: str, fingerprint: Dict[str, str]) -> None:
    """Refuse to resume a run of another config or checkpoint.

    Args:
        run_dir: The run folder; its ``evaluation_run.json`` is read.
        fingerprint: This run's, see :func:`evaluation_fingerprint`.

    Raises:
        ValueError: The run file is unreadable, or the config or the
            checkpoint differs; the message names the files of both runs.
    """
    path = osp.join(run_dir, RUN_FILE)
    try:
        with open(path, encoding='utf-8') as f:
            stored = json.load(f).get('fingerprint')
    except (OSError, ValueError, AttributeError) as e:
        raise ValueError(f'Cannot resume {run_dir}: {path} is not an '
                         f'evaluation run file ({e})') from e
    advice = ('Evaluate without --resume to start a new run, or give '
              'another --work-dir.')
    if not isinstance(stored, dict):
        raise ValueError(f'Cannot resume {run_dir}: it was not started by '
                         f'tools/test.py (no fingerprint). {advice}')
    differences = []
    for key in ('config', 'checkpoint'):
        if stored.get(key) != fingerprint[key]:
            differences.append(f'{key} {stored.get(key + "_file")} (sha256 '
                               f'{str(stored.get(key))[:12]}) there, '
                               f'{fingerprint[key + "_file"]} (sha256 '
                               f'{fingerprint[key][:12]}) now')
    if differences:
        raise ValueError(f'Cannot resume {run_dir}: it evaluated another '
                         f'{" and another ".join(differences)}. {advice}')


@LOOPS.register_module()
class VideoTestLoop(TestLoop):
    """The test loop of the propagation benchmarks: results folders, and
    resuming by skipping what is written.

    Before the first sequence, every metric without an ``output_dir`` gets
    ``<run_dir>/<sub_dir>``, so that each run writes its own results.

    - A new run (``run_dir`` None) writes into the runner's log folder and
      stores the ``fingerprint`` there (``evaluation_run.json``); the
      tables come from the sequences as they are propagated.
    - Resuming (``run_dir`` the folder to continue) removes what the killed
      run left half-written, propagates only the sequences that lack a
      results folder of some metric (each process its share), waits for
      every process, then scores every sequence from its folder
      (``score_folder``) in the main process.

    Args:
        runner: The runner.
        dataloader: The test dataloader, or its config.
        evaluator: The evaluator, or its config.
        fp16: Run the model under autocast.
        sub_dir: The results folder's name inside the run folder.
        run_dir: The run folder to continue; None for a new run.
        fingerprint: What identifies the evaluation, stored by a new run
            (see :func:`evaluation_fingerprint`); None stores none, and
            such a run cannot be resumed.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 fp16: bool = False,
                 sub_dir: str = 'results',
                 run_dir: Optional[str] = None,
                 fingerprint: Optional[Dict[str, str]] = None) -> None:
        self._dataloader_cfg = copy.deepcopy(dataloader) if isinstance(
            dataloader, dict) else None
        super().__init__(runner, dataloader, evaluator, fp16)
        self.sub_dir = sub_dir
        self.run_dir = run_dir
        self.fingerprint = fingerprint

    def run(self) -> dict:
        """Propagate the sequences not yet written and score them all."""
        run_dir = self.run_dir or self.runner.log_dir
        results_dir = osp.join(run_dir, self.sub_dir)
        for metric in self.evaluator.metrics:
            if getattr(metric, 'output_dir', '') is None:
                metric.output_dir = results_dir
        if self.run_dir is None:
            if is_main_process():
                atomic_write_text(
                    osp.join(run_dir, RUN_FILE),
                    json.dumps(dict(fingerprint=self.fingerprint), indent=1)
                    + '\n')
            return super().run()
        return self._resume(results_dir)

    def _resume(self, results_dir: str) -> dict:
        """Propagate the sequences without results, then score all."""
        metrics = self.evaluator.metrics
        if not all(hasattr(m, 'score_folder') for m in metrics):
            raise ValueError(
                'Resuming an evaluation needs metrics that score results '
                'folders (BaseVideoMetric), got '
                f'{[type(m).__name__ for m in metrics]}')
        dataset = self.dataloader.dataset
        names = [
            dataset.get_data_info(i)['seq_name'] for i in range(len(dataset))
        ]
        if is_main_process():
            removed = remove_temporaries(self.run_dir)
        barrier()
        todo = [
            i for i, name in enumerate(names)
            if not all(osp.isdir(m.sequence_dir(name)) for m in metrics)
        ]
        if is_main_process():
            print_log(
                f'Resuming the evaluation in {self.run_dir}: '
                f'{len(names) - len(todo)} of {len(names)} sequences are '
                f'written and not propagated again; {len(removed)} '
                'half-written file(s) or folder(s) of the interrupted run '
                'removed.',
                logger='current')
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        self.runner.model.eval()
        if todo:
            self.dataloader = self._dataloader(dataset, todo)
            for idx, data_batch in enumerate(self.dataloader):
                self.run_iter(idx, data_batch)
        barrier()
        scores = [None]
        if is_main_process():
            scores = [{}]
            for metric in metrics:
                scores[0].update(
                    metric.score_folder(metric.output_dir, dataset))
        broadcast_object_list(scores)
        for metric in metrics:
            metric.results.clear()
        self.runner.call_hook('after_test_epoch', metrics=scores[0])
        self.runner.call_hook('after_test')
        return scores[0]

    def _dataloader(self, dataset: Any, indices: List[int]) -> DataLoader:
        """The test dataloader over the sequences ``indices`` of
        ``dataset`` only."""
        if self._dataloader_cfg is None:
            raise ValueError('Resuming an evaluation needs the test '
                             'dataloader as a config, not a DataLoader')
        cfg = copy.deepcopy(self._dataloader_cfg)
        cfg['dataset'] = dataset.get_subset(indices)
        return self.runner.build_dataloader(cfg, seed=self.runner.seed)
