//! The standard combiners: `CombineFn`s and the transforms built on them.

pub(crate) mod count;
mod latest;
mod max;
mod mean;
mod min;
mod sample;
mod sum;
mod to_list;
mod top;

pub use count::{Count, CountFn, CountPerElement};
pub use latest::{Latest, LatestFn, LatestGlobally, LatestPerKey};
pub use max::{Max, MaxPerKey};
pub use mean::{Mean, ToF64};
pub use min::{Min, MinPerKey};
pub use sample::{Sample, SampleAccumulator, SampleFn};
pub use sum::Sum;
pub use to_list::ToList;
pub use top::{Top, TopAccumulator, TopFn};
