"""What every metric over whole videos shares."""
from typing import Any, Dict, List, Optional, Sequence

from mmengine.dist import (broadcast_object_list, collect_results,
                           is_main_process)
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from ..evaluation_run import read_record, record_path, write_record
from .result_tables import Table, report_tables, resolve_split
from .video_samples import get_meta, sample_to_dict


class BaseVideoMetric(BaseMetric):
    """Base class of the metrics whose samples are whole videos.

    Each data sample is one sequence as a propagation model returns it (see
    :mod:`mmhvc.evaluation.metrics.video_samples`). :meth:`process` reads
    it as a flat dict and keeps, per sequence, ``seq_name``, ``split`` (the
    sample's ``split`` metainfo, or None) and what the subclass's
    :meth:`process_video` returns; ``compute_metrics`` reports its tables
    through :meth:`report`.

    Subclasses set ``default_prefix``, the prefix MMEngine gives the metric
    names (``<prefix>/<name>``) when ``prefix`` is None.

    At test time ``ResultDirHook`` makes the results resumable (see
    :mod:`mmhvc.evaluation.evaluation_run`): with :meth:`keep_records`,
    each sequence's result is also written to a record file, after
    :meth:`process_video` has written the sequence's files; with
    :meth:`resume_records`, :meth:`evaluate` adds the recorded results of
    the sequences that a previous run completed, so the tables cover every
    sequence, in dataset order.

    Args:
        split: Split name in the table titles and CSV file names; when
            None, the ``split`` metainfo of the samples.
        output_dir: Folder of the result files; filled in by
            ``ResultDirHook`` at test time when None.
        collect_device: Device used to gather results across ranks,
            ``'cpu'`` or ``'gpu'``.
        prefix: Prefix of the metric names; ``default_prefix`` when None.
    """

    def __init__(self,
                 split: Optional[str] = None,
                 output_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.split = split
        self.output_dir = output_dir
        self.record_dir: Optional[str] = None
        self._resumed_names: List[str] = []
        self._sequence_order: Dict[str, int] = {}

    def keep_records(self, record_dir: Optional[str]) -> None:
        """Write each processed sequence's result to
        ``<record_dir>/<seq_name>.pkl``; None writes none."""
        self.record_dir = record_dir

    def resume_records(self, seq_names: Sequence[str],
                       order: Sequence[str]) -> None:
        """Report the recorded results of ``seq_names`` with the processed
        ones.

        Args:
            seq_names: The sequences not propagated again, whose records
                :meth:`evaluate` reads from ``record_dir``.
            order: Every sequence name, in dataset order: the order of the
                results passed to ``compute_metrics``.
        """
        self._resumed_names = list(seq_names)
        self._sequence_order = {name: i for i, name in enumerate(order)}

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Process each sequence of the batch and keep its result.

        Args:
            data_batch: The batch from the dataloader (unused).
            data_samples: Model outputs (``BaseDataElement`` or dict), one
                per sequence.
        """
        for data_sample in data_samples:
            sample = sample_to_dict(data_sample)
            seq_name = get_meta(sample, 'seq_name')
            result = dict(
                seq_name=seq_name,
                split=sample.get('split'),
                **self.process_video(sample, seq_name))
            if self.record_dir:
                write_record(record_path(self.record_dir, seq_name), result)
            self.results.append(result)

    def process_video(self, sample: dict, seq_name: str) -> dict:
        """Score (or write) one sequence.

        Args:
            sample: The sample as a flat dict of metainfo and data fields.
            seq_name: Its ``seq_name``.

        Returns:
            What ``compute_metrics`` needs of the sequence, as small as
            possible (counts, per-object statistics), since the results are
            gathered across ranks.
        """
        raise NotImplementedError

    def evaluate(self, size: int) -> dict:
        """Gather the results of all ranks and compute the metrics.

        As :meth:`mmengine.evaluator.BaseMetric.evaluate`; after
        :meth:`resume_records`, the main process adds the recorded results
        and sorts all of them into dataset order before
        ``compute_metrics``.

        Args:
            size: The number of sequences processed in this run, over all
                ranks.

        Returns:
            The metrics, ``<prefix>/<name>``.
        """
        if not self._resumed_names:
            return super().evaluate(size)
        tmpdir = self.collect_dir if self.collect_device == 'cpu' else None
        results = collect_results(self.results, size, self.collect_device,
                                  tmpdir)
        metrics = [None]
        if is_main_process():
            results = sorted(
                results + [
                    read_record(record_path(self.record_dir, name))
                    for name in self._resumed_names
                ],
                key=lambda result: self._sequence_order[result['seq_name']])
            metrics = [{
                f'{self.prefix}/{name}' if self.prefix else name: value
                for name, value in self.compute_metrics(results).items()
            }]
        broadcast_object_list(metrics)
        self.results.clear()
        return metrics[0]

    def require_output_dir(self, purpose: str) -> str:
        """The ``output_dir``; a ``ValueError`` naming ``purpose`` (e.g.
        ``'to write the predicted masks'``) when it is not set."""
        if not self.output_dir:
            raise ValueError(
                f'{type(self).__name__} needs an output_dir {purpose} (set '
                'it in the config, or let ResultDirHook set it)')
        return self.output_dir

    def report(self, tables: Sequence[Table], results: Sequence[dict],
               logger: MMLogger) -> List[str]:
        """Print the tables and save them in ``output_dir``, if set, under
        the split of the results (see
        :func:`~mmhvc.evaluation.metrics.result_tables.report_tables`).

        Returns:
            The paths written.
        """
        return report_tables(tables, resolve_split(self.split, results),
                             self.output_dir, logger)
