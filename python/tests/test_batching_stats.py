"""``GroupIntoBatches`` (and ``WithShardedKey``), ``BatchElements``,
``ApproximateQuantiles`` and ``ApproximateUnique`` (Globally and PerKey)."""

import random

import pytest

from .compat import assert_that, beam, equal_to, window


def _check_batches(batch_size, expected):
    """Each key's batches hold at most batch_size values and together all of them."""

    def check(actual):
        got = {}
        for key, batch in actual:
            batch = list(batch)
            assert 0 < len(batch) <= batch_size, (key, batch)
            got.setdefault(key, []).extend(batch)
        assert {k: sorted(v) for k, v in got.items()} == expected, got

    return check


def test_group_into_batches(pipeline):
    data = [("a", i) for i in range(7)] + [("b", i) for i in range(3)]
    with pipeline() as p:
        out = p | beam.Create(data) | beam.GroupIntoBatches(3)
        assert_that(out, _check_batches(3, {"a": list(range(7)), "b": list(range(3))}))
        sizes = out | beam.MapTuple(lambda k, b: (k, len(list(b)))) | beam.GroupByKey() \
            | beam.MapTuple(lambda k, ns: (k, sorted(ns)))
        assert_that(sizes, equal_to([("a", [1, 3, 3]), ("b", [3])]), label="sizes")


def test_group_into_batches_with_buffering_duration(pipeline):
    with pipeline() as p:
        out = p | beam.Create([("k", i) for i in range(5)]) | beam.GroupIntoBatches(2, max_buffering_duration_secs=5)
        assert_that(out, _check_batches(2, {"k": list(range(5))}))


def test_group_into_batches_per_window(pipeline):
    with pipeline() as p:
        out = (p | beam.Create([window.TimestampedValue(("k", i), i * 30) for i in range(4)])
               | beam.WindowInto(window.FixedWindows(60))
               # Beam types Create's TimestampedValues as such: say they are pairs.
               | beam.Map(lambda kv: kv).with_output_types(beam.typehints.KV[str, int])
               | beam.GroupIntoBatches(2)
               | beam.MapTuple(lambda k, b: (k, sorted(b))))
        # A batch never mixes windows: elements 1 and 2 are never batched together.
        assert_that(out, equal_to([("k", [0, 1]), ("k", [2, 3])]))


def test_group_into_batches_needs_a_positive_size():
    with pytest.raises(AssertionError, match="batch_size must be a positive value"):
        beam.GroupIntoBatches(0)


def test_group_into_batches_with_sharded_key(pipeline):
    data = [("a", i) for i in range(5)] + [("b", 9)]
    with pipeline() as p:
        out = p | beam.Create(data) | beam.GroupIntoBatches.WithShardedKey(2)
        unsharded = out | beam.MapTuple(lambda sk, b: (sk.key, list(b)))
        assert_that(unsharded, _check_batches(2, {"a": list(range(5)), "b": [9]}))
        ids = out | beam.MapTuple(lambda sk, b: type(sk._shard_id).__name__) | beam.Distinct()
        assert_that(ids, equal_to(["bytes"]), label="ids")


def test_batch_elements(pipeline):
    with pipeline() as p:
        batches = p | beam.Create(list(range(100))) | beam.BatchElements(min_batch_size=3, max_batch_size=10)

        def check(actual):
            actual = [list(b) for b in actual]
            assert all(1 <= len(b) <= 10 for b in actual), actual
            assert sorted(x for b in actual for x in b) == list(range(100))

        assert_that(batches, check)


def test_batch_elements_bad_sizes():
    with pytest.raises(ValueError, match=r"Minimum \(5\) must not be greater than maximum \(2\)"):
        beam.BatchElements(min_batch_size=5, max_batch_size=2)


def test_approximate_quantiles_globally(pipeline):
    with pipeline() as p:
        out = p | beam.Create(list(range(101))) | beam.ApproximateQuantiles.Globally(5)
        assert_that(out, equal_to([[0, 25, 50, 75, 100]]))


