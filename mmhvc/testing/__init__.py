"""Dense oracles that the tests and benchmarks check the fast code against.

Nothing here runs at training or inference time, and no runtime module
imports this package.
"""
from .dense_loss import DenseHybridCorrespondenceLoss
from .dense_propagation import dense_label_propagation

__all__ = ['DenseHybridCorrespondenceLoss', 'dense_label_propagation']
