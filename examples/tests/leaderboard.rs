//! The leaderboard example: each window's last pane holds the brute-force
//! total of its team's points (late events included), on direct and timely;
//! panes of a window come with increasing indexes, early before on-time
//! before late.

use beamline_examples::leaderboard::score_of;
use std::collections::BTreeMap;

/// `(team, window start)` → the panes' `(index, timing, score)`, from the written files.
type Panes = BTreeMap<(String, i64), Vec<(u64, String, i64)>>;

fn panes_of(dir: &std::path::Path) -> Panes {
    let mut panes = Panes::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if !path.file_name().unwrap().to_string_lossy().starts_with("panes") {
            continue;
        }
        for l in std::fs::read_to_string(&path).unwrap().lines() {
            let f: Vec<&str> = l.split(',').collect();
            let key = (f[0].to_string(), f[1].parse().unwrap());
            panes.entry(key).or_default().push((f[4].parse().unwrap(), f[3].to_string(), f[2].parse().unwrap()));
        }
    }
    panes
}

fn run(tag: &str, args: &[&str]) -> Panes {
    let dir = std::env::temp_dir().join(format!("beamline-leaderboard-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = format!("--output={}", dir.join("panes").display());
    let mut all = vec!["leaderboard", out.as_str()];
    all.extend_from_slice(args);
    beamline_examples::leaderboard::run(all).unwrap();
    let panes = panes_of(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    panes
}

#[test]
fn last_panes_hold_the_brute_force_totals_on_direct_and_timely() {
    // 10 ms apart: 10000 events span 100 s of event time, ten 10 s windows;
    // every 50th is sent 60 s back (within the 120 s allowed). The generator
    // reads 4096 events a step, so all but the first step's late events
    // arrive after the watermark has passed their window.
    let (events, spacing, late_every, late_by) = (10_000u64, 10_000i64, 50u64, 60_000_000i64);
    let mut expected: BTreeMap<(String, i64), i64> = BTreeMap::new();
    for n in 0..events {
        let (team, points) = score_of(n);
        let mut ts = n as i64 * spacing;
        if n % late_every == late_every - 1 {
            ts -= late_by;
        }
        *expected.entry((team.to_string(), ts.div_euclid(10_000_000) * 10_000_000)).or_default() += points;
    }
    let flags =
        ["--events=10000", "--rate=0", "--start=0", "--late-every=50", "--late-by=60", "--allowed-lateness=120"];
    for (tag, runner) in [
        ("direct", &["--runner=direct"][..]),
        ("timely1", &["--runner=timely", "--workers=1"]),
        ("timely3", &["--runner=timely", "--workers=3"]),
    ] {
        let mut args = flags.to_vec();
        args.extend_from_slice(runner);
        let panes = run(tag, &args);
        let mut totals = BTreeMap::new();
        let mut late = 0;
        for (key, mut ps) in panes {
            ps.sort();
            let indexes: Vec<u64> = ps.iter().map(|p| p.0).collect();
            assert_eq!(indexes, (0..ps.len() as u64).collect::<Vec<_>>(), "{runner:?} {key:?}: pane indexes {ps:?}");
            let on_time = ps.iter().filter(|p| p.1 == "ON_TIME").count();
            // A window only late events reached has no on-time pane.
            assert!(on_time <= 1, "{runner:?} {key:?}: at most one on-time pane, got {ps:?}");
            late += ps.iter().filter(|p| p.1 == "LATE").count();
            // Accumulating: scores never go down, and the last is the total.
            assert!(ps.windows(2).all(|w| w[0].2 <= w[1].2), "{runner:?} {key:?}: {ps:?}");
            totals.insert(key, ps.last().unwrap().2);
        }
        // With 3 workers each reads a third of the events in one step, so
        // none arrives behind the watermark there.
        if !runner.contains(&"--workers=3") {
            assert!(late > 0, "{runner:?}: late events should give late panes");
        }
        assert_eq!(totals, expected, "{runner:?}");
    }
}
