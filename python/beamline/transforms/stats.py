"""``ApproximateUnique`` and ``ApproximateQuantiles`` (Globally and PerKey),
with Beam's algorithms and so Beam's accuracy guarantees and results:
ApproximateUnique keeps the largest ``sample_size`` md5 hashes of each
element's deterministic encoding (error about ``2 / sqrt(sample_size)``);
ApproximateQuantiles is the Manku-Rajagopalan-Lindsay buffer algorithm Beam
uses (rank error below ``epsilon * N``, exact on small inputs). Both are
CombineFns, adapted from Apache Beam's ``transforms/stats.py`` (Apache-2.0)."""

import hashlib
import heapq
import itertools
import math

from beamline.transforms.core import CombineFn, CombineGlobally, CombinePerKey
from beamline.transforms.ptransform import PTransform

__all__ = ["ApproximateUnique", "ApproximateQuantiles", "ApproximateUniqueCombineFn", "ApproximateQuantilesCombineFn"]


def _md5_hash(value):
    return int(hashlib.md5(value).hexdigest()[:16], 16)


class ApproximateUnique:
    """The approximate number of distinct elements (``Globally``) or values per key (``PerKey``)."""

    _NO_VALUE_ERR_MSG = "Either size or error should be set. Received {}."
    _MULTI_VALUE_ERR_MSG = "Either size or error should be set. Received {size = %s, error = %s}."
    _INPUT_SIZE_ERR_MSG = ("ApproximateUnique needs a size >= 16 for an error <= 0.50. In general, the estimation "
                           "error is about 2 / sqrt(sample_size). Received {size = %s}.")
    _INPUT_ERROR_ERR_MSG = "ApproximateUnique needs an estimation error between 0.01 and 0.50. Received {error = %s}."

    @staticmethod
    def parse_input_params(size=None, error=None):
        if None not in (size, error):
            raise ValueError(ApproximateUnique._MULTI_VALUE_ERR_MSG % (size, error))
        if size is None and error is None:
            raise ValueError(ApproximateUnique._NO_VALUE_ERR_MSG)
        if size is not None:
            if not isinstance(size, int) or size < 16:
                raise ValueError(ApproximateUnique._INPUT_SIZE_ERR_MSG % (size,))
            return size
        if error < 0.01 or error > 0.5:
            raise ValueError(ApproximateUnique._INPUT_ERROR_ERR_MSG % (error,))
        return ApproximateUnique._get_sample_size_from_est_error(error)

    @staticmethod
    def _get_sample_size_from_est_error(est_err):
        return math.ceil(4.0 / math.pow(est_err, 2.0))

    class Globally(PTransform):
        """The approximate number of distinct elements."""

        def __init__(self, size=None, error=None):
            super().__init__()
            self._sample_size = ApproximateUnique.parse_input_params(size, error)

        def expand(self, pcoll):
            # Beam hashes FastPrimitivesCoder's deterministic encoding (so its estimates are Beam's).
            from beamline.coders import FastPrimitivesCoder

            coder = FastPrimitivesCoder()
            return pcoll | "CountGlobalUniqueValues" >> CombineGlobally(
                ApproximateUniqueCombineFn(self._sample_size, coder))

    class PerKey(PTransform):
        """The approximate number of distinct values of each key."""

        def __init__(self, size=None, error=None):
            super().__init__()
            self._sample_size = ApproximateUnique.parse_input_params(size, error)

        def expand(self, pcoll):
            from beamline.coders import FastPrimitivesCoder

            coder = FastPrimitivesCoder()
            return pcoll | "CountPerKeyUniqueValues" >> CombinePerKey(
                ApproximateUniqueCombineFn(self._sample_size, coder))


class _LargestUnique:
    """The largest ``sample_size`` distinct hashes seen."""

    _HASH_SPACE_SIZE = 2.0 ** 64

    def __init__(self, sample_size):
        self._sample_size = sample_size
        self._min_hash = 2.0 ** 64
        self._sample_heap = []
        self._sample_set = set()

    def add(self, element):
        if len(self._sample_heap) >= self._sample_size and element < self._min_hash:
            return False
        if element not in self._sample_set:
            self._sample_set.add(element)
            heapq.heappush(self._sample_heap, element)
            if len(self._sample_heap) > self._sample_size:
                temp = heapq.heappop(self._sample_heap)
                self._sample_set.remove(temp)
                self._min_hash = self._sample_heap[0]
            elif element < self._min_hash:
                self._min_hash = element
        return True

    def get_estimate(self):
        if len(self._sample_heap) < self._sample_size:
            return len(self._sample_heap)
        sample_space_size = self._HASH_SPACE_SIZE - 1.0 * self._min_hash
        est = (math.log1p(-self._sample_size / sample_space_size) / math.log1p(-1 / sample_space_size)
               * self._HASH_SPACE_SIZE / sample_space_size)
        return round(est)


