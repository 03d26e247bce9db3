"""Checks of numeric arguments whose errors name the argument and value.

Each check returns the value it accepts, so a constructor can check and
store an argument in one statement::

    self.chunk_rows = check_at_least('chunk_rows', chunk_rows, 1)
"""
from typing import TypeVar

Number = TypeVar('Number', int, float)


def check_positive(name: str, value: Number) -> Number:
    """Return ``value`` if it is greater than 0.

    Args:
        name: The argument's name, used in the error.
        value: The number to check.

    Raises:
        ValueError: ``'<name> must be > 0, got <value>'``.
    """
    if value <= 0:
        raise ValueError(f'{name} must be > 0, got {value}')
    return value


def check_at_least(name: str, value: Number, minimum: Number) -> Number:
    """Return ``value`` if it is ``minimum`` or more.

    Args:
        name: The argument's name, used in the error.
        value: The number to check.
        minimum: The smallest accepted value.

    Raises:
        ValueError: ``'<name> must be >= <minimum>, got <value>'``.
    """
    if value < minimum:
        raise ValueError(f'{name} must be >= {minimum}, got {value}')
    return value
