from .checkpoint import (checkpoint_safe_globals,
                         register_checkpoint_safe_globals)
from .config_check import (check_top_level_keys, explain_build_error,
                           load_tool_config)
from .dist import setup_cpu_distributed
from .model_weights import load_model_weights
from .resume import (check_resume_checkpoint, find_resume_checkpoint,
                     is_complete_checkpoint)
from .setup_env import register_all_modules

__all__ = [
    'check_resume_checkpoint',
    'check_top_level_keys', 'checkpoint_safe_globals',
    'explain_build_error', 'find_resume_checkpoint', 'load_tool_config', 'is_complete_checkpoint',
    'load_model_weights', 'register_all_modules',
    'register_checkpoint_safe_globals', 'setup_cpu_distributed'
]
