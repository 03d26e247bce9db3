from .hvc_data_preprocessor import HVCDataPreprocessor
from .video_data_preprocessor import VideoDataPreprocessor

__all__ = ['HVCDataPreprocessor', 'VideoDataPreprocessor']
