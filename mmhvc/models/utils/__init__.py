from .ema import CosineEMA

__all__ = ['CosineEMA']
