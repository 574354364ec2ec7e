"""construction.rs: composite transforms and nested labels, label rules,
construction errors, and one pipeline holding every transform."""

import json

import pytest

from _beam import ON_BEAM, assert_that, beam, combiners, equal_to, pvalue, window
from _common import AddN, MeanFn, assert_in_window, reify, sort_group, timestamped, win


def _graph(p):
    """{label: [sub-transform labels]} of the pipeline's graph (each SDK's own graph API)."""
    if ON_BEAM:
        ts = p.to_runner_api().components.transforms
        return {t.unique_name: [ts[s].unique_name for s in t.subtransforms] for t in ts.values()}
    return {t["label"]: list(t.get("subtransforms") or []) for t in json.loads(p.to_json())["transforms"]}


def test_empty_pipeline_runs(run):
    p = run.pipeline()
    p.run().wait_until_finish()


class AddOne(beam.PTransform):
    def expand(self, xs):
        return xs | beam.ParDo(AddN(1))


class AddTwice(beam.PTransform):
    # Beam Python derives no unique labels: the second AddOne needs its own ("AddOne2" in the Rust case).
    def expand(self, xs):
        return xs | "AddOne" >> AddOne() | "AddOne2" >> AddOne()


def test_composite_nested_labels(run):
    p = run.pipeline()
    assert_that(p | beam.Create([1]) | "Twice" >> AddTwice(), equal_to([3]))
    g = _graph(p)
    for label in ["Twice", "Twice/AddOne", "Twice/AddOne/ParDo(AddN)", "Twice/AddOne2/ParDo(AddN)"]:
        assert label in g, (label, sorted(g))
    assert g["Twice"] == ["Twice/AddOne", "Twice/AddOne2"], g["Twice"]
    p.run().wait_until_finish()


class Nest(beam.PTransform):
    def __init__(self, depth):
        super().__init__("L%d" % depth)
        self.depth = depth

    def expand(self, xs):
        return xs | (beam.ParDo(AddN(1)) if self.depth == 0 else Nest(self.depth - 1))


def test_composite_deeply_nested(run):
    p = run.pipeline()
    assert_that(p | beam.Create([1]) | Nest(30), equal_to([2]))
    label = "".join("L%d/" % d for d in range(30, -1, -1)) + "ParDo(AddN)"
    assert label in _graph(p)
    p.run().wait_until_finish()


def test_derived_labels_are_unique(run):
    # Beam Python does not number repeated default labels (the Rust SDK derives ParDo(AddN)2, ...):
    # applying a second unlabelled ParDo(AddN) to the pipeline fails.
    p = run.pipeline()
    xs = p | beam.Create([1])
    xs | beam.ParDo(AddN(1))
    with pytest.raises(RuntimeError, match="already exists"):
        xs | beam.ParDo(AddN(2))


def test_duplicate_label_fails(run):
    p = run.pipeline()
    p | "Numbers" >> beam.Create([1])
    with pytest.raises(RuntimeError, match='label "Numbers" already exists'):
        p | "Numbers" >> beam.Create([2])


def test_construction_error_reported_once(run):
    p = run.pipeline()
    p | "Numbers" >> beam.Create([1])
    with pytest.raises(RuntimeError) as info:
        p | "Numbers" >> beam.Create([2])
    assert str(info.value).count("Numbers") == 1, str(info.value)


class ToOut(beam.DoFn):
    def process(self, x):
        yield pvalue.TaggedOutput("out", x)
        yield x + 10


def test_tagged_output_reserved_name_fails(run):
    # Beam Python reserves no tag name: a tag 'out' is an output like any other (the Rust SDK
    # rejects it as reserved).
    with run.pipeline() as p:
        res = p | beam.Create([1]) | "Split" >> beam.ParDo(ToOut()).with_outputs("out", main="main")
        assert_that(res.out, equal_to([1]), label="Out")
        assert_that(res.main, equal_to([11]), label="Main")


class Everything(beam.DoFn):
    """Main output x + offset; tagged 'small': x when x < 3."""

    def process(self, x, offset):
        if x < 3:
            yield pvalue.TaggedOutput("small", x)
        yield x + offset


def test_graph_round_trip_of_every_transform(run):
    # The Rust case's +graph column round-trips this pipeline; here it is every transform in one run.
    from _common import end_of
    with run.pipeline() as p:
        xs = timestamped(p, [(x, x * 4) for x in range(1, 7)], "Numbers")
        offset = p | "Offset" >> beam.Create([100])
        out = xs | beam.ParDo(Everything(), pvalue.AsSingleton(offset)).with_outputs("small", main="main")
        assert_that(out.main, equal_to(list(range(101, 107))), label="MainEq")
        assert_that(out.small, equal_to([1, 2]), label="SmallEq")
        keyed = xs | "ModKey" >> beam.Map(lambda x: (x % 2, x))
        assert_that(keyed | beam.Keys(), equal_to([1, 0, 1, 0, 1, 0]), label="KeysEq")
        assert_that(keyed | beam.Values(), equal_to(list(range(1, 7))), label="ValuesEq")
        assert_that(keyed | beam.KvSwap() | combiners.Count.PerKey(), equal_to([(x, 1) for x in range(1, 7)]),
                    label="SwapEq")
        grouped = keyed | beam.GroupByKey() | beam.Map(sort_group)
        assert_that(grouped, equal_to([(0, [2, 4, 6]), (1, [1, 3, 5])]), label="GroupedEq")
        assert_that(grouped | beam.CombineValues(sum), equal_to([(0, 12), (1, 9)]), label="ValuesSumEq")
        assert_that(keyed | beam.CombinePerKey(sum), equal_to([(0, 12), (1, 9)]), label="PerKeyEq")
        assert_that(xs | beam.CombineGlobally(MeanFn()), equal_to([3.5]), label="MeanEq")
        assert_that(xs | combiners.Count.Globally(), equal_to([6]), label="CountEq")
        fixed = xs | "Fixed" >> beam.WindowInto(window.FixedWindows(10))
        assert_that(reify(fixed | "SumFixed" >> beam.CombineGlobally(sum).without_defaults(), "R1", ms=True),
                    equal_to([(3, end_of(0, 10), win(0, 10)), (7, end_of(10, 20), win(10, 20)),
                              (11, end_of(20, 30), win(20, 30))]), label="FixedEq")
        sliding = xs | "Sliding" >> beam.WindowInto(window.SlidingWindows(10, 5))
        assert_in_window(sliding | "CountSliding" >> combiners.Count.PerElement(), win(5, 15),
                         equal_to([(2, 1), (3, 1)]), "SlidingEq")
        sessions = keyed | "Sessions" >> beam.WindowInto(window.Sessions(10))
        assert_that(reify(sessions | "SessionSums" >> beam.CombinePerKey(sum), "SessionWindows", ms=True),
                    equal_to([((0, 12), end_of(8, 34), win(8, 34)), ((1, 9), end_of(4, 30), win(4, 30))]),
                    label="SessionsEq")
        words = p | "Words" >> beam.Create(["a", "b", "a"])
        units = p | beam.Impulse() | beam.Map(lambda _: "impulse")
        assert_that((words, units) | beam.Flatten() | combiners.Count.PerElement(),
                    equal_to([("a", 2), ("b", 1), ("impulse", 1)]), label="WordsEq")
