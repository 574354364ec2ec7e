"""side_inputs.rs: singleton (with and without default), list, dict, multimap,
and side inputs matched to the main input's window."""

import pytest

from _beam import assert_that, beam, equal_to, is_empty, pvalue, window
from _common import fixed, timestamped


SIDE_PICKLE = ("beamline bug: any side input fails at construction: 'cannot pickle the code of <step>: a PCollection "
               "cannot be pickled' (the invoker pickles the AsSingleton/AsList arguments with their PCollection)")


def _add(x, s):
    return x + s


def _add_side(main, side):
    return main | "AddSide" >> beam.Map(_add, side)


def test_side_input_singleton(run):
    with run.pipeline() as p:
        main = p | "Main" >> beam.Create([1, 2, 3])
        side = p | "Side" >> beam.Create([10])
        assert_that(_add_side(main, pvalue.AsSingleton(side)), equal_to([11, 12, 13]))


def test_side_input_singleton_with_default(run):
    with run.pipeline() as p:
        main = p | "Main" >> beam.Create([1, 2])
        side = p | "Side" >> beam.Create([])
        assert_that(_add_side(main, pvalue.AsSingleton(side, default_value=100)), equal_to([101, 102]))


def test_side_input_singleton_default_unused(run):
    with run.pipeline() as p:
        main = p | "Main" >> beam.Create([1, 2])
        side = p | "Side" >> beam.Create([5])
        assert_that(_add_side(main, pvalue.AsSingleton(side, default_value=100)), equal_to([6, 7]))


def _fails_in(run, build, label, message=""):
    p = run.pipeline()
    build(p)
    with pytest.raises(Exception) as info:
        p.run().wait_until_finish()
    text = str(info.value)
    assert label in text and message in text, text[:2000]


def test_side_input_singleton_empty_fails(run):
    # Beam hands the DoFn an EmptySideInput for an empty singleton without default; adding to it
    # fails in the step (the Rust case wants the error "is empty" from the runner).
    def build(p):
        _add_side(p | "Main" >> beam.Create([1]), pvalue.AsSingleton(p | "Side" >> beam.Create([])))
    _fails_in(run, build, "AddSide")


def test_side_input_singleton_of_two_fails(run):
    def build(p):
        _add_side(p | "Main" >> beam.Create([1]), pvalue.AsSingleton(p | "Side" >> beam.Create([1, 2])))
    _fails_in(run, build, "AddSide", "more than one element")


def test_side_input_singleton_computed(run):
    with run.pipeline() as p:
        main = p | "Main" >> beam.Create([1, 2])
        total = p | "Side" >> beam.Create(range(1, 101)) | beam.CombineGlobally(sum)
        assert_that(_add_side(main, pvalue.AsSingleton(total)), equal_to([5051, 5052]))


def _read_list(main, side):
    return main | "ReadList" >> beam.Map(lambda x, xs: (x, sum(xs), len(xs)), pvalue.AsList(side))


def test_side_input_list(run):
    with run.pipeline() as p:
        main = p | "Main" >> beam.Create([1, 2])
        side = p | "Side" >> beam.Create([10, 20, 30, 30])
        assert_that(_read_list(main, side), equal_to([(1, 90, 4), (2, 90, 4)]))


def test_side_input_list_empty(run):
    with run.pipeline() as p:
        main = p | "Main" >> beam.Create([1])
        side = p | "Side" >> beam.Create([])
        assert_that(_read_list(main, side), equal_to([(1, 0, 0)]))


def _lookup(p, side):
    main = p | "Main" >> beam.Create(["a", "b", "zz"])
    side = p | "Side" >> beam.Create(side)
    return main | "Lookup" >> beam.Map(lambda k, d: (k, d.get(k)), pvalue.AsDict(side))


def test_side_input_map(run):
    with run.pipeline() as p:
        assert_that(_lookup(p, [("a", 1), ("b", 2), ("c", 3)]), equal_to([("a", 1), ("b", 2), ("zz", None)]))


def test_side_input_map_duplicate_key_fails(run):
    # Beam's AsDict is dict(pairs): a duplicate key does not fail, one of its values wins
    # (the Rust case expects the error "twice").
    with run.pipeline() as p:
        out = _lookup(p, [("a", 1), ("a", 2)]) | beam.Map(lambda kv: (kv[0], kv[1] in (1, 2) if kv[0] == "a" else kv[1]))
        assert_that(out, equal_to([("a", True), ("b", None), ("zz", None)]))


