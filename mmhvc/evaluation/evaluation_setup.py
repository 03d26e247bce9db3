"""The settings ``tools/test.py`` adds to a config: the up-front data check
and resumable runs."""
import os.path as osp
from typing import Optional

from mmengine.config import Config
from mmengine.logging import print_log

from mmhvc.datasets.base_video_dataset import BaseVideoDataset
from mmhvc.evaluation.evaluation_run import (check_fingerprint,
                                             completed_sequences,
                                             evaluation_fingerprint,
                                             find_latest_run, read_run_file)
from mmhvc.registry import DATASETS

RESULT_DIR_HOOK = 'ResultDirHook'


def _is_video_dataset(dataset_cfg: dict) -> bool:
    """Whether a dataset config builds a :class:`BaseVideoDataset`."""
    dataset_type = dataset_cfg.get('type')
    if isinstance(dataset_type, str):
        dataset_type = DATASETS.get(dataset_type)
    return isinstance(dataset_type, type) and issubclass(
        dataset_type, BaseVideoDataset)


def _result_dir_hook(cfg: Config) -> Optional[dict]:
    """The ``ResultDirHook`` entry of ``custom_hooks``, if any."""
    for hook in cfg.get('custom_hooks') or []:
        hook_type = hook.get('type')
        name = hook_type if isinstance(hook_type, str) else getattr(
            hook_type, '__name__', None)
        if name == RESULT_DIR_HOOK:
            return hook
    return None


def setup_evaluation_run(cfg: Config,
                         checkpoint: str,
                         resume: bool = False) -> Optional[str]:
    """Add the data check and the resume settings to a test config.

    - The test dataset, when it is a :class:`BaseVideoDataset`, checks its
      files before anything is propagated (``check_files=True``).
    - The ``ResultDirHook`` gets the evaluation's fingerprint (see
      :func:`~mmhvc.evaluation.evaluation_run.evaluation_fingerprint`),
      which the run stores in its folder.
    - With ``resume``, the latest run folder of ``cfg.work_dir`` holding an
      ``evaluation_run.json`` is continued: after checking that it
      evaluated the same config and checkpoint, the dataset skips the
      sequences it completed (``filter_cfg.skip_sequences``), the hook
      continues its folder (``run_dir``), and a relative ``out_dir`` of
      the visualisation hook is taken inside it. Without such a folder, a
      new run starts.

    Args:
        cfg: The loaded config, changed in place; its ``work_dir`` is set.
        checkpoint: The checkpoint evaluated.
        resume: Continue the latest run.

    Returns:
        The run folder continued, or None for a new run.

    Raises:
        ValueError: With ``resume``, the run to continue evaluated another
            config or checkpoint, or the config has no ``ResultDirHook``
            or no video dataset.
    """
    fingerprint = evaluation_fingerprint(cfg, checkpoint)
    dataset_cfg = cfg.test_dataloader.dataset
    video_dataset = _is_video_dataset(dataset_cfg)
    if video_dataset:
        dataset_cfg['check_files'] = True
    hook = _result_dir_hook(cfg)
    if hook is not None:
        hook['fingerprint'] = fingerprint
    if not resume:
        return None
    if hook is None or not video_dataset:
        raise ValueError(
            '--resume needs a ResultDirHook in custom_hooks (see '
            'configs/_base_/propagation_runtime.py) and a video dataset '
            f'(BaseVideoDataset), got test dataset {dataset_cfg.get("type")}')
    run_dir = find_latest_run(cfg.work_dir)
    if run_dir is None:
        print_log(
            f'--resume: no evaluation run in {cfg.work_dir} to continue; '
            'starting a new one.',
            logger='current')
        return None
    run = read_run_file(run_dir)
    check_fingerprint(run_dir, run, fingerprint)
    filter_cfg = dict(dataset_cfg.get('filter_cfg') or {})
    filter_cfg['skip_sequences'] = completed_sequences(run_dir, run)
    dataset_cfg['filter_cfg'] = filter_cfg
    if len(filter_cfg['skip_sequences']) == len(run['sequences']):
        # Nothing is left to propagate, and MMEngine cannot serialise an
        # empty data list; the metrics still report every sequence.
        dataset_cfg['serialize_data'] = False
    hook['run_dir'] = run_dir
    visualization = (cfg.get('default_hooks') or {}).get('visualization')
    if visualization and visualization.get('out_dir') and not osp.isabs(
            visualization['out_dir']):
        visualization['out_dir'] = osp.join(run_dir, visualization['out_dir'])
    return run_dir
