from .atomic import (atomic_path, atomic_torch_save, atomic_write_bytes,
                     atomic_write_text, commit_file, fsync_path, temp_path)

__all__ = [
    'atomic_path', 'atomic_torch_save', 'atomic_write_bytes',
    'atomic_write_text', 'commit_file', 'fsync_path', 'temp_path'
]
