"""elementwise.rs: Map, FlatMap, Filter, MapTuple, WithKeys, timestamps; Keys, Values, KvSwap."""

from _beam import TimestampedValue, assert_that, beam, equal_to, is_empty
from _common import fixed, reify, secs, timestamped, win


def test_map(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create([1, 2, 3, -4]) | beam.Map(lambda x: x * x), equal_to([1, 4, 9, 16]))


def test_map_changes_type(run):
    with run.pipeline() as p:
        xs = p | beam.Create([1, 22]) | beam.Map(lambda x: (str(x), x / 2.0))
        assert_that(xs, equal_to([("1", 0.5), ("22", 11.0)]))


def test_flat_map(run):
    with run.pipeline() as p:
        lines = p | beam.Create(["the cat", "", "sat  on the mat", "   "])
        assert_that(lines | beam.FlatMap(str.split), equal_to(["the", "cat", "sat", "on", "the", "mat"]))
        assert_that(lines | "Nothing" >> beam.FlatMap(lambda _: []), is_empty(), label="NothingEmpty")


def test_filter(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create(range(20)) | beam.Filter(lambda x: x % 3 == 0), equal_to([0, 3, 6, 9, 12, 15, 18]))


def test_filter_everything_out(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create(range(20)) | beam.Filter(lambda x: x > 100), is_empty())


def test_map_tuple(run):
    with run.pipeline() as p:
        xs = p | beam.Create([("a", 2), ("bc", 3)]) | beam.MapTuple(lambda k, n: k * n)
        assert_that(xs, equal_to(["aa", "bcbcbc"]))


def test_keys(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create([("a", 1), ("b", 2), ("a", 3)]) | beam.Keys(), equal_to(["a", "b", "a"]))


def test_values(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create([("a", 1), ("b", 2), ("a", 3)]) | beam.Values(), equal_to([1, 2, 3]))


def test_kv_swap(run):
    with run.pipeline() as p:
        assert_that(p | beam.Create([("a", 1), ("b", 2)]) | beam.KvSwap(), equal_to([(1, "a"), (2, "b")]))


def test_with_keys(run):
    with run.pipeline() as p:
        xs = p | beam.Create(["apple", "fig"]) | beam.WithKeys(len)
        assert_that(xs, equal_to([(5, "apple"), (3, "fig")]))


def test_with_timestamps(run):
    # Beam has no WithTimestamps transform in Python: a Map emitting TimestampedValue is its idiom.
    with run.pipeline() as p:
        xs = p | beam.Create([3, 15, -2]) | beam.Map(lambda x: TimestampedValue(x, x))
        xs = fixed(xs, 10)
        assert_that(reify(xs), equal_to([(3, secs(3), win(0, 10)), (15, secs(15), win(10, 20)),
                                         (-2, secs(-2), win(-10, 0))]))


def test_closures_keep_timestamps_and_windows(run):
    with run.pipeline() as p:
        xs = fixed(timestamped(p, [(1, 1), (2, 12)]), 10)
        xs = (xs | beam.Map(lambda x: x * 10) | beam.FlatMap(lambda x: [x, x + 1])
              | beam.Filter(lambda x: x % 2 == 0))
        assert_that(reify(xs), equal_to([(10, secs(1), win(0, 10)), (20, secs(12), win(10, 20))]))
