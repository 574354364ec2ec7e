"""``beam.typehints``: hints print as Beam's, ``with_input_types`` and
``with_output_types`` (decorators and methods) set element types, choose
coders, and a pipeline whose types do not fit fails when it is built."""

import typing

import pytest

from .compat import PipelineOptions, assert_that, beam, equal_to

typehints = beam.typehints
TypeCheckError = typehints.TypeCheckError


@pytest.mark.parametrize("hint, text", [
    (typehints.KV[str, int], "Tuple[<class 'str'>, <class 'int'>]"),
    (typehints.List[int], "List[<class 'int'>]"),
    (typehints.Tuple[int, str], "Tuple[<class 'int'>, <class 'str'>]"),
    (typehints.Tuple[int, ...], "Tuple[<class 'int'>, ...]"),
    (typehints.Dict[str, int], "Dict[<class 'str'>, <class 'int'>]"),
    (typehints.Iterable[int], "Iterable[<class 'int'>]"),
    (typehints.Optional[int], "Union[<class 'NoneType'>, <class 'int'>]"),
    (typehints.Union[int, str], "Union[<class 'int'>, <class 'str'>]"),
    (typehints.Any, "Any"),
    (typehints.Tuple[int, typehints.List[str]], "Tuple[<class 'int'>, List[<class 'str'>]]"),
])
def test_hints_print_as_beams(hint, text):
    assert repr(hint) == text


def test_consistency():
    ic = _typehints_module().is_consistent_with
    assert ic(int, typehints.Union[int, str])
    assert not ic(typehints.Union[int, str], int)
    assert ic(bool, int)
    assert ic(typehints.Tuple[int, str], typehints.KV[typehints.Any, typehints.Any])
    assert ic(typehints.List[int], typehints.Iterable[int])
    assert not ic(typehints.List[str], typehints.Iterable[int])
    assert ic(list, typehints.Iterable[int])
    assert not ic(int, str)
    assert ic(int, typehints.Any) and ic(typehints.Any, int)


def _typehints_module():
    import importlib

    from .compat import AGAINST

    return importlib.import_module("%s.typehints.typehints" % AGAINST)


def test_create_infers_element_types(pipeline):
    with pipeline() as p:
        assert (p | "ints" >> beam.Create([1, 2])).element_type == int
        assert (p | "mixed" >> beam.Create([1, "a"])).element_type == typehints.Union[int, str]
        assert (p | "pairs" >> beam.Create([(1, "a")])).element_type == typehints.Tuple[int, str]


def test_with_output_types_method_sets_the_element_type(pipeline):
    with pipeline() as p:
        pc = p | beam.Create([1]) | beam.Map(lambda x: ("k", x)).with_output_types(typehints.KV[str, int])
        assert pc.element_type == typehints.KV[str, int]
        assert_that(pc, equal_to([("k", 1)]))


def test_wrong_input_type_is_rejected_when_built(pipeline):
    with pytest.raises(TypeCheckError) as info:
        with pipeline() as p:
            p | beam.Create(["a"]) | "M" >> beam.Map(lambda x: x).with_output_types(int) \
                | "N" >> beam.Map(lambda x: x).with_input_types(str)
    assert str(info.value) == (
        "The transform 'N' requires PCollections of type '<class 'str'>' but was applied to a PCollection of type "
        "'<class 'int'>' (produced by the transform 'M'). ")


@typehints.with_input_types(int)
@typehints.with_output_types(str)
class IntToStr(beam.DoFn):
    def process(self, x):
        yield str(x)


def test_decorated_dofn_checks_its_input(pipeline):
    with pytest.raises(TypeCheckError, match="The transform 'D' requires PCollections of type '<class 'int'>' but "
                                             "was applied to a PCollection of type '<class 'str'>' "
                                             r"\(produced by the transform 'Create'\)"):
        with pipeline() as p:
            p | beam.Create(["a"]) | "D" >> beam.ParDo(IntToStr())