class ApproximateUniqueCombineFn(CombineFn):
    """An estimate of the number of distinct inputs."""

    def __init__(self, sample_size, coder):
        from beamline.coders import registry

        self._sample_size = sample_size
        self._coder = registry.verify_deterministic(coder, "ApproximateUniqueCombineFn")

    def create_accumulator(self, *args, **kwargs):
        return _LargestUnique(self._sample_size)

    def add_input(self, accumulator, element, *args, **kwargs):
        accumulator.add(_md5_hash(self._coder.encode(element)))
        return accumulator

    def merge_accumulators(self, accumulators, *args, **kwargs):
        merged = self.create_accumulator()
        for accumulator in accumulators:
            for i in accumulator._sample_heap:
                merged.add(i)
        return merged

    def extract_output(self, accumulator, *args, **kwargs):
        return accumulator.get_estimate()


class ApproximateQuantiles:
    """``num_quantiles`` values: the minimum, evenly spaced N-tiles and the
    maximum, globally (``Globally``) or per key (``PerKey``)."""

    class Globally(PTransform):
        def __init__(self, num_quantiles, key=None, reverse=False, weighted=False, input_batched=False):
            super().__init__()
            self._args = dict(num_quantiles=num_quantiles, key=key, reverse=reverse, weighted=weighted,
                              input_batched=input_batched)

        def expand(self, pcoll):
            return pcoll | CombineGlobally(ApproximateQuantilesCombineFn.create(**self._args))

    class PerKey(PTransform):
        def __init__(self, num_quantiles, key=None, reverse=False, weighted=False, input_batched=False):
            super().__init__()
            self._args = dict(num_quantiles=num_quantiles, key=key, reverse=reverse, weighted=weighted,
                              input_batched=input_batched)

        def expand(self, pcoll):
            return pcoll | CombinePerKey(ApproximateQuantilesCombineFn.create(**self._args))


class _QuantileSpec:
    def __init__(self, buffer_size, num_buffers, weighted, key, reverse):
        self.buffer_size = buffer_size
        self.num_buffers = num_buffers
        self.weighted = weighted
        self.key = key
        self.reverse = reverse
        self.weighted_key = None if key is None else (lambda x: key(x[0]))
        if reverse and key is None:
            self.less_than = lambda a, b: a > b
        elif reverse:
            self.less_than = lambda a, b: key(a) > key(b)
        elif key is None:
            self.less_than = lambda a, b: a < b
        else:
            self.less_than = lambda a, b: key(a) < key(b)

    def get_argsort_key(self, elements):
        if self.key is None:
            return elements.__getitem__
        return lambda idx: self.key(elements[idx])

    def __reduce__(self):
        return (self.__class__, (self.buffer_size, self.num_buffers, self.weighted, self.key, self.reverse))


class _QuantileBuffer:
    def __init__(self, elements, weights, weighted, level=0, min_val=None, max_val=None):
        self.elements = elements
        self.weights = weights
        self.weighted = weighted
        self.level = level
        if min_val is None or max_val is None:
            self.min_val = elements[0]
            self.max_val = elements[-1]
        else:
            self.min_val = min_val
            self.max_val = max_val

    def __iter__(self):
        return zip(self.elements, self.weights if self.weighted else itertools.repeat(self.weights[0]))

    def __lt__(self, other):
        return self.level < other.level


