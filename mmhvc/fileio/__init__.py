from .atomic import (atomic_dir, atomic_path, atomic_torch_save, atomic_write_bytes,
                     atomic_write_text, commit_file, fsync_path,
                     remove_temporaries, temp_path)
from .video_io import (IMAGE_EXTENSIONS, check_rgb, count_frames,
                       is_image_file, iter_frames, list_frames, read_image,
                       write_image, write_video)

__all__ = [
    'atomic_dir', 'atomic_path', 'atomic_torch_save', 'atomic_write_bytes',
    'atomic_write_text', 'commit_file', 'fsync_path', 'remove_temporaries',
    'temp_path',
    'IMAGE_EXTENSIONS', 'check_rgb', 'count_frames', 'is_image_file',
    'iter_frames', 'list_frames', 'read_image', 'write_image', 'write_video'
]
