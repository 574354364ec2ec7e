//! The standard combiners: `CombineFn`s and the transforms built on them.

mod count;
mod sum;

pub use count::{Count, CountFn, CountPerElement};
pub use sum::Sum;
