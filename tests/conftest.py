import pytest
from mmengine import DefaultScope

from mmhvc.utils import register_all_modules


@pytest.fixture(autouse=True)
def mmhvc_default_scope():
    """Run every test in the ``mmhvc`` scope, whatever an earlier test left."""
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmhvc'):
        yield
