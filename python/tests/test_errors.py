"""A failing DoFn makes the pipeline raise the same exception type with
"[while running '<label>']" in its message, as Beam does."""

import pytest

from .compat import assert_that, beam, equal_to


class FailIn(beam.DoFn):
    def __init__(self, where, exc):
        self.where = where
        self.exc = exc

    def _maybe_fail(self, where):
        if self.where == where:
            raise self.exc("failed in %s" % where)

    def setup(self):
        self._maybe_fail("setup")

    def start_bundle(self):
        self._maybe_fail("start_bundle")

    def process(self, element):
        self._maybe_fail("process")
        yield element

    def finish_bundle(self):
        self._maybe_fail("finish_bundle")


@pytest.mark.parametrize("where", ["process", "setup", "start_bundle", "finish_bundle"])
@pytest.mark.parametrize("exc", [ValueError, KeyError])
def test_dofn_failure_keeps_type_and_names_the_step(pipeline, where, exc):
    with pytest.raises(exc) as info:
        with pipeline() as p:
            p | beam.Create([1, 2]) | "Outer" >> beam.ParDo(FailIn(where, exc))
    message = str(info.value)
    assert "failed in %s" % where in message
    assert "[while running 'Outer']" in message


class Wrapper(beam.PTransform):
    def expand(self, pcoll):
        return pcoll | "Boom" >> beam.Map(lambda x: 1 // 0)


def test_failure_in_a_composite_names_the_full_label(pipeline):
    with pytest.raises(ZeroDivisionError) as info:
        with pipeline() as p:
            p | beam.Create([1]) | "Wrap" >> Wrapper()
    assert "[while running 'Wrap/Boom']" in str(info.value)


def test_failure_in_a_combine_fn(pipeline):
    class Bad(beam.CombineFn):
        def create_accumulator(self):
            return 0

        def add_input(self, acc, x):
            raise ValueError("bad input %s" % x)

        def merge_accumulators(self, accs):
            return sum(accs)

        def extract_output(self, acc):
            return acc

    with pytest.raises(ValueError, match="bad input"):
        with pipeline() as p:
            p | beam.Create([("a", 1)]) | "Combine" >> beam.CombinePerKey(Bad())


def test_assert_that_failure_raises(pipeline):
    with pytest.raises(Exception, match="Failed assert"):
        with pipeline() as p:
            assert_that(p | beam.Create([1, 2]), equal_to([1, 3]))


def test_exception_with_custom_constructor(pipeline):
    class Odd(Exception):
        def __init__(self, a, b):
            super().__init__("%s-%s" % (a, b))

    def fail(x):
        raise Odd(1, 2)

    with pytest.raises(Exception, match="1-2"):
        with pipeline() as p:
            p | beam.Create([1]) | "Fail" >> beam.Map(fail)


def test_second_pipeline_after_a_failure_runs(pipeline):
    with pytest.raises(ValueError):
        with pipeline() as p:
            p | beam.Create([1]) | beam.Map(lambda x: int("x"))
    with pipeline() as p:
        assert_that(p | beam.Create([1]) | beam.Map(lambda x: x + 1), equal_to([2]))


class ExpandRaises(beam.PTransform):
    def expand(self, pcoll):
        raise ValueError("my expand failed")


def test_expand_exception_is_not_masked_by_unbound_local_error(pipeline):
    # Regression: Pipeline.apply's `finally:` read the result that expand()
    # never returned, so users saw an UnboundLocalError instead of their own error.
    with pytest.raises(ValueError, match="my expand failed"):
        with pipeline() as p:
            p | beam.Create([1]) | "Composite" >> ExpandRaises()
