//! The stateful ParDo operator: keyed state, timers and window expiry, the
//! same on every runner (Beam's `StatefulDoFnRunner`).

use crate::batch::Batch;
use crate::element::WindowedValue;
use crate::engine::key_groups::partition_by_key;
use crate::engine::timers::{KeyId, TimerQueue, EXPIRY};
use crate::engine::DROPPED_LATE;
use crate::error::{shorten, DoFnError, Error, Result};
use crate::exec::{KeyedExec, KeyedOperator, Outputs};
use crate::metrics::MetricsContainer;
use crate::pane::PaneInfo;
use crate::state::{CellFactory, FiredTimer, Slots, StateSpecs, TimeDomain, TimerSink};
use crate::time::Timestamp;
use crate::transforms::dofn::FinishBundleContext;
use crate::transforms::pardo::{guard, user_error};
use crate::transforms::stateful_pardo::{declared, StateContext, StatefulDoFn};
use crate::window::{Window, WindowingStrategy};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// A stateful ParDo's executable.
pub(crate) struct StatefulExec<F> {
    f: F,
    specs: Arc<Specs>,
}

/// What every operator of one step shares: the declarations.
struct Specs {
    label: String,
    windowing: WindowingStrategy,
    factories: Vec<CellFactory>,
    timer_domains: Vec<TimeDomain>,
}

impl<F: StatefulDoFn> StatefulExec<F> {
    pub(crate) fn new(f: F, label: String, windowing: WindowingStrategy) -> Self {
        let (f, specs): (F, StateSpecs) = declared(f);
        let specs = Specs {
            label,
            windowing,
            factories: specs.factories.clone(),
            timer_domains: specs.timers().iter().map(|t| t.domain).collect(),
        };
        StatefulExec { f, specs: Arc::new(specs) }
    }
}

impl<F: StatefulDoFn> KeyedExec for StatefulExec<F> {
    fn operator(&self) -> Box<dyn KeyedOperator> {
        Box::new(StatefulOperator {
            f: self.f.clone(),
            set_up: false,
            in_bundle: false,
            specs: self.specs.clone(),
            ids: FxHashMap::default(),
            keys: FxHashMap::default(),
            next_id: 0,
            timers: TimerQueue::default(),
            metrics: MetricsContainer::default(),
            dropped: 0,
            key_buf: Vec::new(),
        })
    }
    fn partition(&self, batch: Batch, parts: usize) -> Result<Vec<Batch>> {
        partition_by_key::<F::Key, F::Value>(batch, parts)
    }
}

/// A timer set for a key in a window, as the window's state records it.
struct TimerRecord {
    index: u32,
    tag: String,
    domain: TimeDomain,
    fire: Timestamp,
    output: Timestamp,
}

/// A key's state in one window: its cells and the timers it has set.
struct WindowState {
    window: Window,
    slots: Slots,
    timers: Vec<TimerRecord>,
}

/// The timers of a key in a window, seen from a callback: the window's own
/// record first (setting a timer as it already is touches nothing else),
/// then the operator's queue.
struct LocalTimers<'a> {
    queue: &'a mut TimerQueue,
    key: KeyId,
    window: Window,
    records: &'a mut Vec<TimerRecord>,
}

impl TimerSink for LocalTimers<'_> {
    fn set(&mut self, index: u32, tag: &str, domain: TimeDomain, fire: Timestamp, output: Timestamp) {
        match self.records.iter_mut().find(|r| r.index == index && r.tag == tag) {
            Some(r) if r.fire == fire && r.output == output && r.domain == domain => return,
            Some(r) => (r.fire, r.output, r.domain) = (fire, output, domain),
            None => self.records.push(TimerRecord { index, tag: tag.to_string(), domain, fire, output }),
        }
        self.queue.insert(self.key, self.window, index, tag, domain, fire, output);
    }

    fn clear(&mut self, index: u32, tag: &str, _domain: TimeDomain) {
        if let Some(i) = self.records.iter().position(|r| r.index == index && r.tag == tag) {
            self.records.swap_remove(i);
            self.queue.remove(self.key, self.window, index, tag);
        }
    }
}

/// One key's state: the key, its encoding, and its state per window (a
/// short list: a key is in few windows at once).
struct KeyEntry<K> {
    key: K,
    /// The key as its coder writes it: what per-key-group snapshots will save
    /// (the checkpoint issue); nothing reads it yet.
    #[allow(dead_code)]
    encoded: Vec<u8>,
    windows: Vec<WindowState>,
}

impl<K> KeyEntry<K> {
    fn window(&mut self, window: &Window) -> Option<&mut WindowState> {
        self.windows.iter_mut().find(|w| w.window == *window)
    }
}

