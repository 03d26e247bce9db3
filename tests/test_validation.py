import pytest

from mmhvc.validation import check_at_least, check_positive


def test_check_positive_returns_accepted_value():
    assert check_positive('temperature', 0.5) == 0.5
    assert check_positive('fps', 3) == 3


@pytest.mark.parametrize('value', [0, -1, -0.25])
def test_check_positive_names_argument_and_value(value):
    with pytest.raises(ValueError) as info:
        check_positive('temperature', value)
    assert str(info.value) == f'temperature must be > 0, got {value}'


def test_check_at_least_accepts_the_minimum():
    assert check_at_least('chunk_rows', 1, 1) == 1
    assert check_at_least('num_pairs', 0, 0) == 0
    assert check_at_least('radius', 2.5, 0) == 2.5


def test_check_at_least_names_argument_minimum_and_value():
    with pytest.raises(ValueError) as info:
        check_at_least('chunk_rows', 0, 1)
    assert str(info.value) == 'chunk_rows must be >= 1, got 0'
    with pytest.raises(ValueError, match=r'^num_pairs must be >= 0, got -1$'):
        check_at_least('num_pairs', -1, 0)
