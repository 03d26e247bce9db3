"""Training curves: scalars of MMEngine json logs over the iterations.

The records come from :func:`mmhvc.fileio.train_log.load_scalar_log`; each
panel of the figure is one scalar, each line one log, the x axis the
1-based training iteration (``step``).
"""
from typing import Optional, Sequence

from mmhvc.fileio.train_log import Record, scalar_series


def plot_scalar_curves(logs: Sequence[Sequence[Record]],
                       keys: Sequence[str],
                       out: str,
                       legend: Optional[Sequence[str]] = None,
                       title: Optional[str] = None,
                       sources: Optional[Sequence[str]] = None,
                       dpi: int = 100) -> None:
    """Plot ``keys`` over the iterations, one panel per key, one line per
    log, and save the figure (format from the ``out`` extension).

    Args:
        logs: Records of each log
            (:func:`~mmhvc.fileio.train_log.load_scalar_log`).
        keys: Scalars to plot, e.g. ``['loss', 'lr']``.
        out: Output image file.
        legend: One label per log; defaults to ``sources`` or ``log k``.
        title: Figure title.
        sources: Names of the logs for error messages.
        dpi: Resolution of the saved figure.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not logs or not keys:
        raise ValueError('plot_scalar_curves needs at least one log and key')
    sources = list(sources) if sources is not None else [
        f'log {k}' for k in range(len(logs))
    ]
    legend = list(legend) if legend is not None else sources
    if len(legend) != len(logs) or len(sources) != len(logs):
        raise ValueError(f'{len(logs)} logs but {len(legend)} legend entries')
    figure = Figure(figsize=(6, 2.2 * len(keys)), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(keys), 1, sharex=True, squeeze=False)[:, 0]
    for ax, key in zip(axes, keys):
        for records, label, source in zip(logs, legend, sources):
            steps, values = scalar_series(records, key, source)
            ax.plot(
                steps,
                values,
                label=label,
                linewidth=1.2,
                marker='.' if len(steps) < 20 else None)
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize='small')
    axes[-1].set_xlabel('iteration')
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(out)