struct StatefulOperator<F: StatefulDoFn> {
    f: F,
    set_up: bool,
    /// Whether `start_bundle` has run and `finish_bundle` not yet.
    in_bundle: bool,
    specs: Arc<Specs>,
    /// Keys to the ids timers name them by. Each entry also keeps its key
    /// encoded (what a snapshot saves); elements find theirs by the typed key.
    ids: FxHashMap<F::Key, KeyId>,
    keys: FxHashMap<KeyId, KeyEntry<F::Key>>,
    next_id: KeyId,
    timers: TimerQueue,
    metrics: MetricsContainer,
    dropped: i64,
    key_buf: Vec<u8>,
}

/// What a callback is called for.
enum Call<'v, V> {
    /// An element, in its pane.
    Element(&'v V, PaneInfo),
    Timer(FiredTimer),
    Expiration,
}

impl<F: StatefulDoFn> StatefulOperator<F> {
    fn expiry(&self, window: &Window) -> Timestamp {
        window.max_timestamp().plus_micros(self.specs.windowing.allowed_lateness)
    }

    fn lifecycle(&mut self, what: &str, call: impl FnOnce(&mut F) -> std::result::Result<(), DoFnError>) -> Result<()> {
        let f = &mut self.f;
        guard(|| call(f)).map_err(|m| user_error(&self.specs.label, format!("<{what}>"), m))
    }

    /// Sets the DoFn up (once) and starts a bundle, unless one is started.
    fn begin_bundle(&mut self) -> Result<()> {
        if !self.set_up {
            self.set_up = true;
            self.lifecycle("setup", |f| f.setup())?;
        }
        if !self.in_bundle {
            self.in_bundle = true;
            self.lifecycle("start_bundle", |f| f.start_bundle())?;
        }
        Ok(())
    }

    /// Finishes the bundle begun, if any: what `finish_bundle` emits joins `out`.
    fn end_bundle(&mut self, out: &mut Vec<WindowedValue<F::Out>>) -> Result<()> {
        if !self.in_bundle {
            return Ok(());
        }
        self.in_bundle = false;
        let (f, metrics) = (&mut self.f, &mut self.metrics);
        let mut ctx = FinishBundleContext { main: out, metrics };
        guard(|| f.finish_bundle(&mut ctx)).map_err(|m| user_error(&self.specs.label, "<finish_bundle>".into(), m))
    }

    /// Runs one callback for `key` (encoded in `encoded`) in `window`.
    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        id: KeyId,
        window: Window,
        timestamp: Timestamp,
        now: Timestamp,
        what: Call<'_, F::Value>,
        out: &mut Vec<WindowedValue<F::Out>>,
    ) -> Result<()> {
        let expiry = self.expiry(&window);
        let specs = &*self.specs;
        let Some(entry) = self.keys.get_mut(&id) else {
            return Err(Error::Runner { runner: String::new(), message: format!("step '{}' lost a key", specs.label) });
        };
        let i = match entry.windows.iter().position(|w| w.window == window) {
            Some(i) => i,
            None => {
                entry.windows.push(WindowState { window, slots: Slots::default(), timers: Vec::new() });
                entry.windows.len() - 1
            }
        };
        let state = &mut entry.windows[i];
        let mut timers = LocalTimers { queue: &mut self.timers, key: id, window, records: &mut state.timers };
        let slots = &mut state.slots;
        let f = &mut self.f;
        let key = &entry.key;
        let pane = match what {
            Call::Element(_, pane) => pane,
            Call::Timer(_) | Call::Expiration => PaneInfo::NO_FIRING,
        };
        let mut ctx = StateContext {
            key,
            window,
            timestamp,
            pane,
            now,
            expiry,
            out,
            slots,
            factories: &specs.factories,
            timer_domains: &specs.timer_domains,
            timers: &mut timers,
            metrics: &mut self.metrics,
        };
        let result = match &what {
            Call::Element(v, _) => guard(|| f.process(key, v, &mut ctx)),
            Call::Timer(t) => guard(|| f.on_timer(t, &mut ctx)),
            Call::Expiration => guard(|| f.on_window_expiration(&mut ctx)),
        };
        result.map_err(|m| {
            let element = match what {
                Call::Element(v, _) => shorten(&format!("{:?}", (key, v))),
                Call::Timer(t) => format!("<on_timer {:?}>", t.timestamp),
                Call::Expiration => "<on_window_expiration>".to_string(),
            };
            user_error(&specs.label, element, m)
        })
    }

    /// Forgets the state and timers of `key` in `window`.
    fn expire(&mut self, id: KeyId, window: &Window) {
        if let Some(entry) = self.keys.get_mut(&id) {
            if let Some(i) = entry.windows.iter().position(|w| w.window == *window) {
                let state = entry.windows.swap_remove(i);
                for r in state.timers {
                    self.timers.remove(id, *window, r.index, &r.tag);
                }
            }
            if entry.windows.is_empty() {
                if let Some(entry) = self.keys.remove(&id) {
                    self.ids.remove(&entry.key);
                }
            }
        }
    }
}

