"""random.rs: seeded random pipelines (random timestamped input, a random chain of
map / filter / flat_map / delay / group / combine / flatten / window steps), each
checked against a plain-Python model of the same chain.

The Rust cases draw from Rust's StdRng; these draw the same kind of chain, with the
same grammar and bounds, from Python's ``random.Random`` seeded with the same numbers
(so the data differ from the Rust cases'). Input timestamps are whole milliseconds,
Beam Python's precision across a shuffle, and sizes are smaller, for the Python run's time."""

import random

import pytest

from _beam import END_OF_GLOBAL, MIN_TIMESTAMP, TimestampedValue, assert_that, beam, timestamp, window
from _common import equal_sorted, reify

CASES = 24
MAX_ELEMENTS = 4_000  # the Rust suite's 30 000, cut for the Python run
MAX_INPUT = 400  # the Rust suite's 2000
MODULUS = 1_000_003
SEC = 1_000_000


class _Gen:
    def __init__(self, rng, size):
        self.rng = rng
        self.ops = []
        self.size = size
        self.aggregated = False

    def push(self, op):
        kind = op[0]
        grows = {"flat_map": op[1] if kind == "flat_map" else 1, "flatten": 2}.get(kind, 1)
        if kind == "window" and op[1][0] == "sliding":
            grows = op[1][1] // op[1][2]
        if self.size * grows > MAX_ELEMENTS:
            return
        self.size *= grows
        self.aggregated |= kind in ("group", "combine_per_key", "combine_globally")
        self.ops.append(op)

    def element_wise(self, lo, hi):
        r = self.rng
        for _ in range(r.randint(lo, hi)):
            c = r.randrange(5)
            if c == 0:
                op = ("map", r.randrange(1, 50), r.randrange(0, 1000), r.randrange(50, 5000))
            elif c == 1:
                op = ("filter", r.randrange(2, 6), r.randrange(0, 2))
            elif c == 2:
                op = ("flat_map", 0 if r.random() < 0.1 else r.randint(1, 3))
            elif c == 3 and not self.aggregated:
                op = ("delay",)
            else:
                op = ("flatten", r.randrange(1, 100))
            self.push(op)

    def window(self):
        r = self.rng
        c = r.randrange(7)
        if c == 0:
            w = ("global",)
        elif c in (1, 2):
            size = r.randrange(1, 90)
            w = ("fixed", size, r.randrange(0, size))
        elif c in (3, 4):
            period = r.randrange(1, 40)
            w = ("sliding", period * r.randint(1, 3), period)
        else:
            w = ("sessions", r.randrange(1, 30))
        self.push(("window", w))

    def aggregate(self):
        r = self.rng
        c = r.randrange(5)
        if c in (0, 1):
            self.push(("group", r.randrange(1, 200)))
        elif c in (2, 3):
            self.push(("combine_per_key", r.randrange(1, 200)))
        else:
            self.push(("combine_globally",))


def generate(seed):
    rng = random.Random(0xBEA71111 + seed)
    n = rng.randrange(0, MAX_INPUT)
    data = [(rng.randrange(0, 1000), rng.randrange(0, 300_000) * 1000) for _ in range(n)]
    g = _Gen(rng, n)
    g.element_wise(1, 3)
    if rng.random() < 0.7:
        g.window()
    g.element_wise(0, 2)
    if rng.random() < 0.9:
        g.aggregate()
    g.element_wise(0, 2)
    if rng.random() < 0.5:
        if rng.random() < 0.6:
            g.window()
        g.aggregate()
        g.element_wise(0, 1)
    return data, g.ops


# The model -----------------------------------------------------------------

def _assign(w, t):
    if w[0] == "global":
        return [None]
    if w[0] == "fixed":
        size, offset = w[1] * SEC, w[2] * SEC
        start = t - (t - offset) % size
        return [(start, start + size)]
    if w[0] == "sliding":
        size, period = w[1] * SEC, w[2] * SEC
        start = t - t % period
        out = []
        while start > t - size:
            out.append((start, start + size))
            start -= period
        return out
    return [(t, t + w[1] * SEC)]


