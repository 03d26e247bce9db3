"""The files that let an interrupted evaluation run be resumed.

An evaluation run (one ``tools/test.py`` run) writes into its run folder
``<work_dir>/<timestamp>``, besides its log and ``results/``:

- ``evaluation_run.json``, before the first sequence is propagated: the
  fingerprint of the config and the checkpoint (see
  :func:`evaluation_fingerprint`), the metrics (by prefix) and the names of
  the dataset's sequences, in dataset order.
- ``sequence_records/<prefix>/<seq_name>.pkl``, one per metric and
  sequence: what the metric keeps of the sequence for ``compute_metrics``
  (the result of its ``process``), written atomically after the
  sequence's output files (masks, submission PNGs). A record thus exists
  only for a sequence whose outputs are all written; a process killed in
  between leaves no record, and the sequence is propagated again.

``tools/test.py --resume`` continues the latest run folder of the work dir
that holds an ``evaluation_run.json``: the sequences with a record of every
metric are not propagated again, the metrics reload their records, and the
tables are computed over all sequences, in dataset order.
"""
import glob
import hashlib
import io
import json
import os
import os.path as osp
import pickle
from typing import Any, Dict, List, Optional, Sequence

from mmengine.config import Config

from mmhvc.fileio import atomic_write_bytes, atomic_write_text

RUN_FILE = 'evaluation_run.json'
RECORD_DIR = 'sequence_records'
RECORD_SUFFIX = '.pkl'

#: The parts of the config that decide what an evaluation computes.
FINGERPRINT_KEYS = ('model', 'test_dataloader.dataset', 'test_evaluator',
                    'test_cfg')

#: The globals a record may name: numpy arrays, dtypes and scalars.
_RECORD_GLOBALS = {('numpy', 'ndarray'), ('numpy', 'dtype'),
                   ('numpy.core.multiarray', '_reconstruct'),
                   ('numpy.core.multiarray', 'scalar'),
                   ('numpy._core.multiarray', '_reconstruct'),
                   ('numpy._core.multiarray', 'scalar')}


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
        not change it), ``checkpoint``: the sha256 of the checkpoint file,
        and, for messages, ``config_file`` and ``checkpoint_file``.
    """
    parts = {key: _config_part(cfg, key) for key in FINGERPRINT_KEYS}
    text = json.dumps(
        Config(dict(parts=parts)).to_dict(), sort_keys=True, default=repr)
    return dict(
        config=hashlib.sha256(text.encode()).hexdigest(),
        checkpoint=_sha256_of_file(checkpoint),
        config_file=str(cfg.filename),
        checkpoint_file=osp.abspath(checkpoint))


def run_file_path(run_dir: str) -> str:
    """The path of a run folder's ``evaluation_run.json``."""
    return osp.join(run_dir, RUN_FILE)


def write_run_file(run_dir: str, fingerprint: Optional[Dict[str, str]],
                   metrics: Sequence[str], sequences: Sequence[str]) -> None:
    """Write ``evaluation_run.json`` atomically.

    Args:
        run_dir: The run folder.
        fingerprint: See :func:`evaluation_fingerprint`; None when the run
            was not started by ``tools/test.py`` (it cannot be resumed).
        metrics: The prefixes of the metrics that keep records.
        sequences: The sequence names, in dataset order.
    """
    atomic_write_text(
        run_file_path(run_dir),
        json.dumps(
            dict(
                fingerprint=fingerprint,
                metrics=list(metrics),
                sequences=list(sequences)),
            indent=1) + '\n')