def test_side_input_multimap(run):
    # Beam's multimap view is read as m[key] (an empty iterable for a missing key); it has no .get.
    with run.pipeline() as p:
        main = p | "Main" >> beam.Create(["a", "b", "zz"])
        side = p | "Side" >> beam.Create([("a", 3), ("a", 1), ("b", 2), ("a", 3)])
        out = main | "LookupAll" >> beam.Map(lambda k, m: (k, sorted(m[k])), pvalue.AsMultiMap(side))
        assert_that(out, equal_to([("a", [1, 3, 3]), ("b", [2]), ("zz", [])]))


class TwoSides(beam.DoFn):
    def process(self, x, offset, factors):
        for f in factors:
            yield x * f + offset


def test_side_input_two_sides(run):
    with run.pipeline() as p:
        main = p | "Main" >> beam.Create([1, 2])
        offset = p | "Offset" >> beam.Create([1000])
        factors = p | "Factors" >> beam.Create([1, 10])
        out = main | beam.ParDo(TwoSides(), pvalue.AsSingleton(offset), pvalue.AsList(factors))
        assert_that(out, equal_to([1001, 1010, 1002, 1020]))


def _pair(main, side):
    return main | "PairSide" >> beam.Map(lambda x, s: (x, s), side)


def test_side_input_fixed_windows(run):
    from _common import assert_in_window, win
    with run.pipeline() as p:
        main = fixed(timestamped(p, [(1, 1), (11, 11), (21, 21)], "Main"), 10, "MainFixed")
        side = fixed(timestamped(p, [(100, 9), (200, 10)], "Side"), 10, "SideFixed")
        out = _pair(main, pvalue.AsSingleton(side, default_value=0))
        assert_that(out, equal_to([(1, 100), (11, 200), (21, 0)]))
        assert_in_window(out, win(10, 20), equal_to([(11, 200)]), "InWindow")


def test_side_input_list_fixed_windows(run):
    with run.pipeline() as p:
        main = fixed(timestamped(p, [(1, 5), (2, 15), (3, 25)], "Main"), 10, "MainFixed")
        side = fixed(timestamped(p, [(10, 0), (20, 9), (30, 12), (40, 99)], "Side"), 10, "SideFixed")
        assert_that(_read_list(main, side), equal_to([(1, 30, 2), (2, 30, 1), (3, 0, 0)]))


def test_side_input_global_side_windowed_main(run):
    with run.pipeline() as p:
        main = fixed(timestamped(p, [(1, 1), (2, 55)], "Main"), 10, "MainFixed")
        side = p | "Side" >> beam.Create([7])
        assert_that(_pair(main, pvalue.AsSingleton(side)), equal_to([(1, 7), (2, 7)]))


def test_side_input_empty_main(run):
    with run.pipeline() as p:
        main = p | "Main" >> beam.Create([])
        side = p | "Side" >> beam.Create([1])
        assert_that(_add_side(main, pvalue.AsSingleton(side)), is_empty())


def test_side_input_sliding_side_window_mapping(run):
    # Beam Python's default_window_mapping_fn: the side window is assign(main window's max_timestamp)[-1].
    with run.pipeline() as p:
        main = timestamped(p, [(1, 7)], "Main") | "MainWindows" >> beam.WindowInto(window.FixedWindows(5))
        side = (timestamped(p, [(10, 2), (20, 12)], "Side")
                | "SideWindows" >> beam.WindowInto(window.SlidingWindows(10, 5)))
        assert_that(_read_list(main, side), equal_to([(1, 10, 1)]))


class BigSides(beam.DoFn):
    def process(self, x, lst, mp):
        yield (x, sum(lst), mp.get(x))


def test_side_input_large_list_and_map(run):
    n = 10_000  # the Rust case's 100 000, cut for the Python run (each of 1000 elements sums the list)
    with run.pipeline() as p:
        main = p | "Main" >> beam.Create([i * 150 for i in range(1000)])
        lst = p | "List" >> beam.Create(range(n))
        mp = p | "Map" >> beam.Create([(i, -i) for i in range(n)])
        out = main | beam.ParDo(BigSides(), pvalue.AsList(lst), pvalue.AsDict(mp))
        total = n * (n - 1) // 2
        assert_that(out, equal_to([(x, total, -x if x < n else None) for x in (i * 150 for i in range(1000))]))


def test_side_input_defaults_differ_per_step(run):
    with run.pipeline() as p:
        main = p | "Main" >> beam.Create([1])
        empty = p | "Empty" >> beam.Create([])
        a = main | "AddA" >> beam.Map(_add, pvalue.AsSingleton(empty, default_value=100))
        b = main | "AddB" >> beam.Map(_add, pvalue.AsSingleton(empty, default_value=5))
        assert_that(a, equal_to([101]), label="A")
        assert_that(b, equal_to([6]), label="B")
