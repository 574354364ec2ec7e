//! Keyed state and timers: what a [`crate::StatefulDoFn`] declares and uses.
//!
//! A stateful DoFn declares its state cells and timers once, in
//! [`crate::StatefulDoFn::declare`], through [`StateSpecs`]. Each declaration
//! returns a typed handle that holds only an index, so reaching a cell while
//! processing an element is an index into the key's slots, never a lookup by
//! name. State is per key and window, and is cleared when the window expires
//! (its end plus the allowed lateness). Beam's kinds are all here: value
//! (read-modify-write), bag, combining, set, map and ordered list; timers in
//! event time and processing time, single or as families with dynamic tags.

mod cells;

pub use cells::{BagCell, CombiningCell, MapCell, OrderedListCell, SetCell, TimerCell, ValueCell};
pub(crate) use cells::{Slots, TimerSink};

use crate::element::{Element, Key};
use crate::transforms::combine_fn::CombineFn;
use serde::{Deserialize, Serialize};
use std::any::Any;
use std::marker::PhantomData;

/// The time a timer is set in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeDomain {
    /// Event time: fires when the input watermark passes the timer's timestamp.
    EventTime,
    /// Processing time: fires when the runner's clock reaches it.
    ProcessingTime,
}

/// The kind of a state cell, as the portable graph records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateKind {
    /// One value, read, written and cleared.
    Value,
    /// An unordered collection values are added to.
    Bag,
    /// An accumulator of a `CombineFn`.
    Combining,
    /// A set of distinct values.
    Set,
    /// A map from keys to values.
    Map,
    /// Values sorted by timestamp, read by range.
    OrderedList,
}

/// One declared state cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateDecl {
    /// Its name, unique within the DoFn.
    pub name: String,
    /// Its kind.
    pub kind: StateKind,
    /// The Rust type it holds, for readers of the graph.
    pub type_name: String,
}

/// One declared timer (or timer family).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimerDecl {
    /// Its name, unique within the DoFn.
    pub name: String,
    /// The time it is set in.
    pub domain: TimeDomain,
    /// Whether it is a family, each timer named by a dynamic tag.
    pub family: bool,
}

/// Makes an empty cell of a declared state (type-erased).
pub(crate) type CellFactory = std::sync::Arc<dyn Fn() -> Box<dyn Any + Send> + Send + Sync>;

/// The state cells and timers a stateful DoFn declares.
///
/// # Examples
/// ```
/// use beamline::state::{StateSpecs, TimeDomain};
/// let mut specs = StateSpecs::default();
/// let count = specs.value::<u64>("count");
/// let flush = specs.timer("flush", TimeDomain::EventTime);
/// assert_eq!(specs.states().len(), 1);
/// assert_eq!(specs.timers()[0].name, "flush");
/// let _ = (count, flush);
/// ```
#[derive(Clone, Default)]
pub struct StateSpecs {
    states: Vec<StateDecl>,
    timers: Vec<TimerDecl>,
    pub(crate) factories: Vec<CellFactory>,
    duplicates: Vec<String>,
}

impl std::fmt::Debug for StateSpecs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateSpecs").field("states", &self.states).field("timers", &self.timers).finish()
    }
}

impl StateSpecs {
    fn add_state(&mut self, name: &str, kind: StateKind, type_name: &str, factory: CellFactory) -> u32 {
        self.note_name(name);
        self.states.push(StateDecl { name: name.to_string(), kind, type_name: type_name.to_string() });
        self.factories.push(factory);
        (self.states.len() - 1) as u32
    }

    fn note_name(&mut self, name: &str) {
        if self.states.iter().any(|s| s.name == name) || self.timers.iter().any(|t| t.name == name) {
            self.duplicates.push(name.to_string());
        }
    }

    fn add_timer(&mut self, name: &str, domain: TimeDomain, family: bool) -> u32 {
        self.note_name(name);
        self.timers.push(TimerDecl { name: name.to_string(), domain, family });
        (self.timers.len() - 1) as u32
    }

    /// Declares a value cell (Beam's `ReadModifyWriteState`).
    pub fn value<T: Element>(&mut self, name: &str) -> ValueState<T> {
        let factory: CellFactory = std::sync::Arc::new(|| Box::new(None::<T>));
        ValueState {
            index: self.add_state(name, StateKind::Value, std::any::type_name::<T>(), factory),
            _t: PhantomData,
        }
    }

    /// Declares a bag (Beam's `BagState`).
    pub fn bag<T: Element>(&mut self, name: &str) -> BagState<T> {
        let factory: CellFactory = std::sync::Arc::new(|| Box::new(Vec::<T>::new()));
        BagState { index: self.add_state(name, StateKind::Bag, std::any::type_name::<T>(), factory), _t: PhantomData }
    }

    /// Declares a combining cell holding `combine`'s accumulator (Beam's `CombiningState`).
    pub fn combining<C: CombineFn>(&mut self, name: &str, combine: C) -> CombiningState<C> {
        let c = combine.clone();
        let factory: CellFactory = std::sync::Arc::new(move || Box::new(Some(c.create_accumulator())));
        let index = self.add_state(name, StateKind::Combining, std::any::type_name::<C>(), factory);
        CombiningState { index, combine }
    }

