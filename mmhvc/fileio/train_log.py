"""Reading MMEngine's json scalar logs: scalar series and iteration times.

MMEngine writes one JSON object per line to ``vis_data/scalars.json`` (the
``LocalVisBackend``) and the same lines to ``vis_data/<timestamp>.json``
(the ``LoggerHook``). A training line holds the logged values averaged over
the logging window (``loss``, ``loss_spatial``, ``loss_temporal``,
``ema_momentum``, ``lr``, ``time`` and ``data_time`` in seconds per
iteration ...), ``iter`` (and ``epoch`` for epoch-based loops) and
``step``, the 1-based training iteration; validation lines hold metrics
and their ``step``.
"""
import json
import math
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

Record = Dict[str, float]


def load_scalar_log(path: str) -> List[Record]:
    """Read the records of a json-lines scalar log.

    Raises:
        FileNotFoundError: No such file.
        ValueError: A line is not a JSON object with a ``step``; the error
            names the file and the line.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'log file not found: {path}')
    records = []
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f'{path}:{number}: not a JSON line ({e})')
            if not isinstance(record, dict) or 'step' not in record:
                raise ValueError(f'{path}:{number}: expected a JSON object '
                                 f'with a "step", got {line[:80]}')
            records.append(record)
    if not records:
        raise ValueError(f'{path}: the log has no records')
    return records


def scalar_series(records: Sequence[Record],
                  key: str,
                  source: str = 'log') -> Tuple[List[float], List[float]]:
    """``(steps, values)`` of the records that hold ``key``.

    Raises:
        KeyError: No record holds ``key``; the message lists the keys that
            the log has.
    """
    steps, values = [], []
    for record in records:
        if key in record:
            steps.append(float(record['step']))
            values.append(float(record[key]))
    if not steps:
        keys = sorted({k for r in records for k in r} - {'step'})
        raise KeyError(f'{source}: no "{key}" in the log; it has {keys}')
    return steps, values


class TrainTimeStats(NamedTuple):
    """Iteration times of a training log (seconds per iteration, each a
    logging-window average).

    Attributes:
        num_records: Training records used.
        mean: Mean over the records.
        std: Population standard deviation over the records.
        slowest: ``(step, time)`` of the slowest record.
        fastest: ``(step, time)`` of the fastest record.
        last_step: Last logged training iteration.
        data_time: Mean data loading time, or None when not logged.
    """
    num_records: int
    mean: float
    std: float
    slowest: Tuple[int, float]
    fastest: Tuple[int, float]
    last_step: int
    data_time: Optional[float]


def train_time_stats(records: Sequence[Record],
                     include_first: bool = False,
                     source: str = 'log') -> TrainTimeStats:
    """Summarise the ``time`` of the training records (those with both
    ``time`` and ``loss``).

    Args:
        records: Records of one log.
        include_first: Keep the first record, whose window contains the
            start-up iterations (left out by default).
        source: Name of the log for error messages.
    """
    logged = [r for r in records if 'time' in r and 'loss' in r]
    train = logged[1:] if len(logged) > 1 and not include_first else logged
    if not train:
        raise ValueError(f'{source}: no training records with "time" and '
                         '"loss" (was IterTimerHook enabled?)')
    times = [float(r['time']) for r in train]
    mean = sum(times) / len(times)
    std = math.sqrt(sum((t - mean)**2 for t in times) / len(times))
    slow = max(range(len(times)), key=times.__getitem__)
    fast = min(range(len(times)), key=times.__getitem__)
    data_times = [float(r['data_time']) for r in train if 'data_time' in r]
    return TrainTimeStats(
        num_records=len(train),
        mean=mean,
        std=std,
        slowest=(int(train[slow]['step']), times[slow]),
        fastest=(int(train[fast]['step']), times[fast]),
        last_step=int(max(float(r['step']) for r in logged)),
        data_time=sum(data_times) / len(data_times) if data_times else None)