def read_run_file(run_dir: str) -> dict:
    """Read a run folder's ``evaluation_run.json``.

    Returns:
        ``fingerprint`` (dict or None), ``metrics`` and ``sequences``
        (lists of str).

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: It is not a file that :func:`write_run_file` wrote.
    """
    path = run_file_path(run_dir)
    if not osp.isfile(path):
        raise FileNotFoundError(f'evaluation run file not found: {path}')
    try:
        with open(path, encoding='utf-8') as f:
            run = json.load(f)
        valid = isinstance(run, dict) and all(
            isinstance(run.get(key), list) for key in ('metrics', 'sequences'))
    except ValueError:
        valid = False
    if not valid:
        raise ValueError(f'{path} is not an evaluation run file (expected a '
                         'JSON object with "metrics" and "sequences" lists)')
    return run


def find_latest_run(work_dir: str) -> Optional[str]:
    """The latest run folder of ``work_dir`` with an ``evaluation_run.json``.

    Run folders are named by their start time (``%Y%m%d_%H%M%S``), so the
    latest is the last in name order. None when there is none.
    """
    runs = sorted(glob.glob(osp.join(glob.escape(work_dir), '*', RUN_FILE)))
    return osp.dirname(runs[-1]) if runs else None


def check_fingerprint(run_dir: str, run: dict, fingerprint: Dict[str,
                                                                 str]) -> None:
    """Refuse to resume a run of another config or checkpoint.

    Args:
        run_dir: The run folder, named in the error.
        run: Its run file, see :func:`read_run_file`.
        fingerprint: This run's, see :func:`evaluation_fingerprint`.

    Raises:
        ValueError: The config or the checkpoint differs; the message names
            the files of both runs.
    """
    stored = run.get('fingerprint')
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


def record_path(record_dir: str, seq_name: str) -> str:
    """The record of sequence ``seq_name`` in a metric's record folder."""
    return osp.join(record_dir, seq_name + RECORD_SUFFIX)


def metric_record_dir(run_dir: str, metric: str) -> str:
    """The record folder of the metric with prefix ``metric``."""
    return osp.join(run_dir, RECORD_DIR, metric)


def completed_sequences(run_dir: str, run: dict) -> List[str]:
    """The sequences of a run with a record of every metric.

    Args:
        run_dir: The run folder.
        run: Its run file, see :func:`read_run_file`.

    Returns:
        Their names, in dataset order.
    """
    record_dirs = [metric_record_dir(run_dir, m) for m in run['metrics']]
    return [
        name for name in run['sequences'] if record_dirs and all(
            osp.isfile(record_path(folder, name)) for folder in record_dirs)
    ]


def remove_temporary_files(run_dir: str) -> List[str]:
    """Delete the temporary files a killed run left in its folder.

    :mod:`mmhvc.fileio` writes every file as a hidden
    ``.<name>.<pid>.tmp[<ext>]`` first; one still there belongs to a
    process that died before renaming it.

    Returns:
        The paths removed.
    """
    pattern = osp.join(glob.escape(run_dir), '**', '.*.tmp*')
    removed = []
    for path in glob.glob(pattern, recursive=True):
        if osp.isfile(path):
            os.remove(path)
            removed.append(path)
    return removed


def write_record(path: str, result: dict) -> None:
    """Write one sequence's metric result atomically (a pickle)."""
    atomic_write_bytes(path, pickle.dumps(result))


class _RecordUnpickler(pickle.Unpickler):
    """Loads Python containers and numbers, strings and numpy arrays only,
    so that a record cannot run code."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _RECORD_GLOBALS:
            raise pickle.UnpicklingError(
                f'a sequence record may not hold {module}.{name}')
        return super().find_class(module, name)


def read_record(path: str) -> dict:
    """Read a record that :func:`write_record` wrote.

    Raises:
        ValueError: The file is not such a record; the message names it.
    """
    with open(path, 'rb') as f:
        content = f.read()
    try:
        result = _RecordUnpickler(io.BytesIO(content)).load()
    except Exception as e:
        raise ValueError(f'cannot read the sequence record {path}: {e}') from e
    if not isinstance(result, dict) or 'seq_name' not in result:
        raise ValueError(f'{path} is not a sequence record (expected a dict '
                         'with a "seq_name")')
    return result
