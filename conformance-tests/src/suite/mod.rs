//! The tests, by area. Each module's `tests()` lists its tests with their
//! capability tags; [`all`] collects them.

use crate::harness::Test;

mod combine;
mod construction;
mod create;
mod direct;
mod elementwise;
mod flatten;
mod group_by_key;
mod io;
mod metrics;
mod more_transforms;
mod pardo;
mod random;
mod random_triggered;
mod side_inputs;
mod standard_combiners;
mod state;
mod test_stream;
mod timers;
mod triggers;
mod unbounded;
mod windowing;

/// Beam's ValidatesRunner category names (the list the harness accepts is
/// `harness::CATEGORIES`).
pub(crate) mod beam {
    pub(crate) const STATEFUL_PARDO: &str = "UsesStatefulParDo";
    pub(crate) const TIMERS_IN_PARDO: &str = "UsesTimersInParDo";
    pub(crate) const BAG_STATE: &str = "UsesBagState";
    pub(crate) const SET_STATE: &str = "UsesSetState";
    pub(crate) const MAP_STATE: &str = "UsesMapState";
    pub(crate) const ORDERED_LIST_STATE: &str = "UsesOrderedListState";
    pub(crate) const ON_WINDOW_EXPIRATION: &str = "UsesOnWindowExpiration";
    pub(crate) const PROCESSING_TIME_TIMERS: &str = "UsesProcessingTimeTimers";
    pub(crate) const LOOPING_TIMER: &str = "UsesLoopingTimer";
    pub(crate) const STRICT_TIMER_ORDERING: &str = "UsesStrictTimerOrdering";
    pub(crate) const TIMER_MAP: &str = "UsesTimerMap";
}

/// Every test of the suite, in report order.
pub(crate) fn all() -> Vec<Test> {
    let groups = [
        create::tests(),
        pardo::tests(),
        side_inputs::tests(),
        elementwise::tests(),
        group_by_key::tests(),
        flatten::tests(),
        combine::tests(),
        standard_combiners::tests(),
        more_transforms::tests(),
        windowing::tests(),
        unbounded::tests(),
        state::tests(),
        timers::tests(),
        test_stream::tests(),
        triggers::tests(),
        metrics::tests(),
        io::tests(),
        construction::tests(),
        direct::tests(),
        random::tests(),
        random_triggered::tests(),
    ];
    let all: Vec<Test> = groups.into_iter().flatten().collect();
    let mut seen = std::collections::HashSet::new();
    for t in &all {
        assert!(seen.insert(t.name.clone()), "two conformance tests are named '{}'", t.name);
    }
    all
}
