"""The ``mmhvc`` scope in MMEngine's registry trees."""
import logging

import pytest
import torch
from mmengine import registry as root
from mmengine.logging import MMLogger
from mmengine.optim import ConstantLR, OptimWrapper
from mmengine.registry import DefaultScope
from mmengine.runner import LogProcessor

from mmhvc import registry

#: Child registry of mmhvc -> MMEngine's root registry it hangs under.
CHILDREN = {
    'DATASETS': root.DATASETS,
    'DATA_SAMPLERS': root.DATA_SAMPLERS,
    'TRANSFORMS': root.TRANSFORMS,
    'MODELS': root.MODELS,
    'HOOKS': root.HOOKS,
    'METRICS': root.METRICS,
    'RUNNERS': root.RUNNERS,
    'LOOPS': root.LOOPS,
    'LOG_PROCESSORS': root.LOG_PROCESSORS,
    'VISUALIZERS': root.VISUALIZERS,
    'VISBACKENDS': root.VISBACKENDS,
    'OPTIMIZERS': root.OPTIMIZERS,
    'OPTIM_WRAPPERS': root.OPTIM_WRAPPERS,
    'OPTIM_WRAPPER_CONSTRUCTORS': root.OPTIM_WRAPPER_CONSTRUCTORS,
    'PARAM_SCHEDULERS': root.PARAM_SCHEDULERS,
    'MODEL_WRAPPERS': root.MODEL_WRAPPERS,
    'WEIGHT_INITIALIZERS': root.WEIGHT_INITIALIZERS,
    'EVALUATOR': root.EVALUATOR,
}


@pytest.mark.parametrize('name', sorted(CHILDREN))
def test_children_hang_under_the_roots_in_the_mmhvc_scope(name):
    child = getattr(registry, name)
    assert child.scope == 'mmhvc' and child.name == CHILDREN[name].name
    assert CHILDREN[name]._search_child('mmhvc') is child


def test_locations_are_the_packages_that_register():
    assert registry.DATASETS._locations == ['mmhvc.datasets']
    assert registry.DATA_SAMPLERS._locations == ['mmhvc.datasets']
    assert registry.TRANSFORMS._locations == ['mmhvc.datasets']
    assert registry.MODELS._locations == ['mmhvc.models']
    assert registry.HOOKS._locations == ['mmhvc.engine']
    assert registry.METRICS._locations == ['mmhvc.evaluation']
    assert registry.LOOPS._locations == []


class _Records(logging.Handler):

    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_runner_parts_build_in_the_mmhvc_scope_without_warnings():
    handler = _Records()
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    scope = DefaultScope.get_instance(
        'test_registry_scope', scope_name='mmhvc')
    try:
        with DefaultScope.overwrite_default_scope(scope.scope_name):
            param = torch.nn.Parameter(torch.zeros(2))
            wrapper = root.OPTIM_WRAPPERS.build(
                dict(
                    type='OptimWrapper',
                    optimizer=root.OPTIMIZERS.build(
                        dict(type='SGD', lr=0.1, params=[param]))))
            scheduler = root.PARAM_SCHEDULERS.build(
                dict(type='ConstantLR', optimizer=wrapper, factor=0.5))
            log_processor = root.LOG_PROCESSORS.build(
                dict(type='LogProcessor'))
    finally:
        logger.removeHandler(handler)
    assert isinstance(wrapper, OptimWrapper)
    assert wrapper.optimizer.param_groups[0]['lr'] == pytest.approx(0.05)
    assert isinstance(scheduler, ConstantLR)
    assert isinstance(log_processor, LogProcessor)
    assert not [m for m in handler.messages if 'Failed to search' in m]
