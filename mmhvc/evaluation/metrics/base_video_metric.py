"""What every metric over whole videos shares."""
from typing import Any, List, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

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
            self.results.append(
                dict(
                    seq_name=seq_name,
                    split=sample.get('split'),
                    **self.process_video(sample, seq_name)))

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
