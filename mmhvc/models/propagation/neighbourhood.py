"""The spatial neighbourhood of a query position in label propagation.

A key at grid offset ``(dy, dx) = (y' - y, x' - x)`` from a query is a
candidate of that query (in a radius-restricted frame) iff it lies in the
query's neighbourhood:

- ``'disc'`` (CRW, HVC): the strict Euclidean disc
  ``dy**2 + dx**2 < radius**2``. It reaches ``ceil(radius) - 1`` cells in
  each direction: radius 12 reaches 11 cells, a 23 x 23 bounding box.
- ``'square'`` (DINO's ``size_mask_neighborhood``): the inclusive square
  ``max(|dy|, |dx|) <= radius``. It reaches ``floor(radius)`` cells in
  each direction: radius 12 reaches 12 cells, 25 x 25 cells.

Both backends and their tests take the geometry from here.
"""
import math

from torch import Tensor

NEIGHBOURHOODS = ('disc', 'square')


def check_neighbourhood(shape: str) -> str:
    """``shape`` if it is one of :data:`NEIGHBOURHOODS`, else a
    ``ValueError`` naming them."""
    if shape not in NEIGHBOURHOODS:
        raise ValueError(f'neighbourhood must be one of {NEIGHBOURHOODS}, '
                         f'got {shape!r}')
    return shape


class Neighbourhood:
    """The cells within ``radius`` of a query, as a disc or a square (see
    the module docstring).

    Args:
        shape: ``'disc'`` or ``'square'``.
        radius: Disc radius (strict) or half side of the square (inclusive)
            in feature cells.
    """

    def __init__(self, shape: str = 'disc', radius: float = 12.) -> None:
        self.shape = check_neighbourhood(shape)
        self.radius = float(radius)
        if shape == 'disc':
            self.reach = math.ceil(self.radius) - 1
        else:
            self.reach = math.floor(self.radius)

    def half_width(self, dy: int) -> int:
        """Largest ``dx >= 0`` with ``(dy, dx)`` inside, or -1 if the row
        offset ``dy`` is beyond the reach."""
        if abs(dy) > self.reach:
            return -1
        if self.shape == 'square':
            return self.reach
        dx = 0
        while dy * dy + (dx + 1)**2 < self.radius**2:
            dx += 1
        return dx

    def contains(self, dy: Tensor, dx: Tensor) -> Tensor:
        """Whether the integer offsets ``dy``, ``dx`` (broadcastable
        tensors) lie inside: a bool tensor of their broadcast shape."""
        if self.shape == 'square':
            return (dy.abs() <= self.radius) & (dx.abs() <= self.radius)
        return dy * dy + dx * dx < self.radius**2

    def __repr__(self) -> str:
        return f'Neighbourhood({self.shape!r}, radius={self.radius:g})'
