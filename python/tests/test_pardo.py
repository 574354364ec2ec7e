"""ParDo with DoFn classes: the lifecycle, extra arguments, context
parameters and tagged outputs."""

import pytest

from .compat import assert_that, beam, equal_to, pvalue, window, windowed_value


class Lifecycle(beam.DoFn):
    def setup(self):
        self.state = "set up"

    def start_bundle(self):
        self.bundle = []

    def process(self, element, prefix, suffix="?"):
        assert self.state == "set up"
        self.bundle.append(element)
        yield "%s%s%s" % (prefix, element, suffix)

    def finish_bundle(self):
        yield windowed_value.WindowedValue(
            "bundle of %d" % len(self.bundle), window.GlobalWindow().max_timestamp(), [window.GlobalWindow()])

    def teardown(self):
        self.state = "torn down"


def test_dofn_lifecycle_args_kwargs(pipeline):
    with pipeline() as p:
        out = p | beam.Create(["a", "b", "c"]) | beam.ParDo(Lifecycle(), "<", suffix=">")
        main = out | beam.Filter(lambda s: not s.startswith("bundle"))
        sizes = (out | beam.Filter(lambda s: s.startswith("bundle"))
                 | beam.Map(lambda s: int(s.split()[-1])) | beam.CombineGlobally(sum))
        assert_that(main, equal_to(["<a>", "<b>", "<c>"]), label="Main")
        assert_that(sizes, equal_to([3]), label="EveryElementInABundle")


def test_process_returning_a_list(pipeline):
    class Twice(beam.DoFn):
        def process(self, element):
            return [element, element]

    with pipeline() as p:
        assert_that(p | beam.Create([1, 2]) | beam.ParDo(Twice()), equal_to([1, 1, 2, 2]))


def test_pardo_takes_an_instance():
    with pytest.raises(ValueError, match=r"Use Lifecycle\(\) not Lifecycle"):
        beam.ParDo(Lifecycle)
    with pytest.raises(TypeError):
        beam.ParDo(3)


def test_pardo_of_a_callable(pipeline):
    with pipeline() as p:
        assert_that(p | beam.Create([1, 2]) | beam.ParDo(lambda x: [x, -x]), equal_to([1, -1, 2, -2]))


class AddTimestamp(beam.DoFn):
    def process(self, element):
        yield window.TimestampedValue(element, element)


class Describe(beam.DoFn):
    def process(self, element, ts=beam.DoFn.TimestampParam, w=beam.DoFn.WindowParam):
        yield "%s@%s in %s" % (element, ts, w)


def test_timestamp_and_window_params(pipeline):
    with pipeline() as p:
        out = (p | beam.Create([1, 12, 25])
               | "Stamp" >> beam.ParDo(AddTimestamp())
               | beam.WindowInto(window.FixedWindows(10))
               | beam.ParDo(Describe()))
        assert_that(out, equal_to(["1@Timestamp(1) in [0.0, 10.0)", "12@Timestamp(12) in [10.0, 20.0)",
                                   "25@Timestamp(25) in [20.0, 30.0)"]))


def test_window_param_in_the_global_window(pipeline):
    with pipeline() as p:
        out = p | beam.Create(["x"]) | beam.ParDo(Describe())
        assert_that(out, equal_to(["x@%s in GlobalWindow" % window.MIN_TIMESTAMP]))


def test_params_in_map(pipeline):
    with pipeline() as p:
        out = (p | beam.Create([3]) | "Stamp" >> beam.ParDo(AddTimestamp())
               | beam.Map(lambda x, t=beam.DoFn.TimestampParam: (x, t.micros)))
        assert_that(out, equal_to([(3, 3_000_000)]))


class Split(beam.DoFn):
    def process(self, element):
        if element % 2:
            yield pvalue.TaggedOutput("odd", element)
        else:
            yield element
        if element > 3:
            yield pvalue.TaggedOutput("big", element * 100)


def test_tagged_outputs_by_attribute_key_and_unpacking(pipeline):
    with pipeline() as p:
        xs = p | beam.Create([1, 2, 3, 4, 5])
        out = xs | "ByName" >> beam.ParDo(Split()).with_outputs("odd", "big", main="even")
        assert_that(out.even, equal_to([2, 4]), label="Even")
        assert_that(out.odd, equal_to([1, 3, 5]), label="Odd")
        assert_that(out["big"], equal_to([400, 500]), label="Big")
        assert_that(out["even"], equal_to([2, 4]), label="EvenByKey")
        even, odd, big = xs | "Unpacked" >> beam.ParDo(Split()).with_outputs("odd", "big", main="m")
        assert_that(even, equal_to([2, 4]), label="Even2")
        assert_that(odd, equal_to([1, 3, 5]), label="Odd2")
        assert_that(big, equal_to([400, 500]), label="Big2")
        # Without a main tag, unpacking gives only the tagged outputs.
        odd3, big3 = xs | "NoMainUnpacked" >> beam.ParDo(Split()).with_outputs("odd", "big")
        assert_that(odd3, equal_to([1, 3, 5]), label="Odd3")
        assert_that(big3, equal_to([400, 500]), label="Big3")
        nomain = xs | "NoMain" >> beam.ParDo(Split()).with_outputs("odd", "big")
        assert_that(nomain[None], equal_to([2, 4]), label="MainByNone")


def test_tagged_output_from_flatmap(pipeline):
    def split(x):
        yield pvalue.TaggedOutput("neg" if x < 0 else "pos", x)

    with pipeline() as p:
        out = p | beam.Create([-1, 2, -3]) | beam.FlatMap(split).with_outputs("neg", "pos")
        assert_that(out.neg, equal_to([-1, -3]), label="Neg")
        assert_that(out.pos, equal_to([2]), label="Pos")


def test_tagged_output_needs_a_string_tag():
    with pytest.raises(TypeError):
        pvalue.TaggedOutput(1, "x")


def test_unknown_tag_on_the_outputs_tuple(pipeline):
    p = pipeline()
    out = p | beam.Create([1]) | beam.ParDo(Split()).with_outputs("odd", "big")
    with pytest.raises((ValueError, AttributeError)):
        out["nope"]
