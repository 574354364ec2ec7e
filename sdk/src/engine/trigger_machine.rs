//! A trigger as a state machine over one window's trigger state: what an
//! element does to it, whether it should fire now, what firing does (and
//! whether that finishes it), and when it next needs the processing-time
//! clock. Written once here, after Beam's Python `TriggerFn`s; every runner's
//! triggered grouping drives it.

use crate::time::Timestamp;
use crate::trigger::Trigger;

/// A trigger compiled to a flat tree (nodes in pre-order, children by
/// index), with the sugar expanded: the default trigger is
/// `Repeatedly(AfterWatermark())`, `Always` is `Repeatedly(AfterCount(1))`,
/// and `AfterWatermark`'s early and late triggers repeat.
#[derive(Debug)]
pub(crate) struct TriggerMachine {
    nodes: Vec<Node>,
}

#[derive(Debug)]
enum Kind {
    Watermark { early: Option<usize>, late: Option<usize> },
    ProcessingTime { delay: i64, align: Option<(i64, i64)> },
    Count(u64),
    Repeatedly(usize),
    Any,
    All,
    Each,
    OrFinally(usize, usize),
    Never,
}

#[derive(Debug)]
struct Node {
    kind: Kind,
    children: Vec<usize>,
    /// One past the last node of this node's subtree.
    end: usize,
}

/// One window's trigger state: a slot per node of the machine.
#[derive(Clone, Debug, Default)]
pub(crate) struct TriggerState {
    nodes: Vec<NodeState>,
}

#[derive(Clone, Copy, Debug, Default)]
struct NodeState {
    finished: bool,
    /// Elements seen (AfterCount).
    count: u64,
    /// When it fires (AfterProcessingTime).
    due: Option<Timestamp>,
    /// Whether the on-time firing happened (AfterWatermark).
    late: bool,
    /// The running trigger (AfterEach).
    current: usize,
}

/// What a trigger is evaluated against: the input watermark, the
/// processing time, and the window's last instant.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Moment {
    pub(crate) watermark: Timestamp,
    pub(crate) now: Timestamp,
    pub(crate) window_end: Timestamp,
}

impl Moment {
    fn past_end(&self) -> bool {
        self.watermark > self.window_end
    }
}

impl TriggerMachine {
    pub(crate) fn new(trigger: &Trigger) -> Self {
        let mut m = TriggerMachine { nodes: Vec::new() };
        m.compile(trigger);
        m
    }

    fn push(&mut self, kind: Kind) -> usize {
        self.nodes.push(Node { kind, children: Vec::new(), end: 0 });
        self.nodes.len() - 1
    }

    fn compile(&mut self, t: &Trigger) -> usize {
        let repeat = |m: &mut Self, inner: &Trigger| {
            let i = m.push(Kind::Never);
            let c = m.compile(inner);
            m.nodes[i].kind = Kind::Repeatedly(c);
            m.nodes[i].children = vec![c];
            m.nodes[i].end = m.nodes.len();
            i
        };
        let i = match t {
            Trigger::Default => repeat(self, &Trigger::after_watermark()),
            Trigger::Always => repeat(self, &Trigger::AfterCount(1)),
            Trigger::Repeatedly(inner) => repeat(self, inner),
            Trigger::AfterWatermark { early, late } => {
                let i = self.push(Kind::Never);
                let e = early.as_ref().map(|e| repeat(self, e));
                let l = late.as_ref().map(|l| repeat(self, l));
                self.nodes[i].kind = Kind::Watermark { early: e, late: l };
                self.nodes[i].children = e.into_iter().chain(l).collect();
                i
            }
            Trigger::AfterProcessingTime { delay, align } => {
                self.push(Kind::ProcessingTime { delay: *delay, align: *align })
            }
            Trigger::AfterSynchronizedProcessingTime => self.push(Kind::ProcessingTime { delay: 0, align: None }),
            Trigger::AfterCount(n) => self.push(Kind::Count(*n)),
            Trigger::AfterAny(ts) | Trigger::AfterAll(ts) | Trigger::AfterEach(ts) => {
                let kind = match t {
                    Trigger::AfterAny(_) => Kind::Any,
                    Trigger::AfterAll(_) => Kind::All,
                    _ => Kind::Each,
                };
                let i = self.push(kind);
                let children = ts.iter().map(|c| self.compile(c)).collect();
                self.nodes[i].children = children;
                i
            }
            Trigger::OrFinally(main, until) => {
                let i = self.push(Kind::Never);
                let a = self.compile(main);
                let b = self.compile(until);
                self.nodes[i].kind = Kind::OrFinally(a, b);
                self.nodes[i].children = vec![a, b];
                i
            }
            Trigger::Never => self.push(Kind::Never),
        };
        self.nodes[i].end = self.nodes.len();
        i
    }

