//! Where keys go: the fixed key hash, a fixed number of key groups, and
//! contiguous ranges of groups per worker.

use crate::batch::Batch;
use crate::element::{key_hash, Element, Key, WindowedValue};
use crate::error::Result;
use std::hash::Hash;

/// Key placement by key group, as Flink places keys.
///
/// A key's group is its fixed hash ([`crate::key_hash`]) modulo
/// [`KeyGroups::COUNT`]; worker `i` of `n` owns the contiguous range of
/// groups `[i·COUNT/n, (i+1)·COUNT/n)`. The number of groups never changes, so
/// state saved per key group can be restored onto any number of workers.
///
/// # Examples
/// ```
/// use beamline::KeyGroups;
/// let g = KeyGroups::of(&"apple".to_string());
/// assert!(g < KeyGroups::COUNT);
/// // Contiguous ranges: worker 0 of 2 owns the first half of the groups.
/// assert_eq!(KeyGroups::worker(0, 2), 0);
/// assert_eq!(KeyGroups::worker(KeyGroups::COUNT - 1, 2), 1);
/// assert_eq!(KeyGroups::range(1, 2), KeyGroups::COUNT / 2..KeyGroups::COUNT);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct KeyGroups;

impl KeyGroups {
    /// The number of key groups (Flink's default maximum parallelism is 128;
    /// more groups spread keys more evenly over many workers).
    pub const COUNT: u32 = 4096;

    /// The key group of `key`.
    pub fn of<K: Hash + ?Sized>(key: &K) -> u32 {
        Self::of_hash(key_hash(key))
    }

    /// The key group of a key with fixed hash `hash`.
    pub fn of_hash(hash: u64) -> u32 {
        (hash % u64::from(Self::COUNT)) as u32
    }

    /// The worker of `workers` that owns `group`.
    pub fn worker(group: u32, workers: usize) -> usize {
        (u64::from(group) * workers.max(1) as u64 / u64::from(Self::COUNT)) as usize
    }

    /// The groups worker `index` of `workers` owns.
    pub fn range(index: usize, workers: usize) -> std::ops::Range<u32> {
        let n = workers.max(1) as u64;
        let start = (index as u64 * u64::from(Self::COUNT)).div_ceil(n) as u32;
        let end = ((index as u64 + 1) * u64::from(Self::COUNT)).div_ceil(n) as u32;
        start..end
    }
}

/// Splits a batch of `(K, V)` into `parts` batches, part `i` holding the keys
/// whose key group worker `i` of `parts` owns.
pub(crate) fn partition_by_key<K: Key, V: Element>(batch: Batch, parts: usize) -> Result<Vec<Batch>> {
    let parts = parts.max(1);
    if parts == 1 {
        return Ok(vec![batch]);
    }
    let mut out: Vec<Vec<WindowedValue<(K, V)>>> = (0..parts).map(|_| Vec::new()).collect();
    for e in batch.downcast::<(K, V)>()? {
        out[KeyGroups::worker(KeyGroups::of(&e.value.0), parts)].push(e);
    }
    Ok(out.into_iter().map(Batch::new).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_tile_the_groups_and_agree_with_worker() {
        for workers in [1usize, 2, 3, 4, 7, 16, 100] {
            let mut next = 0;
            for i in 0..workers {
                let r = KeyGroups::range(i, workers);
                assert_eq!(r.start, next);
                for g in r.clone() {
                    assert_eq!(KeyGroups::worker(g, workers), i, "group {g} of {workers} workers");
                }
                next = r.end;
            }
            assert_eq!(next, KeyGroups::COUNT);
        }
    }

    #[test]
    fn keys_spread_evenly_over_workers() {
        let keys: Vec<String> = (0..100_000).map(|i| format!("word{i}")).collect();
        for workers in [2usize, 3, 4, 8] {
            let mut counts = vec![0usize; workers];
            for k in &keys {
                counts[KeyGroups::worker(KeyGroups::of(k), workers)] += 1;
            }
            let mean = keys.len() / workers;
            for &c in &counts {
                assert!(c.abs_diff(mean) < mean / 20, "{workers} workers: {counts:?}");
            }
        }
    }

    #[test]
    fn a_key_keeps_its_group_when_workers_change() {
        let g = KeyGroups::of(&42u64);
        for workers in [1usize, 2, 5] {
            assert!(KeyGroups::range(KeyGroups::worker(g, workers), workers).contains(&g));
        }
    }
}
