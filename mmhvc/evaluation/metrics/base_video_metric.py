"""What every metric over whole videos shares: one results folder per
sequence, written by propagation and read back by scoring."""
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmhvc.fileio import atomic_dir
from .result_tables import Table, report_tables, resolve_split
from .video_samples import get_meta, sample_to_dict


class BaseVideoMetric(BaseMetric):
    """Base class of the metrics whose samples are whole videos.

    Results folders are the contract between propagation and scoring, as
    for the official evaluators of the benchmarks:

    - **Writing.** With an ``output_dir``, :meth:`process` writes each
      sequence's predictions (:meth:`write_sequence`: indexed PNGs, a
      keypoint file) into :meth:`sequence_dir`. The folder is filled under
      a temporary name and renamed when complete
      (:func:`mmhvc.fileio.atomic_dir`), so a sequence folder that exists
      is complete.
    - **Scoring.** :meth:`score_folder` scores a results folder against a
      dataset, reading the predictions back (:meth:`read_sequence`), with
      no propagation: the folder of an interrupted and resumed run, or one
      that another method wrote (``tools/eval_results.py``).

    Both paths score a sequence with :meth:`process_video` and report the
    tables with ``compute_metrics``, so a run and the scoring of its folder
    give the same tables.

    Each data sample is one sequence as a propagation model returns it (see
    :mod:`mmhvc.evaluation.metrics.video_samples`); :meth:`process` keeps,
    per sequence, ``seq_name``, ``split`` (the sample's ``split``
    metainfo, or None) and what :meth:`process_video` returns.

    Subclasses set ``default_prefix``, the prefix MMEngine gives the metric
    names (``<prefix>/<name>``) when ``prefix`` is None.

    Args:
        split: Split name in the table titles and CSV file names; when
            None, the ``split`` metainfo of the samples.
        output_dir: Folder of the results and the CSV files; filled in by
            ``VideoTestLoop`` at test time when None. Without one, nothing
            is written.
        collect_device: Device used to gather results across ranks,
            ``'cpu'`` or ``'gpu'``.
        prefix: Prefix of the metric names; ``default_prefix`` when None.
    """

    #: Whether scoring needs the annotations (the dataset's pipeline); a
    #: writer of test-server submissions needs only the sequence lists.
    needs_ground_truth = True

    def __init__(self,
                 split: Optional[str] = None,
                 output_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.split = split
        self.output_dir = output_dir

    def sequence_dir(self, seq_name: str) -> str:
        """The results folder of one sequence: ``<output_dir>/<seq_name>``
        (sequence names may hold ``/``)."""
        return osp.join(
            self.require_output_dir('for the results of the sequences'),
            seq_name)

    def write_sequence(self, sample: dict, folder: str) -> None:
        """Write one sequence's predictions into its (empty) folder.

        Args:
            sample: The sample as a flat dict of metainfo and data fields.
            folder: The folder to fill.
        """
        raise NotImplementedError

    def read_sequence(self, folder: str, sample: dict) -> dict:
        """Read back what :meth:`write_sequence` wrote.

        Args:
            folder: The sequence's results folder.
            sample: The ground-truth sample (or the data info of the
                sequence, without ``needs_ground_truth``).

        Returns:
            The prediction fields to add to ``sample``, e.g.
            ``pred_masks``.

        Raises:
            FileNotFoundError: A file is missing; the message names it.
        """
        raise NotImplementedError

    def process_video(self, sample: dict, seq_name: str) -> dict:
        """Score one sequence.

        Args:
            sample: The sample as a flat dict of metainfo and data fields,
                predictions included.
            seq_name: Its ``seq_name``.

        Returns:
            What ``compute_metrics`` needs of the sequence, as small as
            possible (counts, per-object statistics), since the results are
            gathered across ranks.
        """
        raise NotImplementedError

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Write (with an ``output_dir``, which a metric without
        ``needs_ground_truth`` must have) and score each sequence of the
        batch.

        Args:
            data_batch: The batch from the dataloader (unused).
            data_samples: Model outputs (``BaseDataElement`` or dict), one
                per sequence.
        """
        for data_sample in data_samples:
            sample = sample_to_dict(data_sample)
            seq_name = get_meta(sample, 'seq_name')
            # A metric that only writes (no ground truth) needs its folder.
            if self.output_dir or not self.needs_ground_truth:
                with atomic_dir(self.sequence_dir(seq_name)) as folder:
                    self.write_sequence(sample, folder)
            self.results.append(self._score(sample, seq_name))

    def _score(self, sample: dict, seq_name: str) -> dict:
        """:meth:`process_video`'s result with the sequence's name and
        split."""
        return dict(
            seq_name=seq_name,
            split=sample.get('split'),
            **self.process_video(sample, seq_name))

    def score_folder(self, results_dir: str, dataset: Any) -> Dict[str, Any]:
        """Score the results folder of every sequence of a dataset.

        The tables are printed and their CSV files (or archive) written
        into ``results_dir``, which becomes the metric's ``output_dir``.

        Args:
            results_dir: The results folder, one sub-folder per sequence.
            dataset: The test dataset (``seq_name`` in each data info; its
                pipeline gives the ground truth).

        Returns:
            The metrics, ``<prefix>/<name>`` as MMEngine returns them.

        Raises:
            FileNotFoundError: Sequences of the dataset have no results
                folder (the message names them) or a folder lacks a file.
        """
        self.output_dir = results_dir
        names = [
            dataset.get_data_info(i)['seq_name'] for i in range(len(dataset))
        ]
        missing = [n for n in names if not osp.isdir(self.sequence_dir(n))]
        if missing:
            raise FileNotFoundError(
                f'{results_dir} has no results of {len(missing)} of the '
                f'{len(names)} sequences: {", ".join(missing[:10])}'
                + (' ...' if len(missing) > 10 else ''))
        results = []
        for index, name in enumerate(names):
            if self.needs_ground_truth:
                sample = sample_to_dict(dataset[index]['data_samples'])
            else:
                sample = dict(dataset.get_data_info(index))
            sample.update(self.read_sequence(self.sequence_dir(name), sample))
            results.append(self._score(sample, name))
        return {
            f'{self.prefix}/{name}' if self.prefix else name: value
            for name, value in self.compute_metrics(results).items()
        }

    def require_output_dir(self, purpose: str) -> str:
        """The ``output_dir``; a ``ValueError`` naming ``purpose`` (e.g.
        ``'to write the predicted masks'``) when it is not set."""
        if not self.output_dir:
            raise ValueError(
                f'{type(self).__name__} needs an output_dir {purpose} (set '
                'it in the config, or let VideoTestLoop set it)')
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
