import pytest
from reliability_utils import write_tiny_train_config


@pytest.fixture(scope='session')
def tiny_train_config(tmp_path_factory) -> str:
    """Path of the tiny HVC training config (see
    :func:`reliability_utils.write_tiny_train_config`)."""
    return write_tiny_train_config(str(tmp_path_factory.mktemp('train')))
