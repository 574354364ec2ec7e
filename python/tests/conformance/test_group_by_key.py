"""group_by_key.rs: many keys, one huge key, empty input, per window (fixed,
sliding, merging sessions) and the output timestamps."""

from _beam import assert_that, beam, equal_to, is_empty, window
from _common import Generate, end_of, reify, sort_group, summarize, timestamped_kvs, win

TC = window.TimestampCombiner


def test_gbk_basic(run):
    with run.pipeline() as p:
        g = (p | beam.Create([("a", 1), ("b", 2), ("a", 3), ("c", 4), ("a", 3)]) | beam.GroupByKey()
             | beam.Map(sort_group))
        assert_that(g, equal_to([("a", [1, 3, 3]), ("b", [2]), ("c", [4])]))


def _generated(p, seeds, per_seed, keys):
    return p | beam.Create(range(seeds)) | beam.ParDo(Generate(per_seed, keys))


def test_gbk_many_keys(run):
    seeds, keys = 5, 2_000  # the Rust case's 20 000 keys, cut to keep the Python run short
    with run.pipeline() as p:
        g = _generated(p, seeds, keys, keys) | beam.GroupByKey() | beam.Map(summarize)
        assert_that(g, equal_to([(k, seeds, seeds * k + keys * (seeds * (seeds - 1) // 2), k, (seeds - 1) * keys + k)
                                 for k in range(keys)]))


def test_gbk_one_key_a_million_values(run):
    n = 100_000  # the Rust case's million, cut to keep the Python run short
    with run.pipeline() as p:
        g = _generated(p, 16, n // 16, 1) | beam.GroupByKey() | beam.Map(summarize)
        assert_that(g, equal_to([(0, n, n * (n - 1) // 2, 0, n - 1)]))


def test_gbk_empty_input(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create([]) | beam.GroupByKey(), is_empty())


def test_gbk_large_values(run):
    mb = 1 << 20
    with run.pipeline() as p:
        g = (p | beam.Create([("k", "a" * (3 * mb)), ("k", "b" * (4 * mb)), ("k", "")]) | beam.GroupByKey()
             | beam.Map(lambda kv: (kv[0], sorted(len(v) for v in kv[1]))))
        assert_that(g, equal_to([("k", [0, 3 * mb, 4 * mb])]))


def _sessions(pcoll, gap, label="Sessions", **kw):
    return pcoll | label >> beam.WindowInto(window.Sessions(gap), **kw)


def test_gbk_sessions_twice(run):
    with run.pipeline() as p:
        g = (_sessions(timestamped_kvs(p, [("a", 1, 1), ("a", 2, 2), ("b", 3, 4), ("c", 4, 20)]), 3)
             | "PerKey" >> beam.GroupByKey() | beam.Map(lambda kv: ("all", len(kv[1])))
             | "All" >> beam.GroupByKey() | beam.Map(sort_group))
        assert_that(reify(g, ms=True), equal_to([(("all", [1, 2]), end_of(1, 7), win(1, 7)),
                                        (("all", [1]), end_of(20, 23), win(20, 23))]))


def test_gbk_composite_keys(run):
    k1 = (None, b"", -1)
    k2 = ("ключ🔑", bytes([0, 255]), 0)
    k3 = ("", b"\x00", 0)
    with run.pipeline() as p:
        g = (p | beam.Create([(k1, 1), (k2, 2), (k1, 3), (k3, 4), (k2, 5)]) | beam.GroupByKey()
             | beam.Map(sort_group))
        assert_that(g, equal_to([(k1, [1, 3]), (k2, [2, 5]), (k3, [4])]))


def test_gbk_twice(run):
    with run.pipeline() as p:
        g = (p | beam.Create([("a", 1), ("b", 2), ("a", 3), ("c", 4), ("d", 5), ("d", 6)])
             | "First" >> beam.GroupByKey() | beam.Map(lambda kv: (len(list(kv[1])), kv[0]))
             | "Second" >> beam.GroupByKey() | beam.Map(sort_group))
        assert_that(g, equal_to([(1, ["b", "c"]), (2, ["a", "d"])]))


def _grouped(pcoll, windowfn, **kw):
    return (pcoll | beam.WindowInto(windowfn, **kw) | beam.GroupByKey() | beam.Map(sort_group))


def test_gbk_fixed_windows(run):
    with run.pipeline() as p:
        g = _grouped(timestamped_kvs(p, [("a", 1, 1), ("a", 2, 9), ("a", 3, 10), ("b", 4, 5), ("b", 5, 25)]),
                     window.FixedWindows(10))
        assert_that(reify(g, ms=True), equal_to([(("a", [1, 2]), end_of(0, 10), win(0, 10)),
                                        (("a", [3]), end_of(10, 20), win(10, 20)),
                                        (("b", [4]), end_of(0, 10), win(0, 10)),
                                        (("b", [5]), end_of(20, 30), win(20, 30))]))


def test_gbk_sliding_windows(run):
    with run.pipeline() as p:
        g = _grouped(timestamped_kvs(p, [("a", 1, 7), ("a", 2, 12)]), window.SlidingWindows(10, 5))
        assert_that(reify(g, ms=True), equal_to([(("a", [1]), end_of(0, 10), win(0, 10)),
                                        (("a", [1, 2]), end_of(5, 15), win(5, 15)),
                                        (("a", [2]), end_of(10, 20), win(10, 20))]))


def test_gbk_sessions_merge(run):
    with run.pipeline() as p:
        g = _grouped(timestamped_kvs(p, [("a", 1, 1), ("a", 2, 2), ("a", 3, 4), ("a", 4, 20), ("b", 5, 3),
                                         ("b", 6, 30)]), window.Sessions(3))
        assert_that(reify(g, ms=True), equal_to([(("a", [1, 2, 3]), end_of(1, 7), win(1, 7)),
                                        (("a", [4]), end_of(20, 23), win(20, 23)),
                                        (("b", [5]), end_of(3, 6), win(3, 6)),
                                        (("b", [6]), end_of(30, 33), win(30, 33))]))


def test_gbk_sessions_chain_merge(run):
    times = [10, 1, 7, 4, 13, 30, 16]
    with run.pipeline() as p:
        g = _grouped(timestamped_kvs(p, [("k", t, t) for t in times]), window.Sessions(4))
        assert_that(reify(g, ms=True), equal_to([(("k", [1, 4, 7, 10, 13, 16]), end_of(1, 20), win(1, 20)),
                                        (("k", [30]), end_of(30, 34), win(30, 34))]))


def _grouped_timestamps(p, combiner):
    return reify(ms=True, pcoll=_grouped(timestamped_kvs(p, [("a", 1, 3), ("a", 2, 7), ("a", 3, 5), ("b", 4, 12)]),
                          window.FixedWindows(10), timestamp_combiner=combiner))


def test_gbk_timestamp_end_of_window(run):
    with run.pipeline() as p:
        assert_that(_grouped_timestamps(p, TC.OUTPUT_AT_EOW),
                    equal_to([(("a", [1, 2, 3]), end_of(0, 10), win(0, 10)), (("b", [4]), end_of(10, 20), win(10, 20))]))


def test_gbk_timestamp_earliest(run):
    from _common import secs
    with run.pipeline() as p:
        assert_that(_grouped_timestamps(p, TC.OUTPUT_AT_EARLIEST),
                    equal_to([(("a", [1, 2, 3]), secs(3), win(0, 10)), (("b", [4]), secs(12), win(10, 20))]))


def test_gbk_timestamp_latest(run):
    from _common import secs
    with run.pipeline() as p:
        assert_that(_grouped_timestamps(p, TC.OUTPUT_AT_LATEST),
                    equal_to([(("a", [1, 2, 3]), secs(7), win(0, 10)), (("b", [4]), secs(12), win(10, 20))]))


def test_gbk_timestamp_global_window(run):
    with run.pipeline() as p:
        g = timestamped_kvs(p, [("a", 1, 3), ("a", 2, 70)]) | beam.GroupByKey() | beam.Map(sort_group)
        assert_that(reify(g, ms=True), equal_to([(("a", [1, 2]), "EOGW", "G")]))


def test_gbk_sessions_timestamp_earliest(run):
    from _common import secs
    with run.pipeline() as p:
        g = _grouped(timestamped_kvs(p, [("a", 1, 5), ("a", 2, 3), ("a", 3, 7)]), window.Sessions(3),
                     timestamp_combiner=TC.OUTPUT_AT_EARLIEST)
        assert_that(reify(g, ms=True), equal_to([(("a", [1, 2, 3]), secs(3), win(3, 10))]))
