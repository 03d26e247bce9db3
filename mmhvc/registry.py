"""Registries of the ``mmhvc`` scope.

The children of MMEngine's root registries that hold mmhvc modules import
their ``locations`` on first use, so with ``default_scope = 'mmhvc'`` in a
config no explicit import is needed. The children after them hold nothing:
MMEngine's Runner builds its runners, loops, optimizers, schedulers, log
processors, visualizers and model wrappers through the root registries
under the default scope, and an ``mmhvc`` child is where it looks; it finds
MMEngine's classes through the child's parent, without a warning that the
scope is missing.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import \
    WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry


def _child(parent: Registry, *locations: str) -> Registry:
    """The child of MMEngine's root registry ``parent`` in the mmhvc scope.

    Args:
        parent: A root registry of MMEngine, e.g. its ``MODELS``; the child
            takes its name.
        locations: Packages that register into the child, imported the
            first time it is searched.
    """
    return Registry(
        parent.name, parent=parent, scope='mmhvc', locations=list(locations))


DATASETS = _child(MMENGINE_DATASETS, 'mmhvc.datasets')
DATA_SAMPLERS = _child(MMENGINE_DATA_SAMPLERS, 'mmhvc.datasets')
TRANSFORMS = _child(MMENGINE_TRANSFORMS, 'mmhvc.datasets')
MODELS = _child(MMENGINE_MODELS, 'mmhvc.models')
# Label codecs of the propagation model: masks, keypoints (an mmhvc root).
LABEL_CODECS = Registry(
    'label codec', locations=['mmhvc.models.propagation.codecs'])
HOOKS = _child(MMENGINE_HOOKS, 'mmhvc.engine')
METRICS = _child(MMENGINE_METRICS, 'mmhvc.evaluation')

# Scope nodes for the Runner's own parts ...
RUNNERS, LOOPS, LOG_PROCESSORS, VISUALIZERS, VISBACKENDS = map(
    _child, (MMENGINE_RUNNERS, MMENGINE_LOOPS, MMENGINE_LOG_PROCESSORS,
             MMENGINE_VISUALIZERS, MMENGINE_VISBACKENDS))
# ... for the optimisation ...
OPTIMIZERS, OPTIM_WRAPPERS, OPTIM_WRAPPER_CONSTRUCTORS, PARAM_SCHEDULERS = map(
    _child, (MMENGINE_OPTIMIZERS, MMENGINE_OPTIM_WRAPPERS,
             MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, MMENGINE_PARAM_SCHEDULERS))
# ... and around the model and its evaluation.
MODEL_WRAPPERS, WEIGHT_INITIALIZERS, EVALUATOR = map(
    _child, (MMENGINE_MODEL_WRAPPERS, MMENGINE_WEIGHT_INITIALIZERS,
             MMENGINE_EVALUATOR))
