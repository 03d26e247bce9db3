import mmengine
from mmengine.utils import digit_version

from .version import __version__, version_info

MMENGINE_MIN, MMENGINE_MAX = '0.10.0', '1.0.0'
MMCV_MIN, MMCV_MAX = '2.0.0', '2.2.0'


def _check_versions() -> None:
    """Fail early, and say what to install, when a dependency does not fit."""
    version = digit_version(mmengine.__version__)
    if not digit_version(MMENGINE_MIN) <= version < digit_version(MMENGINE_MAX):
        raise ImportError(
            f'mmengine {mmengine.__version__} is installed, but mmhvc needs '
            f'mmengine>={MMENGINE_MIN},<{MMENGINE_MAX}. Run: '
            f'pip install "mmengine>={MMENGINE_MIN},<{MMENGINE_MAX}"')
    try:
        import mmcv
    except ImportError as e:
        raise ImportError(
            'mmhvc needs mmcv (full, with ops, >=2.0.0,<2.2.0). Run '
            '`bash tools/setup_env.sh`, or `pip install --no-build-isolation '
            '"mmcv>=2.0.0,<2.2.0"` in an environment that already has torch.'
        ) from e
    version = digit_version(mmcv.__version__)
    if not digit_version(MMCV_MIN) <= version < digit_version(MMCV_MAX):
        raise ImportError(
            f'mmcv {mmcv.__version__} is installed, but mmhvc needs '
            f'mmcv>={MMCV_MIN},<{MMCV_MAX} (mmsegmentation 1.2.2 asserts '
            f'mmcv<2.2.0). Run: pip install --no-build-isolation '
            f'"mmcv>={MMCV_MIN},<{MMCV_MAX}"')


_check_versions()

from .checkpoint import register_checkpoint_safe_globals  # noqa: E402

register_checkpoint_safe_globals()

__all__ = ['__version__', 'version_info']
