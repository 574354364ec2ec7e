//! When an unbounded pipeline stops: on SIGINT or SIGTERM, after
//! `--max-duration`, or once its sources' watermark reaches `--until-watermark`.
//!
//! Stopping is a drain: the sources stop reading and close their frontier, so
//! the watermark advances to the end of time, every window still open fires,
//! and the sinks finish their files. A second signal exits at once (code 130).

use beamline::{Error, PipelineOptions, Result, Timestamp};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

/// Set by SIGINT/SIGTERM.
static SIGNALLED: AtomicBool = AtomicBool::new(false);

/// What ends an unbounded run (a bounded one ends when its input does).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stop {
    started: Instant,
    max_duration: Option<Duration>,
    until_watermark: Option<Timestamp>,
}

impl Stop {
    pub(crate) fn from_options(options: &PipelineOptions) -> Result<Self> {
        let max: String = options.runner_flag("max-duration", String::new())?;
        let until: String = options.runner_flag("until-watermark", String::new())?;
        let max_duration = match max.as_str() {
            "" => None,
            s => Some(parse_duration(s).ok_or_else(|| {
                Error::Options(format!(
                    "error: invalid value '{s}' for '--max-duration': expected a duration like 30s, 500ms, 5m or 2h"
                ))
            })?),
        };
        let until_watermark = match until.as_str() {
            "" => None,
            s => Some(s.parse::<f64>().ok().filter(|v| v.is_finite()).map(|secs| Timestamp::from_micros((secs * 1e6) as i64)).ok_or_else(
                || {
                    Error::Options(format!(
                        "error: invalid value '{s}' for '--until-watermark': expected event time in seconds since the epoch"
                    ))
                },
            )?),
        };
        Ok(Stop { started: Instant::now(), max_duration, until_watermark })
    }

    /// Whether sources should stop reading now, given their watermark.
    pub(crate) fn should_stop(&self, watermark: Timestamp) -> bool {
        SIGNALLED.load(Ordering::Relaxed)
            || self.max_duration.is_some_and(|d| self.started.elapsed() >= d)
            || self.until_watermark.is_some_and(|w| watermark >= w)
    }
}

/// `30s`, `500ms`, `5m`, `2h` or plain seconds (`1.5`).
pub(crate) fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let scale = match unit {
        "ms" => 1e-3,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    let secs = number.trim().parse::<f64>().ok()? * scale;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// Makes SIGINT and SIGTERM start a drain (once per process); a second
/// signal terminates the process.
pub(crate) fn install_signal_handlers() -> Result<()> {
    static INSTALL: Once = Once::new();
    let mut result = Ok(());
    INSTALL.call_once(|| {
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // The exit must be registered first: it acts only once the flag is set.
            let registered = signal_hook::flag::register_conditional_shutdown(signal, 130, &SIGNALLED)
                .and_then(|_| signal_hook::flag::register(signal, &SIGNALLED));
            if let Err(e) = registered {
                result = Err(Error::Runner { runner: "timely".into(), message: format!("cannot handle signals: {e}") });
            }
        }
    });
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("-1s"), None);
        assert_eq!(parse_duration("5 parsecs"), None);
    }
}