def _group(xs, keys, win, f):
    per_key = {}
    for v, _, w in xs:
        per_key.setdefault(v % keys, []).append((w, v))
    out = []
    for k, items in per_key.items():
        if win[0] == "sessions":
            items.sort(key=lambda wv: wv[0])
            merged = []
            for w, v in items:
                s, e = w
                if merged and s < merged[-1][0][1] and merged[-1][0][0] < e:
                    merged[-1][0] = (merged[-1][0][0], max(merged[-1][0][1], e))
                    merged[-1][1].append(v)
                else:
                    merged.append([(s, e), [v]])
            for w, vs in merged:
                out.append((f(k, vs), w[1] - 1, w))
        else:
            by_window = {}
            for w, v in items:
                by_window.setdefault(w, []).append(v)
            for w, vs in by_window.items():
                out.append((f(k, vs), END_OF_GLOBAL.micros if w is None else w[1] - 1, w))
    return out


def _reduce(k, vs):
    return (k * 7 + sum(vs) * 3 + len(vs)) % MODULUS


def model(data, ops, global_combine_at_min=True):
    """The expected (value, timestamp, window) of the chain, as plain Python computes it.

    Beam Python puts a CombineGlobally's output in the global window at MIN_TIMESTAMP (it comes
    from the default-injecting Create); ``global_combine_at_min=False`` gives the Rust suite's
    model (the end of the global window), to tell a beamline difference from a bug."""
    xs = [(v, t, None) for v, t in data]
    win = ("global",)
    for op in ops:
        kind = op[0]
        if kind == "map":
            _, mul, add, mod = op
            xs = [((v * mul + add) % mod, t, w) for v, t, w in xs]
        elif kind == "filter":
            xs = [(v, t, w) for v, t, w in xs if v % op[1] != op[2]]
        elif kind == "flat_map":
            xs = [(v + i, t, w) for v, t, w in xs for i in range(op[1])]
        elif kind == "delay":
            # Beam Python assigns a TimestampedValue emitted by a DoFn to the windows of its new
            # timestamp (by the PCollection's WindowFn); the Rust model keeps the old window.
            if win[0] == "global":
                xs = [(v, t + (v % 5) * SEC, w) for v, t, w in xs]
            else:
                xs = [(v, t + (v % 5) * SEC, w2) for v, t, _ in xs for w2 in _assign(win, t + (v % 5) * SEC)]
        elif kind == "group":
            xs = _group(xs, op[1], win, _reduce)
        elif kind == "combine_per_key":
            xs = _group(xs, op[1], win, lambda k, vs: (k * 7 + sum(vs)) % MODULUS)
        elif kind == "combine_globally":
            if win[0] == "global":
                total = sum(v for v, _, _ in xs) % MODULUS
                if global_combine_at_min or not xs:
                    xs = [(total, MIN_TIMESTAMP.micros, None)]
                else:
                    xs = [(total, END_OF_GLOBAL.micros, None)]
            else:
                xs = _group(xs, 1, win, lambda _, vs: sum(vs) % MODULUS)
        elif kind == "flatten":
            xs = xs + [(v + op[1], t, w) for v, t, w in xs]
        elif kind == "window":
            win = op[1]
            xs = [(v, t, w2) for v, t, _ in xs for w2 in _assign(win, t)]
    return xs


def _coarse(x):
    """Timestamps and window bounds to 10 ms.

    Beam Python carries timestamps and windows across a shuffle in milliseconds, so a window
    assigned to a grouped output (at the end of its window, less 1 us) starts 1 ms earlier in Beam
    than in beamline, and its own end less 1 us, truncated again, lies 2 ms before; at 10 ms both
    agree (the test data are whole milliseconds and windows whole seconds)."""
    if isinstance(x, int):
        return x // 10_000 * 10_000
    if isinstance(x, tuple):
        return tuple(_coarse(b) for b in x)
    return x


def _coarse_elem(e):
    return (e[0], _coarse(e[1]), _coarse(e[2]))


def _plain(xs):
    """Model elements as reify(ms=True) and _coarse_elem give them."""
    out = []
    for v, t, w in xs:
        if t == MIN_TIMESTAMP.micros:
            ts = "MIN"
        elif t // 1000 == END_OF_GLOBAL.micros // 1000:
            ts = "EOGW"
        else:
            ts = t // 1000 * 1000
        out.append(_coarse_elem((v, ts, "G" if w is None else w)))
    return out


