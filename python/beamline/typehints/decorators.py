"""``with_input_types`` and ``with_output_types``: type hints on functions,
DoFn and CombineFn classes (as decorators) and on transforms (as methods).
Beamline checks them when the pipeline is built, as Beam does, and picks
coders from them (``beam.coders.registry``)."""

from beamline.typehints import typehints

__all__ = ["TypeCheckError", "with_input_types", "with_output_types", "WithTypeHints", "get_type_hints",
           "annotation_hints"]

_ATTR = "_beamline_type_hints"


class TypeCheckError(Exception):
    """A pipeline whose types do not fit, found when it is built."""


class IOTypeHints:
    """Declared input (positional and keyword) and output hints."""

    def __init__(self, input_types=None, output_types=None):
        self.input_types = input_types  # ((args...), {kwargs}) or None
        self.output_types = output_types  # ((hint,), {}) or None

    def with_input_types(self, *args, **kwargs):
        return IOTypeHints((args, kwargs), self.output_types)

    def with_output_types(self, *args, **kwargs):
        return IOTypeHints(self.input_types, (args, kwargs))

    def simple_input(self):
        """The hint of the first (element) argument, or None."""
        if self.input_types and self.input_types[0]:
            return typehints.normalize(self.input_types[0][0])
        return None

    def simple_output(self):
        if self.output_types and self.output_types[0]:
            return typehints.normalize(self.output_types[0][0])
        return None

    def __repr__(self):
        return "IOTypeHints[inputs=%s, outputs=%s]" % (self.input_types, self.output_types)


def get_type_hints(obj):
    """The hints declared on ``obj`` (a function, class or instance)."""
    hints = getattr(obj, _ATTR, None)
    if hints is None and not isinstance(obj, type):
        hints = getattr(type(obj), _ATTR, None)
    return hints if isinstance(hints, IOTypeHints) else IOTypeHints()


def annotation_hints(fn, skip_self=False):
    """``(element hint, return hint)`` from ``fn``'s annotations (``None`` where
    absent), as Beam reads ``def f(x: int) -> str``."""
    import inspect
    import typing

    if fn is None or isinstance(fn, type) or not callable(fn):
        return None, None
    try:
        sig = inspect.signature(fn)
        resolved = typing.get_type_hints(fn)
    except Exception:  # noqa: BLE001 - a builtin, or annotations that do not resolve: no hints
        return None, None
    params = list(sig.parameters.values())
    if skip_self and params and params[0].name == "self":
        params = params[1:]
    element = None
    if params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        element = resolved.get(params[0].name)
    ret = resolved.get("return")
    return (typehints.normalize(element) if element is not None else None,
            typehints.normalize(ret) if ret is not None else None)


def _set(obj, hints):
    try:
        setattr(obj, _ATTR, hints)
    except (AttributeError, TypeError) as e:
        raise TypeError("cannot attach type hints to %r: %s" % (obj, e)) from None
    return obj


def _validate(hint):
    n = typehints.normalize(hint)
    if not (isinstance(n, (type, typehints.TypeConstraint))):
        raise TypeError("%r is not a type hint: use a class or a typehints constraint (int, str, KV[str, int], ...)"
                        % (hint,))
    return hint


def with_input_types(*positional_hints, **keyword_hints):
    """Declares the types of a function's or DoFn's inputs: ``@with_input_types(int)``."""
    for h in list(positional_hints) + list(keyword_hints.values()):
        _validate(h)

    def annotate(f):
        return _set(f, get_type_hints(f).with_input_types(*positional_hints, **keyword_hints))

    return annotate


def with_output_types(*return_type_hint, **kwargs):
    """Declares the type of what a function or DoFn gives: ``@with_output_types(str)``."""
    if kwargs:
        raise ValueError("All with_output_types arguments must be positional: %s" % (kwargs,))
    if len(return_type_hint) != 1:
        raise ValueError("with_output_types() takes exactly one type hint, got %d" % len(return_type_hint))
    _validate(return_type_hint[0])

    def annotate(f):
        return _set(f, get_type_hints(f).with_output_types(*return_type_hint))

    return annotate


class WithTypeHints:
    """A mixin: ``with_input_types``/``with_output_types`` as methods that return self."""

    def _get_or_create_type_hints(self):
        hints = self.__dict__.get(_ATTR)
        if hints is None:
            hints = get_type_hints(type(self))
        return hints

    def get_type_hints(self):
        return self._get_or_create_type_hints()

    def with_input_types(self, *arg_hints, **kwarg_hints):
        for h in list(arg_hints) + list(kwarg_hints.values()):
            _validate(h)
        self.__dict__[_ATTR] = self._get_or_create_type_hints().with_input_types(*arg_hints, **kwarg_hints)
        return self

    def with_output_types(self, *arg_hints, **kwarg_hints):
        if len(arg_hints) != 1 or kwarg_hints:
            raise ValueError("with_output_types() takes exactly one type hint")
        _validate(arg_hints[0])
        self.__dict__[_ATTR] = self._get_or_create_type_hints().with_output_types(*arg_hints)
        return self
