import logging
import math

from mmengine.logging import MMLogger

from mmhvc.evaluation.metrics.result_tables import (format_score,
                                                    report_tables,
                                                    resolve_split, write_csv)

ROWS = [['Sequence', 'mIoU'], ['a', '0.500'], ['b, c', '-']]


class Messages(logging.Handler):
    """Keeps the messages logged to it."""

    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def logger(handler=None):
    instance = MMLogger.get_instance('test_result_tables')
    instance.handlers = [h for h in instance.handlers
                         if not isinstance(h, Messages)]
    if handler is not None:
        instance.addHandler(handler)
    return instance


def test_format_score():
    assert format_score(0.12345) == '0.123'
    assert format_score(2 / 3, digits=1) == '0.7'
    assert format_score(math.nan) == '-'


def test_resolve_split():
    results = [dict(split='val'), dict(split=None), dict(split='test-dev')]
    assert resolve_split('train', results) == 'train'
    assert resolve_split(None, results) == 'test-dev+val'
    assert resolve_split(None, [dict(split='val')] * 2) == 'val'
    assert resolve_split(None, [dict(split=None)]) == ''


def test_write_csv_quotes_and_uses_newlines(tmp_path):
    path = tmp_path / 'sub' / 'table.csv'
    write_csv(str(path), ROWS, logger())
    assert path.read_bytes() == b'Sequence,mIoU\na,0.500\n"b, c",-\n'
    assert sorted(p.name for p in path.parent.iterdir()) == ['table.csv']


def test_report_tables_names_titles_and_files_after_the_split(tmp_path):
    tables = [('Global results', 'global_results', [['mIoU'], ['0.250']]),
              ('Per-sequence results', 'per-sequence_results', ROWS)]
    handler = Messages()
    paths = report_tables(tables, 'val', str(tmp_path), logger(handler))
    assert paths == [
        str(tmp_path / 'global_results-val.csv'),
        str(tmp_path / 'per-sequence_results-val.csv')
    ]
    assert (tmp_path / 'global_results-val.csv').read_text() == \
        'mIoU\n0.250\n'
    tables_logged = [m for m in handler.messages if 'results' in m
                     and 'saved' not in m]
    assert tables_logged[0] == ('Global results for val:\n'
                                '+-------+\n'
                                '| mIoU  |\n'
                                '+-------+\n'
                                '| 0.250 |\n'
                                '+-------+')
    assert tables_logged[1].startswith('Per-sequence results for val:\n')

    handler = Messages()
    paths = report_tables(tables, '', str(tmp_path / 'plain'),
                          logger(handler))
    assert paths[0] == str(tmp_path / 'plain' / 'global_results.csv')
    assert handler.messages[0].startswith('Global results:\n')
    assert report_tables(tables, 'val', None, logger()) == []
