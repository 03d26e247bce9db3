"""Printing and saving the result tables of the propagation metrics.

Every metric reports its results as tables of strings, header row first:
each is printed as an ASCII table under a title and, when the metric has an
``output_dir``, saved as a CSV file. Titles and file names carry the split
(``'Global results for val:'``, ``global_results-val.csv``).
"""
import csv
import io
import math
import os.path as osp
from typing import List, Optional, Sequence, Tuple

from mmengine.logging import MMLogger, print_log
from terminaltables import AsciiTable

from mmhvc.fileio import atomic_write_bytes

#: ``(name, csv_stem, rows)``: e.g. ``('Global results', 'global_results',
#: [['mIoU'], ['0.446']])``.
Table = Tuple[str, str, Sequence[Sequence[str]]]


def format_score(value: float, digits: int = 3) -> str:
    """A score with ``digits`` decimals; ``'-'`` for NaN (not scored)."""
    return '-' if math.isnan(value) else f'{value:.{digits}f}'


def resolve_split(split: Optional[str], results: Sequence[dict]) -> str:
    """The split the results are reported under.

    Args:
        split: The split named in the metric's config, if any.
        results: The per-sequence results, each with a ``split`` key (the
            sample's ``split`` metainfo, or None).

    Returns:
        ``split`` when given, else the distinct splits of the results,
        sorted and joined by ``'+'``; ``''`` when none is known.
    """
    if split:
        return split
    return '+'.join(sorted({r['split'] for r in results if r['split']}))


def log_table(title: str, rows: Sequence[Sequence[str]],
              logger: MMLogger) -> None:
    """Print ``rows`` (header first) as an ASCII table under ``title``."""
    print_log(f'{title}\n{AsciiTable([list(r) for r in rows]).table}', logger)


def write_csv(path: str, rows: Sequence[Sequence[str]],
              logger: MMLogger) -> None:
    """Write ``rows`` (header first) to ``path`` atomically, with ``'\\n'``
    line ends."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator='\n').writerows(rows)
    atomic_write_bytes(path, buffer.getvalue().encode())
    print_log(f'Results saved to {path}', logger)


def report_tables(tables: Sequence[Table], split: str,
                  output_dir: Optional[str],
                  logger: MMLogger) -> List[str]:
    """Print each table and, with an ``output_dir``, save it as CSV.

    Table ``(name, csv_stem, rows)`` is printed under
    ``'<name> for <split>:'`` and written to
    ``<output_dir>/<csv_stem>-<split>.csv`` (``'<name>:'`` and
    ``<csv_stem>.csv`` when ``split`` is empty).

    Args:
        tables: The tables, in the order to print them.
        split: The split, see :func:`resolve_split`.
        output_dir: Folder of the CSV files; None or ``''`` writes none.
        logger: Where the tables are printed.

    Returns:
        The paths written.
    """
    title_suffix = f' for {split}' if split else ''
    file_suffix = f'-{split}' if split else ''
    paths = []
    for name, csv_stem, rows in tables:
        log_table(f'{name}{title_suffix}:', rows, logger)
        if output_dir:
            paths.append(osp.join(output_dir, f'{csv_stem}{file_suffix}.csv'))
            write_csv(paths[-1], rows, logger)
    return paths
