"""The dense loss oracle that the tests and benchmarks check the chunked loss
against.

Nothing here runs at training or inference time, and no runtime module
imports this package.
"""
from .dense_loss import DenseHybridCorrespondenceLoss

__all__ = ['DenseHybridCorrespondenceLoss']
