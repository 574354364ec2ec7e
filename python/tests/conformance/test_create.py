"""create.rs: roots (Create, Impulse) and the in-pipeline assertions themselves."""

import struct
from collections import namedtuple

import pytest

from _beam import END_OF_GLOBAL, MIN_TIMESTAMP, TimestampedValue, assert_that, beam, combiners, equal_to, is_empty
from _common import assert_in_window, fixed, reify, secs, timestamped, win



def test_create_values(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create([3, 1, 2, 2, -7]), equal_to([-7, 1, 2, 2, 3]))


def test_create_empty(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create([]), is_empty())


UNICODE = ["", "ascii", "héllo wörld", "日本語のテキスト", "emoji 🦀🚀 and a family 👩‍👩‍👧", "Ελληνικά",
           "עברית מימין לשמאל", "combining e\u0301 vs é", "nul \u0000 inside", "tab\tand\nnewline\r\n",
           "\ufeffbyte order mark", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 outside the BMP", "quotes \" ' \\ and backslashes", "ü" * 10_000]


def test_create_unicode_strings(run):
    with run.pipeline() as p:
        xs = p | beam.Create(UNICODE)
        assert_that(xs, equal_to(UNICODE))
        assert_that(xs | combiners.Count.PerElement(), equal_to([(s, 1) for s in UNICODE]), label="Counts")


def test_create_large_elements(run):
    # A quarter of the Rust case's sizes (4, 3 and 3 Mi characters), for the Python run's time.
    MB = 1 << 18
    big = ["a" * (4 * MB), "b" * (3 * MB) + "z", "é" * (3 * MB)]
    with run.pipeline() as p:
        xs = p | beam.Create(big)
        assert_that(xs, equal_to(list(big)))
        lens = xs | beam.Map(lambda s: (len(s.encode("utf-8")), s[-1]))
        assert_that(lens, equal_to([(4 * MB, "a"), (3 * MB + 1, "z"), (6 * MB, "é")]), label="Lengths")


def test_create_timestamped(run):
    with run.pipeline() as p:
        xs = p | beam.Create([TimestampedValue("a", 5), TimestampedValue("b", -3),
                              TimestampedValue("c", 0.000001), TimestampedValue("d", MIN_TIMESTAMP),
                              TimestampedValue("e", END_OF_GLOBAL)])
        assert_that(reify(xs), equal_to([("a", secs(5), "G"), ("b", secs(-3), "G"), ("c", 1, "G"),
                                         ("d", "MIN", "G"), ("e", "EOGW", "G")]))


def test_create_default_timestamp_is_min(run):
    with run.pipeline() as p:
        assert_that(reify(p | beam.Create([1, 2])), equal_to([(1, "MIN", "G"), (2, "MIN", "G")]))


def test_create_many_elements(run):
    n = 100_000
    with run.pipeline() as p:
        xs = p | beam.Create(range(n))
        assert_that(xs | combiners.Count.Globally(), equal_to([n]), label="Count")
        assert_that(xs | beam.CombineGlobally(sum), equal_to([n * (n - 1) // 2]), label="Sum")


def _bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


FLOATS = [0.1, -0.0, 1e-300, 2.2250738585072014e-308, 5e-324, 1.7976931348623157e308, 2.2250738585072014e-308,
          1.0 / 3.0, 123_456_789.123_456_79, 0.1 + 0.2]


def test_create_floats(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create(FLOATS) | beam.Map(_bits), equal_to([_bits(x) for x in FLOATS]))


def test_create_non_finite_floats(run):
    values = [float("inf"), float("-inf"), float("nan")]
    with run.pipeline() as p:
        assert_that(p | beam.Create(values) | beam.Map(_bits), equal_to([_bits(x) for x in values]))


Record = namedtuple("Record", ["id", "name", "tags", "score", "kind"])


def _records():
    # Rust's enum Kind as tagged tuples: ("Plain",), ("Tuple", i, b), ("Struct", {"x": kind or None}).
    return [
        Record(1, None, [], (-128, 2**63 - 1), ("Plain",)),
        Record(2, "two", ["a", "b"], (127, 0), ("Struct", {"x": ("Tuple", -1, True)})),
        Record(3, "", [""], (0, 1), ("Struct", {"x": None})),
    ]


def test_create_structs_and_options(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create(_records()), equal_to(_records()))


def test_create_units(run):
    with run.pipeline() as p:
        xs = p | beam.Create([None, None, None])
        assert_that(xs | combiners.Count.Globally(), equal_to([3]))
        nested = p | "Nested" >> beam.Create([[None] * 5, []])
        assert_that(nested, equal_to([[None] * 5, []]), label="NestedEq")


def test_impulse_emits_one_unit(run):
    with run.pipeline() as p:
        assert_that(reify(p | beam.Impulse()), equal_to([(b"", "MIN", "G")]))


def test_assert_that_detects_a_mismatch(run):
    with pytest.raises(Exception, match=r"unexpected elements \[1\].*missing elements \[3\]"):
        with run.pipeline() as p:
            assert_that(p | beam.Create([1, 2]), equal_to([2, 3]))


def test_assert_is_empty_detects_elements(run):
    with pytest.raises(Exception, match=r"Failed assert: \[\] == \['x'\]"):
        with run.pipeline() as p:
            assert_that(p | beam.Create(["x"]), is_empty())


def _windowed(p):
    return fixed(timestamped(p, [(1, 1), (2, 9), (3, 10), (4, 35)]), 10)


def test_assert_that_in_window(run):
    with run.pipeline() as p:
        xs = _windowed(p)
        assert_in_window(xs, win(0, 10), equal_to([1, 2]), "W0")
        assert_in_window(xs, win(10, 20), equal_to([3]), "W10")
        assert_in_window(xs, win(20, 30), is_empty(), "W20")
        assert_in_window(xs, win(30, 40), equal_to([4]), "W30")
        assert_that(xs, equal_to([1, 2, 3, 4]))


def test_assert_that_in_window_detects_a_mismatch(run):
    with pytest.raises(Exception, match=r"missing elements \[3\]"):
        with run.pipeline() as p:
            assert_in_window(_windowed(p), win(0, 10), equal_to([1, 2, 3]), "W0")
