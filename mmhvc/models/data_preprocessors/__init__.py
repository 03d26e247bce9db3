from .hvc_data_preprocessor import HVCDataPreprocessor

__all__ = ['HVCDataPreprocessor']