class _QuantileState:
    """A compact summary of a collection on which quantiles can be estimated."""

    def __init__(self, unbuffered_elements, unbuffered_weights, buffers, spec):
        self.buffers = buffers
        self.spec = spec
        self.unbuffered_elements = unbuffered_elements
        self.unbuffered_weights = unbuffered_weights

    def add_unbuffered(self, elements, offset_fn):
        if self.spec.weighted:
            self._add_unbuffered_weighted(elements, offset_fn)
        else:
            self._add_unbuffered(elements, offset_fn)

    def __reduce__(self):
        return (self.__class__, (self.unbuffered_elements, self.unbuffered_weights, self.buffers, self.spec))

    def is_empty(self):
        return not self.unbuffered_elements and not self.buffers

    def _add_unbuffered(self, elements, offset_fn):
        size = self.spec.buffer_size
        self.unbuffered_elements.extend(elements)
        num_new_buffers = len(self.unbuffered_elements) // size
        for idx in range(num_new_buffers):
            to_buffer = sorted(self.unbuffered_elements[idx * size:(idx + 1) * size], key=self.spec.key,
                               reverse=self.spec.reverse)
            heapq.heappush(self.buffers, _QuantileBuffer(elements=to_buffer, weights=[1], weighted=False))
        if num_new_buffers > 0:
            self.unbuffered_elements = self.unbuffered_elements[num_new_buffers * size:]
        self.collapse_if_needed(offset_fn)

    def _add_unbuffered_weighted(self, elements, offset_fn):
        size = self.spec.buffer_size
        if len(elements) == 1:
            self.unbuffered_elements.append(elements[0][0])
            self.unbuffered_weights.append(elements[0][1])
        else:
            self.unbuffered_elements.extend(elements[0])
            self.unbuffered_weights.extend(elements[1])
        num_new_buffers = len(self.unbuffered_elements) // size
        argsort_key = self.spec.get_argsort_key(self.unbuffered_elements)
        for idx in range(num_new_buffers):
            argsort = sorted(range(idx * size, (idx + 1) * size), key=argsort_key, reverse=self.spec.reverse)
            heapq.heappush(self.buffers, _QuantileBuffer(elements=[self.unbuffered_elements[i] for i in argsort],
                                                         weights=[self.unbuffered_weights[i] for i in argsort],
                                                         weighted=True))
        if num_new_buffers > 0:
            self.unbuffered_elements = self.unbuffered_elements[num_new_buffers * size:]
            self.unbuffered_weights = self.unbuffered_weights[num_new_buffers * size:]
        self.collapse_if_needed(offset_fn)

    def finalize(self):
        if self.unbuffered_elements and self.spec.weighted:
            argsort = sorted(range(len(self.unbuffered_elements)),
                             key=self.spec.get_argsort_key(self.unbuffered_elements), reverse=self.spec.reverse)
            self.unbuffered_elements = [self.unbuffered_elements[i] for i in argsort]
            self.unbuffered_weights = [self.unbuffered_weights[i] for i in argsort]
            self.buffers.append(_QuantileBuffer(self.unbuffered_elements, self.unbuffered_weights, weighted=True))
            self.unbuffered_weights = []
        elif self.unbuffered_elements:
            self.unbuffered_elements.sort(key=self.spec.key, reverse=self.spec.reverse)
            self.buffers.append(_QuantileBuffer(self.unbuffered_elements, weights=[1], weighted=False))
        self.unbuffered_elements = []

    def collapse_if_needed(self, offset_fn):
        while len(self.buffers) > self.spec.num_buffers:
            to_collapse = [heapq.heappop(self.buffers), heapq.heappop(self.buffers)]
            min_level = to_collapse[1].level
            while self.buffers and self.buffers[0].level <= min_level:
                to_collapse.append(heapq.heappop(self.buffers))
            heapq.heappush(self.buffers, _collapse(to_collapse, offset_fn, self.spec))


def _collapse(buffers, offset_fn, spec):
    new_level = 0
    new_weight = 0
    for buffer in buffers:
        new_level = max([new_level, buffer.level + 1])
        new_weight = new_weight + sum(buffer.weights)
    if spec.weighted:
        step = new_weight / (spec.buffer_size - 1)
        offset = new_weight / (2 * spec.buffer_size)
    else:
        step = new_weight
        offset = offset_fn(new_weight)
    new_elements, new_weights, min_val, max_val = _interpolate(buffers, spec.buffer_size, step, offset, spec)
    if not spec.weighted:
        new_weights = [new_weight]
    return _QuantileBuffer(new_elements, new_weights, spec.weighted, new_level, min_val, max_val)


