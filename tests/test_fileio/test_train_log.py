import json
import math

import pytest

from mmhvc.fileio.train_log import (load_scalar_log, scalar_series,
                                   train_time_stats)


def write_lines(path, lines):
    path.write_text(''.join(line + '\n' for line in lines))
    return str(path)


def train_record(step, time, loss=1.0, **extra):
    return json.dumps(dict(step=step, time=time, loss=loss, **extra))


def test_load_keeps_the_records_in_order(tmp_path):
    log = write_lines(tmp_path / 'scalars.json', [
        train_record(10, 0.5, lr=0.1), '',
        json.dumps(dict(step=10, J_and_F=0.4)),
        train_record(20, 0.25, lr=0.05)
    ])
    records = load_scalar_log(log)
    assert [r['step'] for r in records] == [10, 10, 20]
    assert scalar_series(records, 'lr') == ([10., 20.], [0.1, 0.05])
    assert scalar_series(records, 'J_and_F') == ([10.], [0.4])


def test_bad_logs_name_the_file_and_line(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.json'):
        load_scalar_log(str(tmp_path / 'missing.json'))
    log = write_lines(tmp_path / 'a.json', [train_record(1, 0.1), '{oops'])
    with pytest.raises(ValueError, match=r'a\.json:2: not a JSON line'):
        load_scalar_log(log)
    log = write_lines(tmp_path / 'b.json', ['[1, 2]'])
    with pytest.raises(ValueError, match=r'b\.json:1: expected .*"step"'):
        load_scalar_log(log)
    log = write_lines(tmp_path / 'c.json', [''])
    with pytest.raises(ValueError, match=r'c\.json: the log has no records'):
        load_scalar_log(log)


def test_missing_key_lists_what_the_log_has():
    records = [dict(step=1, loss=2.0, lr=0.1)]
    with pytest.raises(KeyError) as error:
        scalar_series(records, 'time', 'run_a')
    assert error.value.args[0] == (
        "run_a: no \"time\" in the log; it has ['loss', 'lr']")


def test_time_stats_leave_out_the_first_window():
    records = [
        dict(step=10, time=3.0, loss=1.0, data_time=1.0),
        dict(step=20, time=0.5, loss=1.0, data_time=0.1),
        dict(step=20, J_and_F=0.3),
        dict(step=30, time=0.7, loss=1.0),
        dict(step=40, time=0.3, loss=1.0, data_time=0.3),
    ]
    stats = train_time_stats(records)
    assert stats.num_records == 3
    assert stats.mean == pytest.approx(0.5)
    assert stats.std == pytest.approx(math.sqrt(0.08 / 3))
    assert stats.slowest == (30, 0.7) and stats.fastest == (40, 0.3)
    assert stats.last_step == 40
    assert stats.data_time == pytest.approx(0.2)
    every = train_time_stats(records, include_first=True)
    assert every.num_records == 4 and every.slowest == (10, 3.0)
    assert every.data_time == pytest.approx(1.4 / 3)


def test_time_stats_need_timed_training_records():
    with pytest.raises(ValueError, match='run_b: no training records'):
        train_time_stats([dict(step=1, loss=1.0)], source='run_b')
    no_data_time = train_time_stats([dict(step=5, time=0.2, loss=1.0)])
    assert no_data_time.num_records == 1 and no_data_time.data_time is None
