"""``PTransform``: composites written in Python, ``label >> transform``, and ``ptransform_fn``."""

import functools

from beamline.pvalue import PBegin, PCollection, PValue
from beamline.typehints import decorators as _decorators
from beamline.typehints import typehints as _typehints

__all__ = ["PTransform", "ptransform_fn", "label_from_callable"]


def label_from_callable(fn):
    """Beam's label for a callable: its name, or ``<lambda at file:line>``."""
    if hasattr(fn, "default_label"):
        return fn.default_label()
    name = getattr(fn, "__name__", None)
    if name == "<lambda>":
        code = getattr(fn, "__code__", None)
        if code is not None:
            import os

            return "<lambda at %s:%s>" % (os.path.basename(code.co_filename), code.co_firstlineno)
    if name:
        return name
    return str(fn)


class PTransform(_decorators.WithTypeHints):
    """A transform. Subclasses override ``expand(pcoll)`` to apply other transforms."""

    pipeline = None
    side_inputs = ()
    # For subclasses whose __init__ does not call PTransform.__init__ (Beam allows it).
    _label = None

    def __init__(self, label=None):
        self._label = label

    @property
    def label(self):
        return self._label or self.default_label()

    @label.setter
    def label(self, value):
        self._label = value

    def default_label(self):
        return type(self).__name__

    def expand(self, input_or_inputs):
        raise NotImplementedError("%s must implement expand" % type(self).__name__)

    def _check_input(self, pvalueish):
        pass

    def with_label(self, label):
        """Sets the label used when the user gives none."""
        self._label = label
        return self

    # Type hints: declared with with_input_types/with_output_types (on the
    # transform or its class), else the transform's defaults (a ParDo's come
    # from its function).
    def default_type_hints(self):
        return _decorators.IOTypeHints()

    def get_type_hints(self):
        own = self._get_or_create_type_hints()
        default = self.default_type_hints()
        return _decorators.IOTypeHints(own.input_types or default.input_types,
                                       own.output_types or default.output_types)

    def type_check_inputs(self, pvalueish):
        """Raises TypeCheckError when the input's element type does not fit the declared input hint."""
        label = self._label_in_pipeline()
        hint = self.get_type_hints().simple_input()
        if hint is None or not isinstance(pvalueish, PCollection) or pvalueish.element_type is None:
            return
        if not _typehints.is_consistent_with(pvalueish.element_type, hint):
            raise _decorators.TypeCheckError("Input type hint violation at %s: expected %s, got %s"
                                             % (label, hint, pvalueish.element_type))

    def _label_in_pipeline(self):
        """The label this transform is being applied under (``"label" >> t`` names it)."""
        return self.__dict__.get("_applying_label") or self.label

    def infer_output_type(self, input_type):
        """The element type of the output, from the input's (``Any`` when unknown)."""
        return _typehints.Any

    def with_resource_hints(self, **kwargs):
        return self

    def __rrshift__(self, label):
        return _NamedPTransform(self, label)

    def __ror__(self, left, label=None):
        pipeline = _pipeline_of(left)
        if pipeline is None:
            raise ValueError("%s is applied to %r, which holds no PCollection of a pipeline" % (self.label, left))
        from beamline.pipeline import Pipeline

        if isinstance(left, Pipeline):
            left = PBegin(left)
        return pipeline.apply(self, left, label)

    def __or__(self, right):
        return _ChainedPTransform(self, right)

    def __repr__(self):
        return "<%s>" % self.label


class _NamedPTransform(PTransform):
    def __init__(self, transform, label):
        super().__init__(label)
        self.transform = transform

    def __ror__(self, left, label=None):
        return self.transform.__ror__(left, label or self._label)

    def expand(self, pvalue):
        raise RuntimeError("should never be expanded directly")


class _ChainedPTransform(PTransform):
    """``a | b`` of two transforms: a composite applying both in turn."""

    def __init__(self, *parts):
        super().__init__()
        self._parts = parts

    def default_label(self):
        return "|".join(p.label for p in self._parts)

    def expand(self, pvalue):
        for p in self._parts:
            pvalue = pvalue | p
        return pvalue


def _pipeline_of(v):
    from beamline.pipeline import Pipeline

    if isinstance(v, Pipeline):
        return v
    if isinstance(v, PValue):
        return v.pipeline
    if isinstance(v, dict):
        v = list(v.values())
    if isinstance(v, (list, tuple)):
        for x in v:
            p = _pipeline_of(x)
            if p is not None:
                return p
    return None


class _PTransformFnPTransform(PTransform):
    def __init__(self, fn, *args, **kwargs):
        super().__init__()
        self._fn = fn
        self._args = args
        self._kwargs = kwargs

    def default_label(self):
        return self._fn.__name__

    def expand(self, pcoll):
        return self._fn(pcoll, *self._args, **self._kwargs)


def ptransform_fn(fn):
    """Turns ``def fn(pcoll, ...)`` into a transform: ``pcoll | fn(...)``."""

    @functools.wraps(fn)
    def make(*args, **kwargs):
        if args and isinstance(args[0], (PValue, tuple, list, dict)) and _pipeline_of(args[0]) is not None:
            return args[0] | _PTransformFnPTransform(fn, *args[1:], **kwargs)
        return _PTransformFnPTransform(fn, *args, **kwargs)

    return make

