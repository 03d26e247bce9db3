from .checkpoint import (checkpoint_safe_globals,
                         register_checkpoint_safe_globals)
from .dist import setup_cpu_distributed
from .setup_env import register_all_modules

__all__ = [
    'checkpoint_safe_globals', 'register_all_modules',
    'register_checkpoint_safe_globals', 'setup_cpu_distributed'
]
