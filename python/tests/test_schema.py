"""Row, GroupBy(...).aggregate_field(...) and Select."""

from .compat import assert_that, beam, combiners, equal_to

FRUIT = [("apple", "red", 3), ("banana", "yellow", 2), ("cherry", "red", 10), ("lemon", "yellow", 1)]


def _rows(p):
    return p | beam.Create(FRUIT) | beam.MapTuple(lambda n, c, q: beam.Row(name=n, color=c, qty=q))


def test_row_fields_and_equality():
    r = beam.Row(a=1, b="x")
    assert r.a == 1 and r.b == "x"
    assert r == beam.Row(a=1, b="x")
    assert r != beam.Row(a=1, b="y")


def test_rows_through_a_pipeline(pipeline):
    with pipeline() as p:
        out = _rows(p) | beam.Map(lambda r: (r.name, r.qty))
        assert_that(out, equal_to([(n, q) for n, _, q in FRUIT]))


def test_group_by_field(pipeline):
    with pipeline() as p:
        out = _rows(p) | beam.GroupBy("color") | beam.MapTuple(lambda k, rs: (k, sorted(r.name for r in rs)))
        assert_that(out, equal_to([("red", ["apple", "cherry"]), ("yellow", ["banana", "lemon"])]))


def test_group_by_expression(pipeline):
    with pipeline() as p:
        out = (_rows(p) | beam.GroupBy(lambda r: r.qty > 2)
               | beam.MapTuple(lambda k, rs: (k, sorted(r.name for r in rs))))
        assert_that(out, equal_to([(True, ["apple", "cherry"]), (False, ["banana", "lemon"])]))


def test_group_by_aggregate_field(pipeline):
    with pipeline() as p:
        out = (_rows(p) | beam.GroupBy("color")
               .aggregate_field("qty", sum, "total")
               .aggregate_field("name", combiners.CountCombineFn(), "n")
               .aggregate_field(lambda r: r.qty, max, "biggest"))
        assert_that(out, equal_to([beam.Row(color="red", total=13, n=2, biggest=10),
                                   beam.Row(color="yellow", total=3, n=2, biggest=2)]))


def test_group_by_two_fields(pipeline):
    with pipeline() as p:
        out = (_rows(p) | beam.GroupBy("color", big=lambda r: r.qty > 2)
               .aggregate_field("qty", sum, "total"))
        assert_that(out, equal_to([beam.Row(color="red", big=True, total=13),
                                   beam.Row(color="yellow", big=False, total=3)]))


def test_select(pipeline):
    with pipeline() as p:
        out = _rows(p) | beam.Select("name", double=lambda r: r.qty * 2)
        assert_that(out, equal_to([beam.Row(name=n, double=q * 2) for n, _, q in FRUIT]))
