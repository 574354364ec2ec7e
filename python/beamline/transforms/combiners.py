"""Beam's standard combiners: ``Count``, ``Mean``, ``Top``, ``Sample``,
``ToList``, ``ToDict``, ``ToSet``, ``Latest``. Count and Mean run in Rust;
the rest are Python CombineFns."""

import copy
import heapq
import random

from beamline.transforms.core import CombineFn, CombineGlobally, CombinePerKey, DoFn, Map, ParDo
from beamline.transforms.ptransform import PTransform
from beamline.transforms.window import TimestampedValue
from beamline.typehints.typehints import KV, Any

__all__ = ["CombinerWithoutDefaults", "Count", "Mean", "Top", "Sample", "ToList", "ToDict", "ToSet", "Latest", "CountCombineFn", "MeanCombineFn",
           "TopCombineFn", "SampleCombineFn", "ToListCombineFn", "ToDictCombineFn", "ToSetCombineFn"]


class CombinerWithoutDefaults(PTransform):
    """A global combiner with Beam's ``without_defaults()``: no output for an empty window."""

    def __init__(self, has_defaults=True):
        super().__init__()
        self.has_defaults = has_defaults

    def with_defaults(self, has_defaults=True):
        new = copy.copy(self)
        new.has_defaults = has_defaults
        return new

    def without_defaults(self):
        return self.with_defaults(False)

    def _globally(self, fn):
        combine = CombineGlobally(fn)
        return combine if self.has_defaults else combine.without_defaults()


class CountCombineFn(CombineFn):
    """Counts its inputs (run in Rust)."""

    _beamline_builtin = "count"

    def create_accumulator(self):
        return 0

    def add_input(self, acc, element):
        return acc + 1

    def add_inputs(self, acc, elements):
        return acc + len(elements)

    def merge_accumulators(self, accs):
        return sum(accs)

    def extract_output(self, acc):
        return acc


class MeanCombineFn(CombineFn):
    """The arithmetic mean, NaN for no input (run in Rust)."""

    _beamline_builtin = "mean"

    def create_accumulator(self):
        return (0, 0)

    def add_input(self, acc, element):
        return (acc[0] + element, acc[1] + 1)

    def merge_accumulators(self, accs):
        return (sum(a[0] for a in accs), sum(a[1] for a in accs))

    def extract_output(self, acc):
        return float("NaN") if acc[1] == 0 else acc[0] / acc[1]


class Count:
    """``Count.Globally()``, ``Count.PerKey()``, ``Count.PerElement()``."""

    class Globally(CombinerWithoutDefaults):
        def expand(self, pcoll):
            return pcoll | self._globally(CountCombineFn())

    class PerKey(PTransform):
        def expand(self, pcoll):
            return pcoll | CombinePerKey(CountCombineFn())

    class PerElement(PTransform):
        def expand(self, pcoll):
            paired = pcoll.pipeline._native.builtin("PairWithVoid", pcoll._id, "pair_with_none")
            paired = pcoll.pipeline._pcoll(paired, "PairWithVoid")
            paired._infer_element_type_later(lambda: KV[pcoll.element_type or Any, type(None)])
            return paired | CombinePerKey(CountCombineFn())


class Mean:
    """``Mean.Globally()``, ``Mean.PerKey()``."""

    class Globally(CombinerWithoutDefaults):
        def expand(self, pcoll):
            return pcoll | self._globally(MeanCombineFn())

    class PerKey(PTransform):
        def expand(self, pcoll):
            return pcoll | CombinePerKey(MeanCombineFn())


class TopCombineFn(CombineFn):
    """The ``n`` largest inputs (by ``key``; smallest with ``reverse=True``), largest first."""

    def __init__(self, n, key=None, reverse=False):
        self._n = n
        self._key = key
        self._reverse = reverse

    def _sort_key(self, x):
        return self._key(x) if self._key is not None else x

    def create_accumulator(self):
        return []

    def add_input(self, acc, element):
        return self.add_inputs(acc, [element])

    def add_inputs(self, acc, elements):
        acc = list(acc) + list(elements)
        return self._trim(acc)

    def _trim(self, acc):
        if self._reverse:
            return heapq.nsmallest(self._n, acc, key=self._sort_key)
        return heapq.nlargest(self._n, acc, key=self._sort_key)

    def merge_accumulators(self, accs):
        return self._trim([x for a in accs for x in a])

    def extract_output(self, acc):
        return self._trim(acc)


class Top:
    """``Top.Of(n)``, ``Top.Largest(n)``, ``Top.Smallest(n)`` and their ``PerKey`` forms."""

    class Of(CombinerWithoutDefaults):
        def __init__(self, n, key=None, reverse=False):
            super().__init__()
            self._fn = TopCombineFn(n, key, reverse)

        def expand(self, pcoll):
            return pcoll | self._globally(self._fn)

    class PerKey(PTransform):
        def __init__(self, n, key=None, reverse=False):
            super().__init__()
            self._fn = TopCombineFn(n, key, reverse)

        def expand(self, pcoll):
            return pcoll | CombinePerKey(self._fn)

    @staticmethod
    def Largest(n):
        return Top.Of(n).with_label("Largest(%s)" % n)

    @staticmethod
    def Smallest(n):
        return Top.Of(n, reverse=True).with_label("Smallest(%s)" % n)

    @staticmethod
    def LargestPerKey(n):
        return Top.PerKey(n).with_label("LargestPerKey(%s)" % n)

    @staticmethod
    def SmallestPerKey(n):
        return Top.PerKey(n, reverse=True).with_label("SmallestPerKey(%s)" % n)


