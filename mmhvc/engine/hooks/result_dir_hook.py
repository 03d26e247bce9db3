import os.path as osp

from mmengine.hooks import Hook

from mmhvc.registry import HOOKS


@HOOKS.register_module()
class ResultDirHook(Hook):
    """Point the evaluation metrics' ``output_dir`` at this run's folder.

    Every run of the test (or validation) loop writes its masks, CSV files
    and submission archives below ``<work_dir>/<timestamp>/<sub_dir>``, the
    folder of the run's log, so that re-running on an existing work dir never
    mixes old and new results. Metrics whose ``output_dir`` is already set in
    the config are left alone.

    Args:
        sub_dir: Folder name inside the run's log dir.
    """

    priority = 'VERY_HIGH'

    def __init__(self, sub_dir: str = 'results') -> None:
        self.sub_dir = sub_dir

    def _set_output_dirs(self, runner, evaluator) -> None:
        for metric in evaluator.metrics:
            if hasattr(metric, 'output_dir') and metric.output_dir is None:
                metric.output_dir = osp.join(runner.log_dir, self.sub_dir)

    def before_val(self, runner) -> None:
        self._set_output_dirs(runner, runner.val_loop.evaluator)

    def before_test(self, runner) -> None:
        self._set_output_dirs(runner, runner.test_loop.evaluator)
