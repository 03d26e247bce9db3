from .projection import HVCProjector

__all__ = ['HVCProjector']
