"""Register the HVC backbone in mmsegmentation's model registry.

Any mmsegmentation config can build the HVC encoder by its scoped name::

    custom_imports = dict(imports=['mmhvc.models'], allow_failed_imports=False)
    model = dict(backbone=dict(type='mmhvc.HVCResNet', ...))

because ``mmhvc.registry.MODELS`` is a child of MMEngine's root ``MODELS``
with scope ``mmhvc``, and a scoped look-up from mmseg's registry is resolved
through that root. mmseg's registry does not search its sibling registries
for an *unscoped* name, so ``type='HVCResNet'`` needs this module as well::

    custom_imports = dict(
        imports=['mmhvc.models', 'mmhvc.models.mmseg_compat'],
        allow_failed_imports=False)

which adds :class:`HVCResNet` to ``mmseg.registry.MODELS`` under its class
name. ``mmhvc`` never imports this module itself, so it keeps working where
mmsegmentation is not installed; importing it there raises an ImportError
that says what to install.
"""
from typing import Tuple, Type

try:
    from mmseg.registry import MODELS as MMSEG_MODELS
except ImportError as e:
    raise ImportError(
        'mmhvc.models.mmseg_compat registers the HVC backbone in '
        'mmsegmentation, which is not installed. Run `pip install '
        '"mmsegmentation>=1.0.0,<1.3.0"` (it needs the full mmcv with ops, '
        '>=2.0.0,<2.2.0; see tools/setup_env.sh).') from e

from .backbones import HVCResNet

MMSEG_BACKBONES: Tuple[Type, ...] = (HVCResNet, )


def register_mmseg_modules() -> None:
    """Add :data:`MMSEG_BACKBONES` to mmseg's ``MODELS`` (idempotent).

    Raises:
        KeyError: mmseg's registry already holds a different class under
            one of the names.
    """
    for module in MMSEG_BACKBONES:
        name = module.__name__
        registered = MMSEG_MODELS.module_dict.get(name)
        if registered is None:
            MMSEG_MODELS.register_module(name=name, module=module)
        elif registered is not module:
            raise KeyError(
                f'mmseg.registry.MODELS already holds a different "{name}" '
                f'({registered.__module__}); use type="mmhvc.{name}" to '
                'build the HVC backbone.')


register_mmseg_modules()