def test_decorated_dofn_output_type_is_checked_downstream(pipeline):
    with pytest.raises(TypeCheckError, match="The transform 'M' requires PCollections of type '<class 'int'>'"):
        with pipeline() as p:
            p | beam.Create([1]) | "D" >> beam.ParDo(IntToStr()) | "M" >> beam.Map(lambda x: x).with_input_types(int)


def test_decorated_dofn_runs_when_types_fit(pipeline):
    with pipeline() as p:
        out = p | beam.Create([1, 2]) | beam.ParDo(IntToStr())
        assert out.element_type == str
        assert_that(out, equal_to(["1", "2"]))


@typehints.with_input_types(int)
@typehints.with_output_types(int)
def double(x):
    return 2 * x


def test_decorated_function(pipeline):
    with pytest.raises(TypeCheckError, match="requires PCollections of type '<class 'int'>'"):
        with pipeline() as p:
            p | beam.Create(["a"]) | "Double" >> beam.Map(double)
    with pipeline() as p:
        out = p | beam.Create([1, 2]) | beam.Map(double)
        assert out.element_type == int
        assert_that(out, equal_to([2, 4]))


def test_typing_module_hints_are_accepted(pipeline):
    with pipeline() as p:
        out = (p
               | beam.Create([("a", 1), ("a", 2)])
               | beam.Map(lambda kv: kv).with_input_types(typing.Tuple[str, int])
               | beam.GroupByKey()
               | beam.MapTuple(lambda k, vs: (k, sorted(vs))))
        assert_that(out, equal_to([("a", [1, 2])]))


def test_group_by_key_of_non_pairs_is_rejected(pipeline):
    with pytest.raises(TypeCheckError) as info:
        with pipeline() as p:
            p | beam.Create([1]) | "G" >> beam.GroupByKey()
    assert str(info.value) == \
        "Input type hint violation at G: expected Tuple[TypeVariable[K], TypeVariable[V]], got <class 'int'>"


def test_composite_input_types(pipeline):
    @typehints.with_input_types(int)
    class AddOne(beam.PTransform):
        def expand(self, pcoll):
            return pcoll | beam.Map(lambda x: x + 1)

    with pytest.raises(TypeCheckError, match="Input type hint violation at AddOne: expected <class 'int'>, "
                                             "got <class 'str'>"):
        with pipeline() as p:
            p | beam.Create(["a"]) | AddOne()
    with pipeline() as p:
        assert_that(p | beam.Create([1]) | AddOne(), equal_to([2]))


def test_type_checks_can_be_turned_off(runner_args):
    options = PipelineOptions(runner_args + ["--no_pipeline_type_check"])
    with beam.Pipeline(options=options) as p:
        out = p | beam.Create([1]) | beam.Map(lambda x: x + 1).with_input_types(str)
        assert_that(out, equal_to([2]))


def _length(word: str) -> int:
    return len(word)


def _words(line: str) -> typing.Iterable[str]:
    return line.split()


class _Annotated(beam.DoFn):
    def process(self, element: int) -> typing.Iterable[str]:
        yield str(element)


def test_annotations_are_type_hints(pipeline):
    with pipeline() as p:
        lengths = p | beam.Create(["a b", "cde"]) | beam.FlatMap(_words) | beam.Map(_length)
        assert lengths.element_type == int
        strs = p | "Ints" >> beam.Create([1]) | beam.ParDo(_Annotated())
        assert strs.element_type == str
        assert_that(lengths, equal_to([1, 1, 3]))
        assert_that(strs, equal_to(["1"]), label="strs")


def test_annotations_reject_a_wrong_pipeline(pipeline):
    with pytest.raises(TypeCheckError, match="The transform 'W' requires PCollections of type '<class 'str'>' but "
                                             "was applied to a PCollection of type '<class 'int'>' "
                                             r"\(produced by the transform 'Map\(_length\)'\)"):
        with pipeline() as p:
            p | beam.Create(["ab"]) | beam.Map(_length) | "W" >> beam.FlatMap(_words)
    with pytest.raises(TypeCheckError, match="The transform 'D' requires PCollections of type '<class 'int'>'"):
        with pipeline() as p:
            p | beam.Create(["x"]) | "D" >> beam.ParDo(_Annotated())
