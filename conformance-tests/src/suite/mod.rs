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
mod side_inputs;
mod standard_combiners;
mod unbounded;
mod windowing;

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
        metrics::tests(),
        io::tests(),
        construction::tests(),
        direct::tests(),
        random::tests(),
    ];
    let all: Vec<Test> = groups.into_iter().flatten().collect();
    let mut seen = std::collections::HashSet::new();
    for t in &all {
        assert!(seen.insert(t.name.clone()), "two conformance tests are named '{}'", t.name);
    }
    all
}
