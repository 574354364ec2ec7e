//! The fraud example: the same alerts on every runner, bounded and unbounded,
//! as a brute-force count of each card's spend gives.

use beamline_examples::fraud::{expected_alerts, payment, Alert};
use std::collections::BTreeSet;

fn alerts_of(dir: &std::path::Path) -> BTreeSet<String> {
    let mut lines = BTreeSet::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("alerts") {
            for l in std::fs::read_to_string(&path).unwrap().lines() {
                assert!(lines.insert(l.to_string()), "alert {l} written twice");
            }
        }
    }
    lines
}

fn run(args: &[&str]) -> BTreeSet<String> {
    let dir = std::env::temp_dir().join(format!("beamline-fraud-{}-{}", std::process::id(), args.join("_").len()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = format!("--output={}", dir.join("alerts").display());
    let mut all = vec!["fraud", out.as_str()];
    all.extend_from_slice(args);
    beamline_examples::fraud::run(all).unwrap();
    let alerts = alerts_of(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    alerts
}

fn formatted(alerts: Vec<Alert>) -> BTreeSet<String> {
    alerts.into_iter().map(|(c, at, s)| format!("{c},{},{s}", at.div_euclid(1_000_000))).collect()
}

#[test]
fn generated_payments_give_the_brute_force_alerts_on_direct_and_timely() {
    let (events, cards, minutes, limit) = (3000u64, 30u64, 5i64, 150_000u64);
    let payments: Vec<_> = (0..events).map(|n| (payment(n, cards), n as i64 * 1_000_000)).collect();
    let expected = formatted(expected_alerts(&payments, minutes * 60_000_000, limit));
    assert!(expected.len() > 10, "the limit should flag some cards: {}", expected.len());
    let flags = ["--events=3000", "--cards=30", "--minutes=5", "--limit=150000"];
    for runner in [&["--runner=direct"][..], &["--runner=timely", "--workers=1"], &["--runner=timely", "--workers=3"]] {
        let mut args = flags.to_vec();
        args.extend_from_slice(runner);
        assert_eq!(run(&args), expected, "{runner:?}");
    }
}

#[test]
fn a_payments_file_gives_the_same_alerts_on_every_runner() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/payments.csv")).unwrap();
    let payments: Vec<_> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            ((f[1].to_string(), f[2].parse().unwrap()), f[0].parse::<i64>().unwrap() * 1_000_000)
        })
        .collect();
    let expected = formatted(expected_alerts(&payments, 10 * 60_000_000, 100_000));
    assert!(!expected.is_empty());
    let input = concat!("--input=", env!("CARGO_MANIFEST_DIR"), "/data/payments.csv");
    for runner in ["--runner=direct", "--runner=rayon", "--runner=timely"] {
        assert_eq!(run(&[input, runner, "--workers=2"]), expected, "{runner}");
    }
}

#[test]
fn a_bad_line_names_the_step_and_the_line() {
    let dir = std::env::temp_dir().join(format!("beamline-fraud-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.csv");
    std::fs::write(&file, "1,card-1,100\nnot a payment\n").unwrap();
    let input = format!("--input={}", file.display());
    let e = beamline_examples::fraud::run(["fraud", input.as_str()]).unwrap_err().to_string();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(e.contains("ParsePayments") && e.contains("not a payment"), "{e}");
}
