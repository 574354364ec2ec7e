"""Beam's utility transforms: ``Keys``, ``Values``, ``KvSwap``, ``WithKeys``,
``Reshuffle``, ``Distinct``, ``ToString``, ``Regex``, ``GroupBy`` and ``Select``.
The first ones run in Rust; ``Regex`` uses Python's ``re`` for its exact semantics."""

import re

from beamline.pvalue import Row
from beamline.transforms.core import CombinePerKey, FlatMap, GroupByKey, Map
from beamline.transforms.ptransform import PTransform, label_from_callable

__all__ = ["Keys", "Values", "KvSwap", "WithKeys", "Reshuffle", "Distinct", "RemoveDuplicates", "ToString", "Regex",
           "GroupBy", "Select"]


class _Builtin(PTransform):
    _op = None

    def _native_apply(self, pipeline, label, pcoll):
        return pipeline._pcoll(pipeline._native.builtin(label, pcoll._id, self._op), label)


class Keys(_Builtin):
    """The keys of ``(k, v)`` pairs."""

    _op = "keys"


class Values(_Builtin):
    """The values of ``(k, v)`` pairs."""

    _op = "values"


class KvSwap(_Builtin):
    """``(k, v)`` into ``(v, k)``."""

    _op = "kv_swap"


class WithKeys(PTransform):
    """``(key, element)`` with a constant key or ``key(element)``."""

    def __init__(self, k):
        super().__init__()
        self._k = k

    def expand(self, pcoll):
        k = self._k
        if callable(k):
            return pcoll | Map(lambda v: (k(v), v))
        return pcoll | Map(lambda v: (k, v))


class Reshuffle(PTransform):
    """Redistributes elements among workers (a shuffle that keeps every element)."""

    def __init__(self, num_buckets=None):
        super().__init__()

    def _native_apply(self, pipeline, label, pcoll):
        return pipeline._pcoll(pipeline._native.reshuffle(label, pcoll._id), label)


class Distinct(PTransform):
    """Each distinct element once per window."""

    def _native_apply(self, pipeline, label, pcoll):
        return pipeline._pcoll(pipeline._native.distinct(label, pcoll._id), label)


RemoveDuplicates = Distinct


class ToString:
    """Elements as strings: ``ToString.Element()``; ``ToString.Iterables()`` (and its
    alias ``ToString.Kvs()``) joins each element's items with a delimiter."""

    @staticmethod
    def Element():
        return _Str().with_label("ElementToString")

    @staticmethod
    def Iterables(delimiter=None):
        d = "," if delimiter is None else delimiter
        return Map(lambda xs: d.join(str(x) for x in xs)).with_label("IterablesToString")

    # As in Beam: an alias of Iterables.
    Kvs = Iterables
    KeyValue = Iterables


class _Str(_Builtin):
    _op = "str"


def _regex(pattern):
    return pattern if isinstance(pattern, re.Pattern) else re.compile(pattern)


