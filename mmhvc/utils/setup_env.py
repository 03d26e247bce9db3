import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every mmhvc module that registers components.

    Args:
        init_default_scope: Whether to make ``mmhvc`` the current default
            scope, so that registry look-ups without a scope prefix resolve
            to mmhvc first.
    """
    import mmhvc.datasets  # noqa: F401
    import mmhvc.engine  # noqa: F401
    import mmhvc.evaluation  # noqa: F401
    import mmhvc.models  # noqa: F401
    import mmhvc.visualization  # noqa: F401

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None:
        DefaultScope.get_instance('mmhvc', scope_name='mmhvc')
    elif current.scope_name != 'mmhvc':
        warnings.warn(f'The current default scope "{current.scope_name}" is '
                      'not "mmhvc"; register_all_modules switches to a new '
                      'default scope "mmhvc".')
        name = f'mmhvc-{datetime.datetime.now()}'
        DefaultScope.get_instance(name, scope_name='mmhvc')