impl<F: StatefulDoFn> KeyedOperator for StatefulOperator<F> {
    fn add(&mut self, batch: Batch, watermark: Timestamp, now: Timestamp, out: &mut Outputs<'_>) -> Result<()> {
        let mut batch = batch;
        if watermark > Timestamp::MIN {
            let lateness = self.specs.windowing.allowed_lateness;
            let late = batch.extract_windows(&|w| w.max_timestamp().plus_micros(lateness) < watermark);
            self.dropped += late.len() as i64;
        }
        let elements = batch.downcast::<(F::Key, F::Value)>()?;
        let mut emitted = Vec::new();
        if elements.is_empty() {
            return Ok(());
        }
        self.begin_bundle()?;
        for e in elements {
            let (key, value) = e.value;
            let id = match self.ids.get(&key) {
                Some(&id) => id,
                None => {
                    self.key_buf.clear();
                    crate::coder::Coder::encode(&crate::coder::SerdeCoder::<F::Key>::new(), &key, &mut self.key_buf)
                        .map_err(|m| Error::Coder { label: self.specs.label.clone(), message: m })?;
                    let id = self.next_id;
                    self.next_id += 1;
                    self.ids.insert(key.clone(), id);
                    let entry = KeyEntry { key, encoded: self.key_buf.clone(), windows: Vec::new() };
                    self.keys.insert(id, entry);
                    id
                }
            };
            let new_window = match self.keys.get_mut(&id) {
                Some(entry) if !entry.windows.iter().any(|w| w.window == e.window) => {
                    entry.windows.push(WindowState { window: e.window, slots: Slots::default(), timers: Vec::new() });
                    true
                }
                _ => false,
            };
            if new_window {
                let expiry = self.expiry(&e.window);
                self.timers.insert_expiry(id, e.window, expiry);
            }
            self.call(id, e.window, e.timestamp, now, Call::Element(&value, e.pane), &mut emitted)?;
        }
        self.end_bundle(&mut emitted)?;
        out.push(0, Batch::new(emitted))
    }

    fn advance(&mut self, watermark: Timestamp, now: Timestamp, out: &mut Outputs<'_>) -> Result<()> {
        // At the end of input every timer is due, processing-time ones too
        // (as Beam's batch runners do).
        let now = if watermark >= Timestamp::MAX { Timestamp::MAX } else { now };
        let mut emitted = Vec::new();
        while let Some(due) = self.timers.pop_due(watermark, now) {
            self.begin_bundle()?;
            if due.index == EXPIRY {
                let ts = due.window.max_timestamp();
                self.call(due.key, due.window, ts, now, Call::Expiration, &mut emitted)?;
                self.expire(due.key, &due.window);
                continue;
            }
            // The timer is no longer set: off its window's record.
            if let Some(state) = self.keys.get_mut(&due.key).and_then(|e| e.window(&due.window)) {
                if let Some(i) = state.timers.iter().position(|r| r.index == due.index && r.tag == due.tag) {
                    state.timers.swap_remove(i);
                }
            }
            let fired = FiredTimer { index: due.index, tag: due.tag, timestamp: due.fire, domain: due.domain };
            self.call(due.key, due.window, due.output, now, Call::Timer(fired), &mut emitted)?;
            if emitted.len() >= crate::transforms::dofn::OUTPUT_BATCH {
                out.push(0, Batch::new(std::mem::take(&mut emitted)))?;
            }
        }
        self.end_bundle(&mut emitted)?;
        out.push(0, Batch::new(emitted))
    }

    fn hold(&self) -> Option<Timestamp> {
        self.timers.hold()
    }

    fn next_wakeup(&self) -> Option<Timestamp> {
        self.timers.next_processing_time()
    }

    fn teardown(&mut self) -> Result<()> {
        if self.set_up {
            self.set_up = false;
            self.lifecycle("teardown", |f| f.teardown())?;
        }
        Ok(())
    }

    fn take_metrics(&mut self) -> MetricsContainer {
        let mut m = std::mem::take(&mut self.metrics);
        if self.dropped > 0 {
            m.inc_counter(DROPPED_LATE, std::mem::take(&mut self.dropped));
        }
        m
    }
}
