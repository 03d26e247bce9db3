from .config_check import (check_top_level_keys, explain_build_error,
                           load_tool_config)
from .dist import setup_cpu_distributed
from .resume import (check_resume_checkpoint, find_resume_checkpoint,
                     is_complete_checkpoint)
from .setup_env import register_all_modules

__all__ = [
    'check_resume_checkpoint',
    'check_top_level_keys', 'explain_build_error', 'find_resume_checkpoint',
    'is_complete_checkpoint', 'load_tool_config', 'register_all_modules',
    'setup_cpu_distributed'
]