    /// A window's fresh state.
    pub(crate) fn fresh(&self) -> TriggerState {
        TriggerState { nodes: vec![NodeState::default(); self.nodes.len()] }
    }

    /// An element arrived in the window at processing time `now`.
    pub(crate) fn on_element(&self, s: &mut TriggerState, now: Timestamp) {
        self.element(0, s, now);
    }

    fn element(&self, i: usize, s: &mut TriggerState, now: Timestamp) {
        if s.nodes[i].finished {
            return;
        }
        match &self.nodes[i].kind {
            Kind::Count(_) => s.nodes[i].count += 1,
            Kind::ProcessingTime { delay, align } => {
                if s.nodes[i].due.is_none() {
                    s.nodes[i].due = Some(Trigger::processing_due(*delay, *align, now));
                }
            }
            Kind::Watermark { early, late } => {
                let next = if s.nodes[i].late { *late } else { *early };
                if let Some(c) = next {
                    self.element(c, s, now);
                }
            }
            Kind::Each => {
                if let Some(&c) = self.nodes[i].children.get(s.nodes[i].current) {
                    self.element(c, s, now);
                }
            }
            Kind::Repeatedly(_) | Kind::Any | Kind::All | Kind::OrFinally(..) => {
                for &c in &self.nodes[i].children {
                    self.element(c, s, now);
                }
            }
            Kind::Never => {}
        }
    }

    /// Whether the window should fire at `at`.
    pub(crate) fn should_fire(&self, s: &TriggerState, at: Moment) -> bool {
        self.should(0, s, at)
    }

    fn should(&self, i: usize, s: &TriggerState, at: Moment) -> bool {
        let st = &s.nodes[i];
        if st.finished {
            return false;
        }
        let live = |c: &usize| !s.nodes[*c].finished;
        match &self.nodes[i].kind {
            Kind::Count(n) => st.count >= *n,
            Kind::ProcessingTime { .. } => st.due.is_some_and(|d| at.now >= d),
            Kind::Watermark { early, late } => {
                if st.late {
                    late.is_some_and(|c| self.should(c, s, at))
                } else {
                    at.past_end() || early.is_some_and(|c| self.should(c, s, at))
                }
            }
            Kind::Repeatedly(c) => self.should(*c, s, at),
            Kind::Any => self.nodes[i].children.iter().filter(|c| live(c)).any(|&c| self.should(c, s, at)),
            Kind::All => {
                let mut live = self.nodes[i].children.iter().filter(|c| live(c)).peekable();
                live.peek().is_some() && live.all(|&c| self.should(c, s, at))
            }
            Kind::Each => self.nodes[i].children.get(st.current).is_some_and(|&c| self.should(c, s, at)),
            Kind::OrFinally(a, b) => self.should(*a, s, at) || self.should(*b, s, at),
            Kind::Never => false,
        }
    }

    /// Fires the window (after `should_fire` said so); returns whether the
    /// trigger has finished.
    pub(crate) fn on_fire(&self, s: &mut TriggerState, at: Moment) -> bool {
        self.fire(0, s, at)
    }