def _interpolate(buffers, count, step, offset, spec):
    """The (k * step + offset)-th elements, 0 <= k < count, of the ordered union
    of the buffers' elements repeated by their weights."""
    buffer_iterators = []
    min_val = buffers[0].min_val
    max_val = buffers[0].max_val
    for buffer in buffers:
        min_val = buffer.min_val if spec.less_than(buffer.min_val, min_val) else min_val
        max_val = buffer.max_val if spec.less_than(max_val, buffer.max_val) else max_val
        buffer_iterators.append(iter(buffer))
    sorted_elements = sorted(itertools.chain.from_iterable(buffer_iterators), key=spec.weighted_key,
                             reverse=spec.reverse)
    if not spec.weighted:
        weight = buffers[0].weights[0]
        if all(buffer.weights[0] == weight for buffer in buffers):
            offset = offset / weight
            step = step / weight
            max_idx = len(sorted_elements) - 1
            return [sorted_elements[min(int(j * step + offset), max_idx)][0] for j in range(count)], [], min_val, \
                max_val
    sorted_elements_iter = iter(sorted_elements)
    weighted_element = next(sorted_elements_iter)
    new_elements = []
    new_weights = []
    j = 0
    current_weight = weighted_element[1]
    previous_weight = 0
    while j < count:
        target_weight = j * step + offset
        j += 1
        try:
            while current_weight <= target_weight:
                weighted_element = next(sorted_elements_iter)
                current_weight += weighted_element[1]
        except StopIteration:
            pass
        new_elements.append(weighted_element[0])
        if spec.weighted:
            new_weights.append(current_weight - previous_weight)
            previous_weight = current_weight
    return new_elements, new_weights, min_val, max_val


class ApproximateQuantilesCombineFn(CombineFn):
    """Approximate N-tiles by the MRL98 algorithm (Beam's): the output lists the
    minimum, ``num_quantiles - 2`` evenly spaced values and the maximum."""

    _MAX_NUM_ELEMENTS = 1e9

    def __init__(self, num_quantiles, buffer_size, num_buffers, key=None, reverse=False, weighted=False,
                 input_batched=False):
        self._num_quantiles = num_quantiles
        self._spec = _QuantileSpec(buffer_size, num_buffers, weighted, key, reverse)
        self._input_batched = input_batched
        self._offset_jitter = 0

    def __reduce__(self):
        return (self.__class__, (self._num_quantiles, self._spec.buffer_size, self._spec.num_buffers, self._spec.key,
                                 self._spec.reverse, self._spec.weighted, self._input_batched))

    @classmethod
    def create(cls, num_quantiles, epsilon=None, max_num_elements=None, key=None, reverse=False, weighted=False,
               input_batched=False):
        max_num_elements = max_num_elements or cls._MAX_NUM_ELEMENTS
        if not epsilon:
            epsilon = min(1e-2, 1.0 / num_quantiles) if weighted else (1.0 / num_quantiles)
        b = 2
        while (b - 2) * (1 << (b - 2)) < epsilon * max_num_elements:
            b = b + 1
        b = b - 1
        k = max(2, int(math.ceil(max_num_elements / float(1 << (b - 1)))))
        return cls(num_quantiles=num_quantiles, buffer_size=k, num_buffers=b, key=key, reverse=reverse,
                   weighted=weighted, input_batched=input_batched)

    def _offset(self, new_weight):
        # An even weight rounds up or down, alternately, to avoid a bias.
        if new_weight % 2 == 1:
            return (new_weight + 1) / 2
        self._offset_jitter = 2 - self._offset_jitter
        return (new_weight + self._offset_jitter) / 2

    def create_accumulator(self):
        return _QuantileState(unbuffered_elements=[], unbuffered_weights=[], buffers=[], spec=self._spec)

    def add_input(self, quantile_state, element):
        if self._input_batched:
            if len(element) == 0:
                return quantile_state
            quantile_state.add_unbuffered(element, self._offset)
        else:
            quantile_state.add_unbuffered([element], self._offset)
        return quantile_state

    def merge_accumulators(self, accumulators):
        qs = self.create_accumulator()
        for accumulator in accumulators:
            if accumulator.is_empty():
                continue
            if self._spec.weighted:
                qs.add_unbuffered([accumulator.unbuffered_elements, accumulator.unbuffered_weights], self._offset)
            else:
                qs.add_unbuffered(accumulator.unbuffered_elements, self._offset)
            qs.buffers.extend(accumulator.buffers)
        heapq.heapify(qs.buffers)
        qs.collapse_if_needed(self._offset)
        return qs

    def extract_output(self, accumulator):
        if accumulator.is_empty():
            return []
        accumulator.finalize()
        all_elems = accumulator.buffers
        total_weight = 0
        if self._spec.weighted:
            for buffer_elem in all_elems:
                total_weight += sum(buffer_elem.weights)
        else:
            for buffer_elem in all_elems:
                total_weight += len(buffer_elem.elements) * buffer_elem.weights[0]
        step = total_weight / (self._num_quantiles - 1)
        offset = (total_weight - 1) / (self._num_quantiles - 1)
        quantiles, _, min_val, max_val = _interpolate(all_elems, self._num_quantiles - 2, step, offset, self._spec)
        return [min_val] + quantiles + [max_val]
