"""Beam's utility transforms: ``Keys``, ``Values``, ``KvSwap``, ``WithKeys``,
``Reshuffle``, ``Distinct``, ``ToString``, ``Regex``, ``GroupBy`` and ``Select``.
The first ones run in Rust; ``Regex`` uses Python's ``re`` for its exact semantics."""

import re

from beamline.pvalue import Row
from beamline.transforms.core import CombinePerKey, DoFn, FlatMap, GroupByKey, Map, ParDo
from beamline.transforms.ptransform import PTransform, label_from_callable
from beamline.typehints import typehints as _typehints

__all__ = ["Keys", "Values", "KvSwap", "WithKeys", "Reshuffle", "Distinct", "RemoveDuplicates", "ToString", "Regex",
           "GroupBy", "Select", "GroupIntoBatches", "BatchElements"]


class _Builtin(PTransform):
    _op = None

    def _native_apply(self, pipeline, label, pcoll):
        return pipeline._pcoll(pipeline._native.builtin(label, pcoll._id, self._op), label)


class Keys(_Builtin):
    """The keys of ``(k, v)`` pairs."""

    _op = "keys"

    def infer_output_type(self, input_type):
        return _typehints.key_value_types(input_type)[0]


class Values(_Builtin):
    """The values of ``(k, v)`` pairs."""

    _op = "values"

    def infer_output_type(self, input_type):
        return _typehints.key_value_types(input_type)[1]


class KvSwap(_Builtin):
    """``(k, v)`` into ``(v, k)``."""

    _op = "kv_swap"

    def infer_output_type(self, input_type):
        k, v = _typehints.key_value_types(input_type)
        return _typehints.KV[v, k]


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

    def infer_output_type(self, input_type):
        return input_type

    def _native_apply(self, pipeline, label, pcoll):
        return pipeline._pcoll(pipeline._native.reshuffle(label, pcoll._id), label)


class Distinct(PTransform):
    """Each distinct element once per window."""

    def infer_output_type(self, input_type):
        return input_type

    def _native_apply(self, pipeline, label, pcoll):
        from beamline.transforms.core import _check_grouping, _check_key_coder

        _check_key_coder(pipeline._full_label(label) + "/Group/GroupByKey", pcoll,
                         pcoll.element_type or _typehints.Any)
        _check_grouping(pipeline, "GroupByKey", pcoll)
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


class Result(tuple):
    """A ``GroupBy(...).aggregate_field(...)`` output: a named tuple of the key
    fields and the aggregates, printed ``Result(k='a', total=3)`` as Beam's."""

    def __new__(cls, fields, values):
        self = super().__new__(cls, values)
        self._fields = tuple(fields)
        return self

    def __getattr__(self, name):
        fields = self.__dict__.get("_fields", ())
        if name in fields:
            return self[fields.index(name)]
        raise AttributeError("'Result' object has no attribute '%s'" % name)

    def _asdict(self):
        return dict(zip(self._fields, self))

    def as_dict(self):
        return self._asdict()

    def __repr__(self):
        return "Result(%s)" % ", ".join("%s=%r" % kv for kv in zip(self._fields, self))

    def __reduce__(self):
        return (Result, (self._fields, tuple(self)))


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
                | "ToResult" >> Map(lambda kv: Result(list(kv[0].as_dict()) + names,
                                                     list(kv[0].as_dict().values()) + list(kv[1]))))


class Select(PTransform):
    """Rows of chosen fields or expressions: ``Select('a', total=lambda r: r.x + r.y)``."""

    def __init__(self, *args, **kwargs):
        super().__init__()
        self._fields = [(f, _field_getter(f)) for f in args] + [(n, _field_getter(f)) for n, f in kwargs.items()]

    def expand(self, pcoll):
        fields = self._fields
        return pcoll | Map(lambda row: Row(**{n: g(row) for n, g in fields}))


