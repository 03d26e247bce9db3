from .video_test_loop import (VideoTestLoop, check_fingerprint,
                              evaluation_fingerprint, find_latest_run)

__all__ = [
    'VideoTestLoop', 'check_fingerprint', 'evaluation_fingerprint',
    'find_latest_run'
]