class Regex:
    """Regular-expression transforms, with Python's ``re`` and Beam's outputs."""

    ALL = "__regex_all_groups"

    @staticmethod
    def matches(regex, group=0):
        """The match (``group``) at the start of each element that matches."""
        r = _regex(regex)

        def fn(s):
            m = r.match(s)
            if m:
                yield m.group(group)

        return FlatMap(fn).with_label("matches")

    @staticmethod
    def all_matches(regex):
        """Every group of the match at the start of each element, as a list."""
        r = _regex(regex)

        def fn(s):
            m = r.match(s)
            if m:
                yield [m.group(ix) for ix in range(m.lastindex + 1)]

        return FlatMap(fn).with_label("all_matches")

    @staticmethod
    def matches_kv(regex, keyGroup, valueGroup=0):
        r = _regex(regex)

        def fn(s):
            m = r.match(s)
            if m:
                yield (m.group(keyGroup), m.group(valueGroup))

        return FlatMap(fn).with_label("matches_kv")

    @staticmethod
    def find(regex, group=0):
        """The first match anywhere in each element."""
        r = _regex(regex)

        def fn(s):
            m = r.search(s)
            if m:
                yield m.group(group)

        return FlatMap(fn).with_label("find")

    @staticmethod
    def find_all(regex, group=0, outputEmpty=True):
        """One list per element of its matches; ``Regex.ALL`` gives ``(match, first group)`` pairs."""
        r = _regex(regex)

        def fn(s):
            matches = r.finditer(s)
            if group == Regex.ALL:
                yield [(m.group(), m.groups()[0]) for m in matches if outputEmpty or m.groups()[0]]
            else:
                yield [m.group(group) for m in matches if outputEmpty or m.group(group)]

        return FlatMap(fn).with_label("find_all")

    @staticmethod
    def find_kv(regex, keyGroup, valueGroup=0):
        """A key-value pair for every match in each element."""
        r = _regex(regex)

        def fn(s):
            for m in r.finditer(s):
                yield (m.group(keyGroup), m.group(valueGroup))

        return FlatMap(fn).with_label("find_kv")

    @staticmethod
    def replace_all(regex, replacement):
        r = _regex(regex)
        return Map(lambda s: r.sub(replacement, s)).with_label("replace_all")

    @staticmethod
    def replace_first(regex, replacement):
        r = _regex(regex)
        return Map(lambda s: r.sub(replacement, s, 1)).with_label("replace_first")

    @staticmethod
    def split(regex, outputEmpty=False):
        """One list per element of its parts (without empty ones unless ``outputEmpty``)."""
        r = _regex(regex)
        keep_empty = bool(outputEmpty)

        def fn(s):
            parts = r.split(s)
            if parts and not keep_empty:
                parts = [p for p in parts if p]
            yield parts

        return FlatMap(fn).with_label("split")


def _field_getter(f):
    if callable(f):
        return f
    return lambda row: getattr(row, f)


class GroupBy(PTransform):
    """Groups by fields or expressions: ``GroupBy('word')`` gives ``(key, [rows])``;
    ``.aggregate_field(field, combine_fn, dest)`` gives Rows of the key and aggregates."""

    def __init__(self, *fields, **kwargs):
        super().__init__()
        self._names = [f if isinstance(f, str) else label_from_callable(f) for f in fields] + list(kwargs)
        self._getters = [_field_getter(f) for f in fields] + [_field_getter(f) for f in kwargs.values()]
        self._aggs = []

    def default_label(self):
        return "GroupBy(%s)" % ", ".join(self._names)

    def aggregate_field(self, field, combine_fn, dest):
        self._aggs.append((_field_getter(field), combine_fn, dest))
        return self

    def _key(self):
        getters, names = self._getters, self._names
        if len(getters) == 1 and not self._aggs:
            g = getters[0]
            return g
        return lambda row: Row(**{n: g(row) for n, g in zip(names, getters)})

    def expand(self, pcoll):
        key = self._key()
        keyed = pcoll | "Key" >> Map(lambda row: (key(row), row))
        if not self._aggs:
            return keyed | "Group" >> GroupByKey()
        from beamline.transforms.combiners import _TupleCombineFn

        aggs = self._aggs
        names = [dest for _, _, dest in aggs]
        combine = _TupleCombineFn([fn for _, fn, _ in aggs])
        values = keyed | "Fields" >> Map(lambda kv: (kv[0], tuple(get(kv[1]) for get, _, _ in aggs)))
        return (values
                | "Aggregate" >> CombinePerKey(combine)
                | "ToRow" >> Map(lambda kv: Row(**dict(kv[0].as_dict(), **dict(zip(names, kv[1]))))))


class Select(PTransform):
    """Rows of chosen fields or expressions: ``Select('a', total=lambda r: r.x + r.y)``."""

    def __init__(self, *args, **kwargs):
        super().__init__()
        self._fields = [(f, _field_getter(f)) for f in args] + [(n, _field_getter(f)) for n, f in kwargs.items()]

    def expand(self, pcoll):
        fields = self._fields
        return pcoll | Map(lambda row: Row(**{n: g(row) for n, g in fields}))