class SampleCombineFn(CombineFn):
    """``n`` inputs chosen uniformly at random (reservoir sampling by random priorities)."""

    def __init__(self, n):
        self._n = n

    def create_accumulator(self):
        return []

    def add_input(self, acc, element):
        return self.add_inputs(acc, [element])

    def add_inputs(self, acc, elements):
        acc = list(acc) + [(random.random(), e) for e in elements]
        return heapq.nlargest(self._n, acc, key=lambda p: p[0])

    def merge_accumulators(self, accs):
        return heapq.nlargest(self._n, [p for a in accs for p in a], key=lambda p: p[0])

    def extract_output(self, acc):
        return [e for _, e in acc]


class Sample:
    """``Sample.FixedSizeGlobally(n)``, ``Sample.FixedSizePerKey(n)``."""

    class FixedSizeGlobally(CombinerWithoutDefaults):
        def __init__(self, n):
            super().__init__()
            self._n = n

        def expand(self, pcoll):
            return pcoll | self._globally(SampleCombineFn(self._n))

    class FixedSizePerKey(PTransform):
        def __init__(self, n):
            super().__init__()
            self._n = n

        def expand(self, pcoll):
            return pcoll | CombinePerKey(SampleCombineFn(self._n))


class ToListCombineFn(CombineFn):
    def create_accumulator(self):
        return []

    def add_input(self, acc, element):
        acc.append(element)
        return acc

    def add_inputs(self, acc, elements):
        acc.extend(elements)
        return acc

    def merge_accumulators(self, accs):
        return [x for a in accs for x in a]

    def extract_output(self, acc):
        return acc


class ToDictCombineFn(CombineFn):
    def create_accumulator(self):
        return {}

    def add_input(self, acc, element):
        k, v = element
        acc[k] = v
        return acc

    def merge_accumulators(self, accs):
        out = {}
        for a in accs:
            out.update(a)
        return out

    def extract_output(self, acc):
        return acc


class ToSetCombineFn(CombineFn):
    def create_accumulator(self):
        return set()

    def add_input(self, acc, element):
        acc.add(element)
        return acc

    def merge_accumulators(self, accs):
        return set().union(*accs)

    def extract_output(self, acc):
        return acc


class _ToGlobal(CombinerWithoutDefaults):
    _fn = None

    def expand(self, pcoll):
        return pcoll | self._globally(self._fn())


class ToList(_ToGlobal):
    """All elements of each window as one list."""

    _fn = ToListCombineFn


class ToDict(_ToGlobal):
    """All ``(k, v)`` pairs of each window as one dict."""

    _fn = ToDictCombineFn


class ToSet(_ToGlobal):
    """All elements of each window as one set."""

    _fn = ToSetCombineFn


class _LatestCombineFn(CombineFn):
    """The input with the latest timestamp: inputs are ``(value, timestamp micros)``."""

    def create_accumulator(self):
        return (None, None)

    def add_input(self, acc, element):
        return element if acc[1] is None or element[1] > acc[1] else acc

    def merge_accumulators(self, accs):
        best = (None, None)
        for a in accs:
            best = self.add_input(best, a)
        return best

    def extract_output(self, acc):
        return acc[0]


class _AddTimestamp(DoFn):
    def __init__(self, per_key):
        self.per_key = per_key

    def process(self, element, timestamp=DoFn.TimestampParam):
        if self.per_key:
            k, v = element
            yield (k, (v, timestamp.micros))
        else:
            yield (element, timestamp.micros)


class Latest:
    """``Latest.Globally()``, ``Latest.PerKey()``: the element with the latest timestamp."""

    class Globally(CombinerWithoutDefaults):
        def expand(self, pcoll):
            return pcoll | ParDo(_AddTimestamp(False)) | self._globally(_LatestCombineFn())

    class PerKey(PTransform):
        def expand(self, pcoll):
            return pcoll | ParDo(_AddTimestamp(True)) | CombinePerKey(_LatestCombineFn())


class _TupleCombineFn(CombineFn):
    """Combines tuples field by field with one CombineFn (or callable) each."""

    def __init__(self, fns):
        self._fns = [CombineFn.maybe_from_callable(f) for f in fns]

    def create_accumulator(self):
        return [f.create_accumulator() for f in self._fns]

    def add_input(self, acc, element):
        return [f.add_input(a, e) for f, a, e in zip(self._fns, acc, element)]

    def merge_accumulators(self, accs):
        return [f.merge_accumulators(list(a)) for f, a in zip(self._fns, zip(*accs))]

    def extract_output(self, acc):
        return tuple(f.extract_output(a) for f, a in zip(self._fns, acc))


del TimestampedValue, Map
