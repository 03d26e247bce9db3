import os.path as osp
from typing import Dict, List, Optional

from mmengine.dist import barrier, is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmhvc.datasets.base_video_dataset import BaseVideoDataset
from mmhvc.evaluation.evaluation_run import (metric_record_dir, read_run_file,
                                             remove_temporary_files,
                                             write_run_file)
from mmhvc.evaluation.metrics import BaseVideoMetric
from mmhvc.registry import HOOKS


@HOOKS.register_module()
class ResultDirHook(Hook):
    """Point the evaluation metrics' ``output_dir`` at this run's folder,
    and make test runs resumable.

    Every run of the test (or validation) loop writes its masks, CSV files
    and submission archives below ``<run_dir>/<sub_dir>``, ``run_dir`` being
    the folder of the run's log, ``<work_dir>/<timestamp>``, so that
    re-running on an existing work dir never mixes old and new results.
    Metrics whose ``output_dir`` is already set in the config are left
    alone.

    At test time, on a video dataset (:class:`BaseVideoDataset`), the run
    folder also gets the files that make it resumable (see
    :mod:`mmhvc.evaluation.evaluation_run`): ``evaluation_run.json``, and a
    record of each sequence from each :class:`BaseVideoMetric`. To resume
    (``tools/test.py --resume``), ``run_dir`` names the folder of the run
    to continue, whose results and records this run completes, while its
    own log goes to its own folder; the dataset leaves out the sequences
    already complete (``filter_cfg=dict(skip_sequences=...)``) and the
    metrics reload their records. Before the first sequence is
    propagated, the temporary files that the interrupted run left there
    are removed, and the ranks wait for each other, so that no rank lists
    the completed sequences while another writes a record.

    Args:
        sub_dir: Folder name of the results inside the run folder.
        run_dir: The run folder to continue; None for a new run, in the
            runner's log dir.
        fingerprint: What identifies the evaluation (config and checkpoint
            hashes, see
            :func:`~mmhvc.evaluation.evaluation_run.evaluation_fingerprint`),
            stored in ``evaluation_run.json`` by a new run.
    """

    priority = 'VERY_HIGH'

    def __init__(self,
                 sub_dir: str = 'results',
                 run_dir: Optional[str] = None,
                 fingerprint: Optional[Dict[str, str]] = None) -> None:
        self.sub_dir = sub_dir
        self.run_dir = run_dir
        self.fingerprint = fingerprint

    def _set_output_dirs(self, run_dir: str, evaluator) -> None:
        for metric in evaluator.metrics:
            if hasattr(metric, 'output_dir') and metric.output_dir is None:
                metric.output_dir = osp.join(run_dir, self.sub_dir)

    def before_val(self, runner) -> None:
        self._set_output_dirs(runner.log_dir, runner.val_loop.evaluator)

    def before_test(self, runner) -> None:
        run_dir = self.run_dir or runner.log_dir
        evaluator = runner.test_loop.evaluator
        self._set_output_dirs(run_dir, evaluator)
        dataset = runner.test_loop.dataloader.dataset
        metrics = [
            m for m in evaluator.metrics if isinstance(m, BaseVideoMetric)
        ]
        if not metrics or not isinstance(dataset, BaseVideoDataset):
            if self.run_dir is not None:
                raise ValueError(
                    'Resuming an evaluation needs a video dataset '
                    f'(BaseVideoDataset, got {type(dataset).__name__}) and '
                    'video metrics (BaseVideoMetric)')
            return
        names = self._metric_names(metrics)
        if self.run_dir is None:
            if is_main_process():
                write_run_file(run_dir, self.fingerprint, names,
                               dataset.sequence_names)
        else:
            self._resume(run_dir, dataset, metrics, names)
        for metric, name in zip(metrics, names):
            metric.keep_records(metric_record_dir(run_dir, name))

    @staticmethod
    def _metric_names(metrics: List[BaseVideoMetric]) -> List[str]:
        """The metrics' prefixes, which name their record folders."""
        names = [m.prefix or type(m).__name__ for m in metrics]
        if len(set(names)) != len(names):
            raise ValueError(
                f'The video metrics of the evaluator share prefixes {names}; '
                'give each its own prefix')
        return names

    def _resume(self, run_dir: str, dataset: BaseVideoDataset,
                metrics: List[BaseVideoMetric], names: List[str]) -> None:
        """Check the run to continue against this one and let the metrics
        reload the records of the skipped sequences."""
        run = read_run_file(run_dir)
        if run['metrics'] != names:
            raise ValueError(
                f'Cannot resume {run_dir}: it was evaluated by the metrics '
                f'{run["metrics"]}, this run has {names}')
        skipped = dataset.skipped_sequences
        listed = set(dataset.sequence_names) | set(skipped)
        if listed != set(run['sequences']) or len(set(
                run['sequences'])) != len(run['sequences']):
            raise ValueError(
                f'Cannot resume {run_dir}: the dataset now lists other '
                'sequences than it did there (or lists one twice), '
                f'{sorted(listed ^ set(run["sequences"]))[:10]} differ')
        for metric in metrics:
            metric.resume_records(skipped, run['sequences'])
        if is_main_process():
            removed = remove_temporary_files(run_dir)
            print_log(
                f'Resuming the evaluation in {run_dir}: {len(skipped)} of '
                f'{len(run["sequences"])} sequences are complete and not '
                f'propagated again; {len(removed)} temporary file(s) of the '
                'interrupted run removed.',
                logger='current')
        barrier()