class GroupIntoBatches(PTransform):
    """``(k, v)`` pairs into ``(k, [v, ...])`` batches of at most ``batch_size``
    values of one key and window. On bounded input every batch is complete but
    the last of each key and window, so ``max_buffering_duration_secs`` (how long
    an incomplete batch may wait for more elements of an unbounded input) never
    applies."""

    def __init__(self, batch_size, max_buffering_duration_secs=None, clock=None):
        super().__init__()
        assert batch_size is not None and batch_size > 0, "batch_size must be a positive value"
        max_buffering_duration_secs = 0 if max_buffering_duration_secs is None else max_buffering_duration_secs
        assert max_buffering_duration_secs >= 0, "max_buffering_duration must be a non-negative value"
        self.batch_size = batch_size
        self.max_buffering_duration_secs = max_buffering_duration_secs

    def type_check_inputs(self, pvalueish):
        GroupByKey.type_check_inputs(self, pvalueish)

    def infer_output_type(self, input_type):
        k, v = _typehints.key_value_types(input_type)
        return _typehints.KV[k, _typehints.Iterable[v]]

    def _native_apply(self, pipeline, label, pcoll):
        # The GroupByKey and the cutting into batches both run in Rust.
        from beamline.transforms.core import _check_key_coder

        _check_key_coder(pipeline._full_label(label), pcoll)
        return pipeline._pcoll(pipeline._native.group_into_batches(label, pcoll._id, self.batch_size), label)

    class WithShardedKey(PTransform):
        """``GroupIntoBatches`` whose output keys are ``ShardedKey(key, shard_id)``."""

        def __init__(self, batch_size, max_buffering_duration_secs=None, clock=None):
            super().__init__()
            self._inner = GroupIntoBatches(batch_size, max_buffering_duration_secs, clock)

        def default_label(self):
            return "WithShardedKey"

        def expand(self, pcoll):
            sharded = pcoll | "ShardKeys" >> ParDo(_ShardKeysFn(_SHARD_ID_PREFIX))
            return sharded | "GroupIntoBatches" >> self._inner

    def default_label(self):
        return "GroupIntoBatches"


_SHARD_ID_PREFIX = __import__("uuid").uuid4().bytes


class _ShardKeysFn(DoFn):
    """Keys each value by ``ShardedKey(key, prefix + this DoFn instance's shard)``."""

    def __init__(self, prefix):
        self._prefix = prefix

    def setup(self):
        import threading

        self._shard = self._prefix + threading.get_ident().to_bytes(8, "big")

    def process(self, kv):
        from beamline.utils.sharded_key import ShardedKey

        yield (ShardedKey(kv[0], self._shard), kv[1])


class BatchElements(PTransform):
    """Elements into lists (batches) of ``min_batch_size`` to ``max_batch_size``
    elements of one window, for vectorized processing downstream."""

    def __init__(self, min_batch_size=1, max_batch_size=10000, target_batch_overhead=.05,
                 target_batch_duration_secs=10, target_batch_duration_secs_including_fixed_cost=None,
                 max_batch_duration_secs=None, *, element_size_fn=lambda x: 1, variance=0.25, clock=None,
                 record_metrics=True, length_fn=None, bucket_boundaries=None):
        super().__init__()
        if min_batch_size > max_batch_size:
            raise ValueError("Minimum (%s) must not be greater than maximum (%s)" % (min_batch_size, max_batch_size))
        if target_batch_overhead is not None and not 0 < target_batch_overhead <= 1:
            raise ValueError("target_batch_overhead (%s) must be between 0 and 1" % (target_batch_overhead,))
        if target_batch_duration_secs is not None and target_batch_duration_secs <= 0:
            raise ValueError("target_batch_duration_secs (%s) must be positive" % (target_batch_duration_secs,))
        self._min = min_batch_size
        self._max = max_batch_size

    def _native_apply(self, pipeline, label, pcoll):
        # No user code: the batching runs in Rust.
        return pipeline._pcoll(pipeline._native.batch_elements(label, pcoll._id, max(self._min, 1), self._max),
                               label)

    def infer_output_type(self, input_type):
        return _typehints.List[input_type]
