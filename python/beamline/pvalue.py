"""PCollections and what DoFns read and emit besides elements: side-input
views (``AsSingleton``, ``AsIter``, ``AsList``, ``AsDict``, ``AsMultiMap``),
``TaggedOutput`` and ``Row``."""

__all__ = [
    "PValue", "PBegin", "PCollection", "PDone", "TaggedOutput", "DoOutputsTuple", "AsSideInput", "AsSingleton",
    "AsIter", "AsList", "AsDict", "AsMultiMap", "Row",
]


class PValue:
    """Something transforms take or give."""

    def __init__(self, pipeline):
        self.pipeline = pipeline

    def __or__(self, transform):
        return self.pipeline.apply(transform, self)

    def apply(self, transform, label=None):
        return self.pipeline.apply(transform, self, label)


class PBegin(PValue):
    """The input of root transforms (``p | Create(...)``)."""

    def __repr__(self):
        return "PBegin(%r)" % (self.pipeline,)


class PDone(PValue):
    """What a transform with no output gives."""


class PCollection(PValue):
    """A collection of elements, possibly very large, built by the pipeline."""

    def __init__(self, pipeline, native_id, producer_label=None, element_type=None):
        super().__init__(pipeline)
        self._id = native_id
        self.producer = producer_label
        self._element_type_fn = None
        self.element_type = element_type
        self.windowing = None

    @property
    def element_type(self):
        """The type hint of the elements (``None`` when unknown)."""
        if self._element_type_fn is not None:
            fn, self._element_type_fn = self._element_type_fn, None
            self._element_type = fn()
        return self._element_type

    @element_type.setter
    def element_type(self, value):
        self._element_type_fn = None
        self._element_type = value

    def _infer_element_type_later(self, fn):
        """Sets the element type to ``fn()``, computed when first read (inference can cost
        a pass over a large ``Create``'s values; most pipelines never ask)."""
        self._element_type = None
        self._element_type_fn = fn

    def _element_type_known(self):
        return self._element_type is not None or self._element_type_fn is not None

    @property
    def tag(self):
        return self._id.rsplit(".", 1)[-1]

    @property
    def is_bounded(self):
        """Whether the collection is finite (as the Rust pipeline knows it)."""
        return self.pipeline._native.is_bounded(self._id)

    def __repr__(self):
        return "PCollection[%s]" % self._id

    def __reduce__(self):
        raise TypeError("a PCollection cannot be pickled: read it in a DoFn as a side input (AsList, AsSingleton, ...)")


class TaggedOutput:
    """An output of a DoFn to the tagged output ``tag`` (declared with ``with_outputs``)."""

    __slots__ = ("tag", "value")

    def __init__(self, tag, value):
        if not isinstance(tag, str):
            raise TypeError("Attempting to create a TaggedOutput with non-string tag %s" % (tag,))
        self.tag = tag
        self.value = value

    def __repr__(self):
        return "TaggedOutput(%r, %r)" % (self.tag, self.value)

    def __reduce__(self):
        return (TaggedOutput, (self.tag, self.value))


class DoOutputsTuple:
    """The outputs of ``ParDo(...).with_outputs(...)``: by attribute, by key, or unpacked (main first)."""

    def __init__(self, main_tag, main, tagged):
        self._main_tag = main_tag
        self._main = main
        self._tagged = dict(tagged)

    def __iter__(self):
        # As Beam's: the main output only when it has a tag, then the tagged ones.
        if self._main_tag is not None:
            yield self._main
        for pc in self._tagged.values():
            yield pc

    def __len__(self):
        return (self._main_tag is not None) + len(self._tagged)

    def __getitem__(self, tag):
        if isinstance(tag, int):
            tag = str(tag)  # Partition's outputs are tagged "0", "1", ...
        if tag is None or tag == self._main_tag:
            return self._main
        if tag not in self._tagged:
            raise ValueError("Tag %r is neither the main tag %r nor any of the tags %s" % (tag, self._main_tag, list(self._tagged)))
        return self._tagged[tag]

    def __getattr__(self, tag):
        if tag.startswith("_"):
            raise AttributeError(tag)
        try:
            return self[tag]
        except ValueError as e:
            raise AttributeError(str(e)) from None

    def __repr__(self):
        return "<DoOutputsTuple main_tag=%r tags=%s>" % (self._main_tag, list(self._tagged))


class AsSideInput:
    """A PCollection read whole by a DoFn, per window."""

    _kind = None

    def __init__(self, pcoll):
        if not isinstance(pcoll, PCollection):
            raise TypeError("%s takes a PCollection, got %r" % (type(self).__name__, pcoll))
        self.pvalue = pcoll

    def _default(self):
        return (False, None)


class AsSingleton(AsSideInput):
    """The window's single element (or ``default_value`` when it has none)."""

    _kind = "singleton"
    _NO_DEFAULT = object()

    def __init__(self, pcoll, default_value=_NO_DEFAULT):
        super().__init__(pcoll)
        self.default_value = default_value

    def _default(self):
        if self.default_value is AsSingleton._NO_DEFAULT:
            return (False, None)
        return (True, self.default_value)


class AsIter(AsSideInput):
    """The window's elements, iterable."""

    _kind = "iter"


class AsList(AsSideInput):
    """The window's elements as a list."""

    _kind = "list"


class AsDict(AsSideInput):
    """The window's key-value pairs as a dict."""

    _kind = "dict"


class AsMultiMap(AsSideInput):
    """The window's key-value pairs as a dict of lists."""

    _kind = "multimap"


class Row:
    """A record with named fields: ``Row(name='a', count=3)``."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    def as_dict(self):
        return dict(self.__dict__)

    def _asdict(self):
        return dict(self.__dict__)

    def __iter__(self):
        return iter(self.__dict__.values())

    def __len__(self):
        return len(self.__dict__)

    def __getitem__(self, i):
        return list(self.__dict__.values())[i]

    def __hash__(self):
        return hash(tuple(self.__dict__.items()))

    def __eq__(self, other):
        return type(self) is type(other) and self.__dict__ == other.__dict__ and list(self.__dict__) == list(other.__dict__)

    def __repr__(self):
        return "Row(%s)" % ", ".join("%s=%r" % kv for kv in self.__dict__.items())

    def __reduce__(self):
        return (_make_row, (list(self.__dict__.items()),))


def _make_row(items):
    return Row(**dict(items))
