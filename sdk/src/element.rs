//! What an element is, the windowed value runners carry, and the fixed key hash.

use crate::pane::PaneInfo;
use crate::time::Timestamp;
use crate::window::Window;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;
use std::hash::{Hash, Hasher};

/// A type that can flow through a pipeline: plain Rust data with serde.
///
/// Implemented for every type that is `Clone + Send + Sync + Debug + 'static`
/// and serde-serializable; users never implement it by hand.
pub trait Element: Clone + Send + Sync + Debug + Serialize + DeserializeOwned + 'static {}
impl<T: Clone + Send + Sync + Debug + Serialize + DeserializeOwned + 'static> Element for T {}

/// An element usable as a grouping key: it also has `Hash` and `Eq`, and is
/// routed with [`key_hash`].
pub trait Key: Element + Hash + Eq {}
impl<T: Element + Hash + Eq> Key for T {}

/// The fixed key hash: FxHash (rustc-hash 2, pinned in the workspace) over the
/// key's `Hash` impl. It has no random seed, so every thread and every process
/// of the same program routes a key to the same place.
///
/// # Examples
/// ```
/// let a = beamline::key_hash(&"apple".to_string());
/// assert_eq!(a, beamline::key_hash(&"apple".to_string()));
/// ```
pub fn key_hash<K: Hash + ?Sized>(key: &K) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    key.hash(&mut h);
    h.finish()
}

/// An element with its event time and window: what moves between steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowedValue<T> {
    /// The element.
    pub value: T,
    /// Its event time.
    pub timestamp: Timestamp,
    /// The window it belongs to (an element in several windows travels once per window).
    pub window: Window,
    /// The firing of its window it came from.
    #[serde(default)]
    pub pane: PaneInfo,
}

impl<T> WindowedValue<T> {
    /// An element in the global window at the minimum timestamp.
    pub fn in_global(value: T) -> Self {
        WindowedValue { value, timestamp: Timestamp::MIN, window: Window::Global, pane: PaneInfo::NO_FIRING }
    }

    /// The same timestamp and window around another value.
    pub fn with_value<U>(&self, value: U) -> WindowedValue<U> {
        WindowedValue { value, timestamp: self.timestamp, window: self.window, pane: self.pane }
    }
}
