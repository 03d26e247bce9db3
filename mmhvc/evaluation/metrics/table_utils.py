"""Printing and saving the result tables of the propagation metrics."""
import csv
import io
import math
import os.path as osp
from typing import List, Sequence

from mmengine.logging import MMLogger, print_log
from terminaltables import AsciiTable

from mmhvc.datasets.palette import atomic_write_bytes


def format_score(value: float, digits: int = 3) -> str:
    """A score with ``digits`` decimals; ``'-'`` for NaN (not scored)."""
    return '-' if math.isnan(value) else f'{value:.{digits}f}'


def log_table(title: str, rows: Sequence[Sequence[str]],
              logger: MMLogger) -> None:
    """Print ``rows`` (header first) as an ASCII table under ``title``."""
    print_log(f'{title}\n{AsciiTable([list(r) for r in rows]).table}', logger)


def write_csv(path: str, rows: Sequence[Sequence[str]],
              logger: MMLogger) -> None:
    """Write ``rows`` (header first) to ``path`` atomically."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator='\n').writerows(rows)
    atomic_write_bytes(path, buffer.getvalue().encode())
    print_log(f'Results saved to {path}', logger)


def report_tables(tables: Sequence[tuple], output_dir: str,
                  logger: MMLogger) -> List[str]:
    """Print each ``(title, csv_name, rows)`` table and, with an
    ``output_dir``, write it to ``<output_dir>/<csv_name>``.

    Returns:
        The paths written.
    """
    paths = []
    for title, name, rows in tables:
        log_table(title, rows, logger)
        if output_dir:
            paths.append(osp.join(output_dir, name))
            write_csv(paths[-1], rows, logger)
    return paths