    /// Declares a set (Beam's `SetState`).
    pub fn set<T: Key>(&mut self, name: &str) -> SetState<T> {
        let factory: CellFactory = std::sync::Arc::new(|| Box::new(rustc_hash::FxHashSet::<T>::default()));
        SetState { index: self.add_state(name, StateKind::Set, std::any::type_name::<T>(), factory), _t: PhantomData }
    }

    /// Declares a map (Beam's `MapState`).
    pub fn map<K: Key, V: Element>(&mut self, name: &str) -> MapState<K, V> {
        let factory: CellFactory = std::sync::Arc::new(|| Box::new(rustc_hash::FxHashMap::<K, V>::default()));
        let index = self.add_state(name, StateKind::Map, std::any::type_name::<(K, V)>(), factory);
        MapState { index, _t: PhantomData }
    }

    /// Declares an ordered list: values sorted by timestamp (Beam's `OrderedListState`).
    pub fn ordered_list<T: Element>(&mut self, name: &str) -> OrderedListState<T> {
        let factory: CellFactory = std::sync::Arc::new(|| Box::new(cells::OrderedList::<T>::default()));
        let index = self.add_state(name, StateKind::OrderedList, std::any::type_name::<T>(), factory);
        OrderedListState { index, _t: PhantomData }
    }

    /// Declares a timer.
    pub fn timer(&mut self, name: &str, domain: TimeDomain) -> Timer {
        Timer { index: self.add_timer(name, domain, false) }
    }

    /// Declares a timer family: timers of this family are told apart by a tag
    /// given when they are set (Beam's `TimerMap` / dynamic timers).
    pub fn timer_family(&mut self, name: &str, domain: TimeDomain) -> TimerFamily {
        TimerFamily { index: self.add_timer(name, domain, true) }
    }

    /// The declared state cells, in declaration order.
    pub fn states(&self) -> &[StateDecl] {
        &self.states
    }

    /// The declared timers, in declaration order.
    pub fn timers(&self) -> &[TimerDecl] {
        &self.timers
    }

    /// A name declared twice (Beam rejects such a DoFn), if any.
    pub fn duplicate(&self) -> Option<&str> {
        self.duplicates.first().map(String::as_str)
    }
}

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident<$($p:ident $(: $b:path)?),*>) => {
        $(#[$doc])*
        #[derive(Serialize, Deserialize)]
        #[serde(bound = "")]
        pub struct $name<$($p),*> {
            pub(crate) index: u32,
            #[serde(skip)]
            _t: PhantomData<fn() -> ($($p,)*)>,
        }
        impl<$($p),*> Clone for $name<$($p),*> {
            fn clone(&self) -> Self {
                $name { index: self.index, _t: PhantomData }
            }
        }
        impl<$($p),*> Default for $name<$($p),*> {
            /// A handle not declared yet: [`crate::StatefulDoFn::declare`] replaces it.
            fn default() -> Self {
                $name { index: u32::MAX, _t: PhantomData }
            }
        }
        impl<$($p),*> std::fmt::Debug for $name<$($p),*> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.index)
            }
        }
    };
}

handle!(
    /// A value cell of type `T`; see [`StateSpecs::value`].
    ValueState<T>
);
handle!(
    /// A bag of `T`; see [`StateSpecs::bag`].
    BagState<T>
);
handle!(
    /// A set of `T`; see [`StateSpecs::set`].
    SetState<T>
);
handle!(
    /// A map from `K` to `V`; see [`StateSpecs::map`].
    MapState<K, V>
);
handle!(
    /// An ordered list of `T`; see [`StateSpecs::ordered_list`].
    OrderedListState<T>
);

/// A combining cell of a `CombineFn`; see [`StateSpecs::combining`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CombiningState<C> {
    pub(crate) index: u32,
    pub(crate) combine: C,
}

/// A timer; see [`StateSpecs::timer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    pub(crate) index: u32,
}

impl Default for Timer {
    /// A timer not declared yet.
    fn default() -> Self {
        Timer { index: u32::MAX }
    }
}

/// A family of timers told apart by tags; see [`StateSpecs::timer_family`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerFamily {
    pub(crate) index: u32,
}

impl Default for TimerFamily {
    /// A family not declared yet.
    fn default() -> Self {
        TimerFamily { index: u32::MAX }
    }
}

/// A timer that fired, as `on_timer` sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FiredTimer {
    pub(crate) index: u32,
    pub(crate) tag: String,
    pub(crate) timestamp: crate::Timestamp,
    pub(crate) domain: TimeDomain,
}

impl FiredTimer {
    /// Whether this is `timer`.
    pub fn is(&self, timer: &Timer) -> bool {
        self.index == timer.index
    }
    /// Whether this timer belongs to `family` (its tag tells which).
    pub fn is_in(&self, family: &TimerFamily) -> bool {
        self.index == family.index
    }
    /// The dynamic tag of a family's timer (empty for a plain timer).
    pub fn tag(&self) -> &str {
        &self.tag
    }
    /// The time it was set for.
    pub fn timestamp(&self) -> crate::Timestamp {
        self.timestamp
    }
    /// The time domain it was set in.
    pub fn domain(&self) -> TimeDomain {
        self.domain
    }
}