    fn fire(&self, i: usize, s: &mut TriggerState, at: Moment) -> bool {
        let finished = match &self.nodes[i].kind {
            Kind::Count(_) | Kind::ProcessingTime { .. } => true,
            Kind::Watermark { early, late } => {
                if s.nodes[i].late {
                    match late {
                        Some(c) => self.fire(*c, s, at),
                        None => true,
                    }
                } else if at.past_end() {
                    s.nodes[i].late = true;
                    // Early firings are over: their pending processing time too.
                    if let Some(c) = early {
                        self.reset(*c, s);
                    }
                    late.is_none()
                } else {
                    if let Some(c) = early {
                        self.fire(*c, s, at);
                    }
                    false
                }
            }
            Kind::Repeatedly(c) => {
                // As Beam's Python: the inner trigger starts over once it finishes.
                if self.fire(*c, s, at) {
                    self.reset(*c, s);
                }
                false
            }
            Kind::Any | Kind::All => {
                let children = &self.nodes[i].children;
                for &c in children {
                    if !s.nodes[c].finished && self.should(c, s, at) {
                        self.fire(c, s, at);
                    }
                }
                let mut done = children.iter().map(|&c| s.nodes[c].finished);
                if matches!(self.nodes[i].kind, Kind::Any) {
                    done.any(|f| f)
                } else {
                    done.all(|f| f)
                }
            }
            Kind::Each => {
                let children = &self.nodes[i].children;
                if let Some(&c) = children.get(s.nodes[i].current) {
                    if self.should(c, s, at) && self.fire(c, s, at) {
                        s.nodes[i].current += 1;
                    }
                }
                s.nodes[i].current >= children.len()
            }
            Kind::OrFinally(a, b) => {
                if self.should(*b, s, at) {
                    self.fire(*b, s, at);
                    true
                } else {
                    self.fire(*a, s, at)
                }
            }
            Kind::Never => false,
        };
        if finished {
            s.nodes[i].finished = true;
        }
        finished
    }

    /// Clears node `i`'s subtree.
    fn reset(&self, i: usize, s: &mut TriggerState) {
        for st in &mut s.nodes[i..self.nodes[i].end] {
            *st = NodeState::default();
        }
    }

    /// The state of a window merged from windows with the states `merging`
    /// (sessions), as Beam's runners merge it: counts add up, the earliest
    /// pending processing time stays, AfterEach keeps its furthest step, and
    /// a part is finished if it finished in any merging window; except
    /// AfterWatermark, whose on-time firing is over only when it happened in
    /// every merging window and the watermark is past the merged window's
    /// end (Java's `AfterWatermark.onMerge`), since the merged window may end
    /// later than those that fired.
    pub(crate) fn merge(&self, merging: &[&TriggerState], at: Moment) -> TriggerState {
        let mut out = self.fresh();
        for (i, node) in self.nodes.iter().enumerate() {
            let all = |f: fn(&NodeState) -> bool| merging.iter().all(|s| f(&s.nodes[i]));
            let any = |f: fn(&NodeState) -> bool| merging.iter().any(|s| f(&s.nodes[i]));
            let st = &mut out.nodes[i];
            st.count = merging.iter().map(|s| s.nodes[i].count).sum();
            st.due = merging.iter().filter_map(|s| s.nodes[i].due).min();
            st.current = merging.iter().map(|s| s.nodes[i].current).max().unwrap_or(0);
            if matches!(node.kind, Kind::Watermark { .. }) {
                st.late = all(|n| n.late) && at.past_end();
                st.finished = all(|n| n.finished) && at.past_end();
            } else {
                st.finished = any(|n| n.finished);
            }
        }
        // An on-time firing undone by the merge re-arms the early firings
        // that it had reset, and a late trigger that never started is fresh.
        for (i, node) in self.nodes.iter().enumerate() {
            if let Kind::Watermark { late: Some(c), .. } = node.kind {
                if !out.nodes[i].late {
                    self.reset(c, &mut out);
                }
            }
        }
        out
    }

