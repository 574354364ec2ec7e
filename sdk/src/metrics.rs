//! Metrics: counters, distributions and gauges reported by user code, named by
//! the step label, aggregated by the runner and read from the pipeline result.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Summary of the values given to a distribution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistributionResult {
    /// How many values.
    pub count: i64,
    /// Their sum.
    pub sum: i64,
    /// The smallest.
    pub min: i64,
    /// The largest.
    pub max: i64,
}

impl DistributionResult {
    fn of(v: i64) -> Self {
        DistributionResult { count: 1, sum: v, min: v, max: v }
    }
    fn merge(&mut self, o: &DistributionResult) {
        self.count += o.count;
        self.sum = self.sum.wrapping_add(o.sum);
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }
    /// The mean, if any value was seen.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }
}

/// A gauge's latest value and when (nanoseconds since the epoch) it was set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GaugeResult {
    /// The value.
    pub value: i64,
    /// When it was set.
    pub timestamp_nanos: u128,
}

/// The metrics of one step instance, filled by user code.
///
/// # Examples
/// ```
/// use beamline::metrics::MetricsContainer;
/// let mut m = MetricsContainer::default();
/// m.inc_counter("lines", 2);
/// m.update_distribution("len", 7);
/// m.set_gauge("last", 3);
/// assert_eq!(m.counter("lines"), Some(2));
/// ```
#[derive(Default, Debug, Clone)]
pub struct MetricsContainer {
    counters: FxHashMap<String, i64>,
    distributions: FxHashMap<String, DistributionResult>,
    gauges: FxHashMap<String, GaugeResult>,
}

impl MetricsContainer {
    /// Adds `n` to a counter.
    pub fn inc_counter(&mut self, name: &str, n: i64) {
        match self.counters.get_mut(name) {
            Some(c) => *c += n,
            None => {
                self.counters.insert(name.to_string(), n);
            }
        }
    }
    /// Records one value in a distribution.
    pub fn update_distribution(&mut self, name: &str, v: i64) {
        match self.distributions.get_mut(name) {
            Some(d) => d.merge(&DistributionResult::of(v)),
            None => {
                self.distributions.insert(name.to_string(), DistributionResult::of(v));
            }
        }
    }
    /// Sets a gauge.
    pub fn set_gauge(&mut self, name: &str, v: i64) {
        let timestamp_nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        self.gauges.insert(name.to_string(), GaugeResult { value: v, timestamp_nanos });
    }
    /// A counter's value so far.
    pub fn counter(&self, name: &str) -> Option<i64> {
        self.counters.get(name).copied()
    }
    /// Adds everything `other` recorded (counters sum, distributions merge,
    /// the later gauge wins).
    pub fn merge(&mut self, other: MetricsContainer) {
        for (name, v) in other.counters {
            *self.counters.entry(name).or_insert(0) += v;
        }
        for (name, d) in other.distributions {
            self.distributions.entry(name).and_modify(|e| e.merge(&d)).or_insert(d);
        }
        for (name, g) in other.gauges {
            let e = self.gauges.entry(name).or_insert(g);
            if g.timestamp_nanos >= e.timestamp_nanos {
                *e = g;
            }
        }
    }
    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.counters.is_empty() && self.distributions.is_empty() && self.gauges.is_empty()
    }
}

/// Every metric of a run, keyed by step label and metric name.
///
/// Counters sum, distributions merge, gauges keep the latest value.
#[derive(Default, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricResults {
    counters: BTreeMap<(String, String), i64>,
    distributions: BTreeMap<(String, String), DistributionResult>,
    gauges: BTreeMap<(String, String), GaugeResult>,
}

impl MetricResults {
    /// Folds one container's metrics, reported by step `label`, into the results.
    pub fn merge(&mut self, label: &str, m: MetricsContainer) {
        for (name, v) in m.counters {
            *self.counters.entry((label.to_string(), name)).or_insert(0) += v;
        }
        for (name, d) in m.distributions {
            self.distributions.entry((label.to_string(), name)).and_modify(|e| e.merge(&d)).or_insert(d);
        }
        for (name, g) in m.gauges {
            let e = self.gauges.entry((label.to_string(), name)).or_insert(g);
            if g.timestamp_nanos >= e.timestamp_nanos {
                *e = g;
            }
        }
    }

    /// Folds another result set in (used to combine workers).
    pub fn merge_results(&mut self, other: MetricResults) {
        for (k, v) in other.counters {
            *self.counters.entry(k).or_insert(0) += v;
        }
        for (k, d) in other.distributions {
            self.distributions.entry(k).and_modify(|e| e.merge(&d)).or_insert(d);
        }
        for (k, g) in other.gauges {
            let e = self.gauges.entry(k).or_insert(g);
            if g.timestamp_nanos >= e.timestamp_nanos {
                *e = g;
            }
        }
    }

    /// A counter of a step; the step may be given by its full label or a suffix
    /// of it after a `/` (so `"Split"` finds `"CountWords/Split"`).
    pub fn counter(&self, step: &str, name: &str) -> Option<i64> {
        find(&self.counters, step, name).copied()
    }
    /// A distribution of a step.
    pub fn distribution(&self, step: &str, name: &str) -> Option<DistributionResult> {
        find(&self.distributions, step, name).copied()
    }
    /// A gauge of a step.
    pub fn gauge(&self, step: &str, name: &str) -> Option<i64> {
        find(&self.gauges, step, name).map(|g| g.value)
    }
    /// Every counter as `(step, name, value)`.
    pub fn counters(&self) -> impl Iterator<Item = (&str, &str, i64)> {
        self.counters.iter().map(|((s, n), v)| (s.as_str(), n.as_str(), *v))
    }
    /// Every distribution as `(step, name, value)`.
    pub fn distributions(&self) -> impl Iterator<Item = (&str, &str, &DistributionResult)> {
        self.distributions.iter().map(|((s, n), v)| (s.as_str(), n.as_str(), v))
    }
    /// Every gauge as `(step, name, value)`.
    pub fn gauges(&self) -> impl Iterator<Item = (&str, &str, i64)> {
        self.gauges.iter().map(|((s, n), v)| (s.as_str(), n.as_str(), v.value))
    }
}

fn find<'a, V>(map: &'a BTreeMap<(String, String), V>, step: &str, name: &str) -> Option<&'a V> {
    map.iter().find(|((s, n), _)| n == name && (s == step || s.ends_with(&format!("/{step}")))).map(|(_, v)| v)
}

impl std::fmt::Display for MetricResults {
    /// One metric per line: `step name: value`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for ((s, n), v) in &self.counters {
            writeln!(f, "counter {s} {n}: {v}")?;
        }
        for ((s, n), d) in &self.distributions {
            writeln!(f, "distribution {s} {n}: count={} sum={} min={} max={}", d.count, d.sum, d.min, d.max)?;
        }
        for ((s, n), g) in &self.gauges {
            writeln!(f, "gauge {s} {n}: {}", g.value)?;
        }
        Ok(())
    }
}