def test_approximate_quantiles_options(pipeline):
    with pipeline() as p:
        rev = p | "rev" >> beam.Create(list(range(101))) | "q1" >> beam.ApproximateQuantiles.Globally(5, reverse=True)
        assert_that(rev, equal_to([[100, 75, 50, 25, 0]]), label="reverse")
        weighted = (p | "w" >> beam.Create([(i, 1 if i < 10 else 1e-5) for i in range(101)])
                    | "q2" >> beam.ApproximateQuantiles.Globally(5, weighted=True))
        # Beam's docstring says [0, 2, 5, 7, 100]; Beam computes [0, 2, 4, 7, 100].
        assert_that(weighted, equal_to([[0, 2, 4, 7, 100]]), label="weighted")
        batched = (p | "b" >> beam.Create([list(range(i, i + 10)) for i in range(0, 100, 10)] + [[100]])
                   | "q3" >> beam.ApproximateQuantiles.Globally(5, input_batched=True))
        assert_that(batched, equal_to([[0, 25, 50, 75, 100]]), label="batched")
        keyed = (p | "k" >> beam.Create(["aaa", "b", "cc", "dddd", "eeeee"])
                 | "q4" >> beam.ApproximateQuantiles.Globally(3, key=len))
        assert_that(keyed, equal_to([["b", "aaa", "eeeee"]]), label="key")


def test_approximate_quantiles_per_key(pipeline):
    data = [("a", i) for i in range(11)] + [("b", i) for i in range(100, 105)]
    with pipeline() as p:
        out = p | beam.Create(data) | beam.ApproximateQuantiles.PerKey(3)
        assert_that(out, equal_to([("a", [0, 5, 10]), ("b", [100, 102, 104])]))


def test_approximate_quantiles_of_a_large_input_are_within_epsilon(pipeline):
    n = 20000
    values = list(range(n))
    random.Random(7).shuffle(values)
    with pipeline() as p:
        out = p | beam.Create(values) | beam.ApproximateQuantiles.Globally(11)

        def check(actual):
            [qs] = actual
            assert qs[0] == 0 and qs[-1] == n - 1
            for i, q in enumerate(qs):
                assert abs(q - i * (n - 1) / 10) <= n / 11, qs

        assert_that(out, check)


def test_approximate_unique_small_sets_are_exact(pipeline):
    with pipeline() as p:
        out = p | beam.Create([1, 2, 2, 3, 3, 3, "x"]) | beam.ApproximateUnique.Globally(size=16)
        assert_that(out, equal_to([4]))
        per_key = (p | "kv" >> beam.Create([("a", 1), ("a", 1), ("a", 2), ("b", 5)])
                   | beam.ApproximateUnique.PerKey(size=16))
        assert_that(per_key, equal_to([("a", 2), ("b", 1)]), label="per_key")


def test_approximate_unique_large_set_is_within_the_error(pipeline):
    n = 5000
    data = [i % n for i in range(2 * n)]
    with pipeline() as p:
        out = p | beam.Create(data) | beam.ApproximateUnique.Globally(error=0.1)

        def check(actual):
            [estimate] = actual
            # md5 of Beam's deterministic encoding, as Beam computes it: the same estimate as Beam's.
            assert estimate == 4848 and abs(estimate - n) <= 0.1 * n, estimate

        assert_that(out, check)


def test_approximate_unique_parameters():
    with pytest.raises(ValueError, match="Either size or error should be set"):
        beam.ApproximateUnique.Globally()
    with pytest.raises(ValueError, match="ApproximateUnique needs a size >= 16"):
        beam.ApproximateUnique.Globally(size=10)
    with pytest.raises(ValueError, match="ApproximateUnique needs an estimation error between 0.01 and 0.50"):
        beam.ApproximateUnique.Globally(error=0.9)


def test_group_into_batches_of_non_pairs_is_rejected(pipeline):
    with pytest.raises(beam.typehints.TypeCheckError) as info:
        with pipeline() as p:
            p | beam.Create([1, 2]) | beam.GroupIntoBatches(2)
    assert str(info.value) == ("Input type hint violation at GroupIntoBatches: expected "
                               "Tuple[TypeVariable[K], TypeVariable[V]], got <class 'int'>")