    /// Whether the whole trigger has finished.
    pub(crate) fn is_finished(&self, s: &TriggerState) -> bool {
        s.nodes[0].finished
    }

    /// The earliest processing time at which it may fire (for the runner's
    /// wake-ups); `None` if no processing-time trigger is waiting.
    pub(crate) fn next_due(&self, s: &TriggerState) -> Option<Timestamp> {
        s.nodes.iter().filter(|st| !st.finished).filter_map(|st| st.due).min()
    }

    /// Whether any part of it waits on the watermark passing the end of the
    /// window (so the window is checked then).
    pub(crate) fn watches_watermark(&self) -> bool {
        self.nodes.iter().any(|n| matches!(n.kind, Kind::Watermark { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(watermark: i64, now: i64) -> Moment {
        Moment {
            watermark: Timestamp::from_micros(watermark),
            now: Timestamp::from_micros(now),
            window_end: Timestamp::from_micros(99),
        }
    }

    /// Feeds `n` elements, then fires if it should; returns (fired, finished).
    fn step(m: &TriggerMachine, s: &mut TriggerState, n: usize, when: Moment) -> (bool, bool) {
        for _ in 0..n {
            m.on_element(s, when.now);
        }
        if m.should_fire(s, when) {
            (true, m.on_fire(s, when))
        } else {
            (false, false)
        }
    }

    #[test]
    fn every_subtree_knows_its_end() {
        let t = Trigger::after_watermark()
            .with_early_firings(Trigger::after_count(2))
            .with_late_firings(Trigger::after_any(vec![Trigger::after_count(1), Trigger::Never]));
        let m = TriggerMachine::new(&t);
        for (i, n) in m.nodes.iter().enumerate() {
            assert!(n.end > i && n.end <= m.nodes.len(), "node {i}: end {}", n.end);
        }
    }

    #[test]
    fn after_count_fires_once_and_finishes() {
        let m = TriggerMachine::new(&Trigger::after_count(2));
        let mut s = m.fresh();
        assert_eq!(step(&m, &mut s, 1, at(0, 0)), (false, false));
        assert_eq!(step(&m, &mut s, 1, at(0, 0)), (true, true));
        assert!(m.is_finished(&s));
        assert_eq!(step(&m, &mut s, 5, at(0, 0)), (false, false));
    }

    #[test]
    fn merged_counts_add_up_and_a_finished_part_stays_finished() {
        let m = TriggerMachine::new(&Trigger::after_any(vec![Trigger::after_count(3), Trigger::after_count(1)]));
        let (mut a, mut b) = (m.fresh(), m.fresh());
        m.on_element(&mut a, Timestamp::from_micros(0));
        m.on_element(&mut b, Timestamp::from_micros(0));
        let merged = m.merge(&[&a, &b], at(0, 0));
        assert!(m.should_fire(&merged, at(0, 0)));
        let mut fired = m.fresh();
        assert_eq!(step(&m, &mut fired, 1, at(0, 0)), (true, true));
        assert!(m.is_finished(&m.merge(&[&fired, &m.fresh()], at(0, 0))));
    }

    #[test]
    fn a_merge_that_moves_the_window_end_past_the_watermark_undoes_the_on_time_firing() {
        let t = Trigger::after_watermark().with_late_firings(Trigger::after_count(1));
        let m = TriggerMachine::new(&t);
        let mut fired = m.fresh();
        // The watermark (100) passed the window's end (99): on time.
        assert_eq!(step(&m, &mut fired, 1, at(100, 0)), (true, false));
        // Merged into a window ending at 199: the watermark is behind it again.
        let later = Moment { window_end: Timestamp::from_micros(199), ..at(100, 0) };
        let merged = m.merge(&[&fired, &m.fresh()], later);
        assert!(!m.should_fire(&merged, later));
        let past = Moment { window_end: Timestamp::from_micros(199), ..at(200, 0) };
        assert!(m.should_fire(&merged, past));
        // Merged with the watermark past the merged end, it stays late.
        let still_late = m.merge(&[&fired], at(100, 0));
        let mut s = still_late.clone();
        assert_eq!(step(&m, &mut s, 1, at(100, 0)), (true, false));
    }

    #[test]
    fn repeatedly_resets_its_trigger() {
        let m = TriggerMachine::new(&Trigger::repeatedly(Trigger::after_count(2)));
        let mut s = m.fresh();
        let fired: Vec<bool> = (0..6).map(|_| step(&m, &mut s, 1, at(0, 0)).0).collect();
        assert_eq!(fired, [false, true, false, true, false, true]);
        assert!(!m.is_finished(&s));
    }

    #[test]
    fn after_watermark_early_on_time_late() {
        let t = Trigger::after_watermark()
            .with_early_firings(Trigger::after_processing_time(Duration::from_micros(10)))
            .with_late_firings(Trigger::after_count(1));
        let m = TriggerMachine::new(&t);
        let mut s = m.fresh();
        m.on_element(&mut s, Timestamp::from_micros(0));
        assert_eq!(m.next_due(&s), Some(Timestamp::from_micros(10)));
        assert!(!m.should_fire(&s, at(50, 5)));
        assert!(m.should_fire(&s, at(50, 10)));
        assert!(!m.on_fire(&mut s, at(50, 10)));
        assert_eq!(m.next_due(&s), None);
        // On time: the watermark passes the end.
        assert!(m.should_fire(&s, at(100, 11)));
        assert!(!m.on_fire(&mut s, at(100, 11)));
        // Late: every element.
        assert!(!m.should_fire(&s, at(200, 12)));
        assert_eq!(step(&m, &mut s, 1, at(200, 12)), (true, false));
    }

    #[test]
    fn after_watermark_without_late_firings_finishes_on_time() {
        let m = TriggerMachine::new(&Trigger::after_watermark());
        let mut s = m.fresh();
        assert_eq!(step(&m, &mut s, 3, at(10, 0)), (false, false));
        assert_eq!(step(&m, &mut s, 0, at(100, 0)), (true, true));
    }

    #[test]
    fn the_default_trigger_fires_on_time_then_per_late_element() {
        let m = TriggerMachine::new(&Trigger::Default);
        let mut s = m.fresh();
        assert_eq!(step(&m, &mut s, 1, at(10, 0)), (false, false));
        assert_eq!(step(&m, &mut s, 0, at(100, 0)), (true, false));
        // Python's DefaultTrigger: should_fire is watermark past the end, so
        // a late element fires at once.
        assert_eq!(step(&m, &mut s, 1, at(120, 0)), (true, false));
    }

    #[test]
    fn after_each_and_or_finally() {
        let m = TriggerMachine::new(&Trigger::after_each(vec![Trigger::after_count(2), Trigger::after_count(1)]));
        let mut s = m.fresh();
        assert_eq!(step(&m, &mut s, 1, at(0, 0)), (false, false));
        assert_eq!(step(&m, &mut s, 1, at(0, 0)), (true, false));
        assert_eq!(step(&m, &mut s, 1, at(0, 0)), (true, true));

        let m = TriggerMachine::new(&Trigger::repeatedly(Trigger::after_count(1)).or_finally(Trigger::after_count(3)));
        let mut s = m.fresh();
        assert_eq!(step(&m, &mut s, 1, at(0, 0)), (true, false));
        assert_eq!(step(&m, &mut s, 1, at(0, 0)), (true, false));
        assert_eq!(step(&m, &mut s, 1, at(0, 0)), (true, true));
    }

    #[test]
    fn after_all_waits_for_every_trigger() {
        let m = TriggerMachine::new(&Trigger::after_all(vec![
            Trigger::after_count(2),
            Trigger::after_processing_time(Duration::from_micros(5)),
        ]));
        let mut s = m.fresh();
        assert_eq!(step(&m, &mut s, 2, at(0, 0)), (false, false));
        assert_eq!(step(&m, &mut s, 0, at(0, 5)), (true, true));
    }
}
