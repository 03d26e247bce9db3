from .hvc import HVC

__all__ = ['HVC']
