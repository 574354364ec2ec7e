"""The streaming examples as users run them (examples/python/leader_board.py,
Beam's leaderboard on generated events; examples/python/stateful_sessions.py,
state and timers), whole processes on direct, timely and a 2-process timely
cluster, checked against a brute-force computation of the same events."""

import ast
import collections
import glob
import os
import pathlib
import re
import subprocess
import sys

import pytest

from .compat import BEAM

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLES = os.path.join(ROOT, "examples", "python")

pytestmark = pytest.mark.skipif(BEAM, reason="runs beamline's example programs, whose sources are beamline's "
                                             "generators (Beam's GenerateSequence is a Java cross-language transform)")

RUNNERS = [["--runner=direct"], ["--runner=timely", "--workers=1"], ["--runner=timely", "--workers=2"],
           ["--runner=timely", "--processes=2", "--workers=1"]]
IDS = ["direct", "timely-1", "timely-2", "timely-processes-2"]


def _run(script, *args, cwd):
    return subprocess.run([sys.executable, os.path.join(EXAMPLES, script), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("flags", RUNNERS, ids=IDS)
def test_leader_board(tmp_path, flags):
    events = 600
    r = _run("leader_board.py", "--events=%d" % events, "--rate=20000", "--output=%s" % (tmp_path / "lb"), *flags,
             cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    # Users, in the global window with Repeatedly(AfterCount(10)), accumulating:
    # the last pane of each user holds all of its events.
    users = collections.defaultdict(int)
    for m in re.finditer(r"leader_board_users: (\{.*\})", r.stderr):
        row = ast.literal_eval(m.group(1))
        users[row["user"]] = max(users[row["user"]], row["total_score"])
    teams = ["AsparagusPig", "BananaBeetle", "CarrotCat", "DaikonDog", "EggplantEel"]
    expected = collections.Counter()
    for n in range(events):
        user = n % 20
        expected["user%d_%s" % (user, teams[user % 5])] += (n * 7) % 20 + 1
    assert dict(users) == dict(expected)
    # Teams, in hourly windows with early panes every 10 events, accumulating:
    # a window's panes only grow, and its last one holds at most all of its
    # events (late ones, 45 minutes behind, may be dropped: no lateness is allowed).
    files = glob.glob(str(tmp_path / "lb_leader_board_teams-*"))
    assert files
    panes = collections.defaultdict(list)
    for f in files:
        for line in pathlib.Path(f).read_text().splitlines():
            row = ast.literal_eval(line)
            panes[(row["window_start"], row["team"])].append(row["total_score"])
    team_total = collections.Counter()
    for n in range(events):
        team_total[teams[(n % 20) % 5]] += (n * 7) % 20 + 1
    by_team = collections.Counter()
    for (_, team), totals in panes.items():
        by_team[team] += max(totals)
    assert all(by_team[t] <= team_total[t] for t in teams)
    assert sum(by_team.values()) >= 0.9 * sum(team_total.values())


@pytest.mark.parametrize("flags", RUNNERS, ids=IDS)
def test_stateful_sessions(tmp_path, flags):
    events = 3000
    r = _run("stateful_sessions.py", "--events=%d" % events, "--rate=50000", "--output=%s" % (tmp_path / "s"),
             *flags, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    sessions = [line.split(",") for f in glob.glob(str(tmp_path / "s-*"))
                for line in pathlib.Path(f).read_text().splitlines()]
    # Users take turns of 100 clicks 0.1 s apart and come back 500 s later:
    # every turn is one session of 100 clicks, closed by its idle timer.
    assert len(sessions) == events // 100
    assert all(int(s[1]) == 100 for s in sessions)
    assert all(float(s[3]) - float(s[2]) < 30 for s in sessions)
    assert len({s[0] for s in sessions}) == min(50, events // 100)