# The pipeline --------------------------------------------------------------

def _window_fn(w):
    if w[0] == "global":
        return window.GlobalWindows()
    if w[0] == "fixed":
        return window.FixedWindows(w[1], offset=w[2])
    if w[0] == "sliding":
        return window.SlidingWindows(w[1], w[2])
    return window.Sessions(w[1])


class _Delay(beam.DoFn):
    def process(self, v, t=beam.DoFn.TimestampParam):
        yield TimestampedValue(v, t + v % 5)


def build(p, data, ops):
    pc = (p | beam.Create(data)
          | "Stamp" >> beam.Map(lambda vt: TimestampedValue(vt[0], timestamp.Timestamp(micros=vt[1]))))
    win = ("global",)
    for i, op in enumerate(ops):
        kind = op[0]
        label = "%d:%s" % (i, kind)
        if kind == "map":
            pc = pc | label >> beam.Map(lambda v, m=op[1], a=op[2], mod=op[3]: (v * m + a) % mod)
        elif kind == "filter":
            pc = pc | label >> beam.Filter(lambda v, k=op[1], r=op[2]: v % k != r)
        elif kind == "flat_map":
            pc = pc | label >> beam.FlatMap(lambda v, c=op[1]: [v + j for j in range(c)])
        elif kind == "delay":
            pc = pc | label >> beam.ParDo(_Delay())
        elif kind == "group":
            pc = (pc | label + "/Key" >> beam.Map(lambda v, k=op[1]: (v % k, v))
                  | label + "/Group" >> beam.GroupByKey()
                  | label + "/Reduce" >> beam.Map(lambda kv: _reduce(kv[0], list(kv[1]))))
        elif kind == "combine_per_key":
            pc = (pc | label + "/Key" >> beam.Map(lambda v, k=op[1]: (v % k, v))
                  | label + "/Sum" >> beam.CombinePerKey(sum)
                  | label + "/Fold" >> beam.Map(lambda kv: (kv[0] * 7 + kv[1]) % MODULUS))
        elif kind == "combine_globally":
            combine = beam.CombineGlobally(sum)
            if win[0] != "global":
                combine = combine.without_defaults()  # Beam refuses defaults in other windows
            pc = pc | label + "/Sum" >> combine | label + "/Mod" >> beam.Map(lambda v: v % MODULUS)
        elif kind == "flatten":
            shifted = pc | label + "/Shift" >> beam.Map(lambda v, a=op[1]: v + a)
            pc = (pc, shifted) | label >> beam.Flatten()
        elif kind == "window":
            win = op[1]
            pc = pc | label >> beam.WindowInto(_window_fn(win))
    return reify(pc, "Reify", ms=True) | "Coarse" >> beam.Map(_coarse_elem)


def _check(run, seed):
    data, ops = generate(seed)
    expected = _plain(model(data, ops))
    with run.pipeline() as p:
        assert_that(build(p, data, ops), equal_sorted(expected))


def _case(seed):
    def test(run):
        _check(run, seed)
    test.__name__ = "test_random_pipeline_%02d" % seed
    test.__doc__ = "Random pipeline %d: %s" % (seed, generate(seed)[1])
    return test


for _seed in range(CASES):
    globals()["test_random_pipeline_%02d" % _seed] = _case(_seed)


def test_the_cases_cover_every_kind_of_step():
    """As in random.rs: the seeds give chains with every kind of step and mostly non-empty answers."""
    cases = [generate(s) for s in range(CASES)]
    ops = [op for _, o in cases for op in o]
    kinds = {op[0] if op[0] != "window" else "window:" + op[1][0] for op in ops}
    want = {"map", "filter", "flat_map", "delay", "group", "combine_per_key", "combine_globally", "flatten",
            "window:global", "window:fixed", "window:sliding", "window:sessions"}
    assert want <= kinds, want - kinds
    non_empty = sum(1 for d, o in cases if model(d, o))
    assert non_empty * 4 >= CASES * 3, non_empty
