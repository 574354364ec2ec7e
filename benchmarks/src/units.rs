//! Counts written the short way on the command line and in reports (`50M`, `100K`).

use crate::error::{BenchError, Result};

/// Parses `10000`, `100K` / `100k` (thousands) or `50M` / `50m` (millions).
///
/// # Examples
/// ```
/// use beamline_benchmarks::units::parse_count;
/// assert_eq!(parse_count("50M").unwrap(), 50_000_000);
/// assert_eq!(parse_count("1k").unwrap(), 1_000);
/// assert_eq!(parse_count("123").unwrap(), 123);
/// assert!(parse_count("5x").is_err());
/// ```
pub fn parse_count(s: &str) -> Result<u64> {
    let s = s.trim();
    let (digits, scale) = match s.chars().last() {
        Some('k' | 'K') => (&s[..s.len() - 1], 1_000),
        Some('m' | 'M') => (&s[..s.len() - 1], 1_000_000),
        _ => (s, 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| BenchError::Invalid(format!("'{s}' is not a count (examples: 5000, 100K, 50M)")))
}

/// The short form of a count: `50M`, `100K`, `1234`.
///
/// # Examples
/// ```
/// use beamline_benchmarks::units::count_label;
/// assert_eq!(count_label(50_000_000), "50M");
/// assert_eq!(count_label(100_000), "100K");
/// assert_eq!(count_label(1_234), "1234");
/// ```
pub fn count_label(n: u64) -> String {
    if n >= 1_000_000 && n % 1_000_000 == 0 {
        format!("{}M", n / 1_000_000)
    } else if n >= 1_000 && n % 1_000 == 0 {
        format!("{}K", n / 1_000)
    } else {
        n.to_string()
    }
}
