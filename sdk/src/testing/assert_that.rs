//! `assert_that` and its matchers.

use crate::coder::to_bytes;
use crate::element::Element;
use crate::error::{shorten, DoFnError};
use crate::pipeline::PCollection;
use crate::transforms::{DoFn, Impulse, ListView, ParDo, ProcessContext, SideInput, WindowInto};
use crate::window::{Window, WindowFn};
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;
use std::sync::Arc;

/// What an assertion expects of a PCollection's contents.
#[derive(Clone, Serialize, Deserialize)]
#[serde(bound = "T: Element")]
pub enum Matcher<T> {
    /// Exactly these elements, in any order (a multiset).
    ContainsInAnyOrder(Vec<T>),
    /// No element.
    IsEmpty,
    /// A user check (in-process only: not portable).
    #[serde(skip)]
    Satisfies(SatisfiesFn<T>),
}

type CheckFn<T> = dyn Fn(&[T]) -> Result<(), String> + Send + Sync;

/// The function of [`satisfies`].
pub struct SatisfiesFn<T>(Arc<CheckFn<T>>);

impl<T> Clone for SatisfiesFn<T> {
    fn clone(&self) -> Self {
        SatisfiesFn(self.0.clone())
    }
}

/// Matches exactly `expected`, in any order.
pub fn contains_in_any_order<T: Element>(expected: impl IntoIterator<Item = T>) -> Matcher<T> {
    Matcher::ContainsInAnyOrder(expected.into_iter().collect())
}

/// Matches an empty PCollection.
pub fn is_empty<T: Element>() -> Matcher<T> {
    Matcher::IsEmpty
}

/// Matches when `check` returns `Ok` on all the elements.
pub fn satisfies<T: Element>(check: impl Fn(&[T]) -> Result<(), String> + Send + Sync + 'static) -> Matcher<T> {
    Matcher::Satisfies(SatisfiesFn(Arc::new(check)))
}

impl<T: Element + PartialEq> Matcher<T> {
    fn check(&self, actual: &[T]) -> Result<(), String> {
        match self {
            Matcher::IsEmpty if actual.is_empty() => Ok(()),
            Matcher::IsEmpty => {
                Err(format!("expected an empty PCollection, got {} elements: {}", actual.len(), preview(actual)))
            }
            Matcher::Satisfies(f) => (f.0)(actual),
            Matcher::ContainsInAnyOrder(expected) => compare(expected, actual),
        }
    }
}

fn preview<T: std::fmt::Debug>(xs: &[T]) -> String {
    const SHOWN: usize = 20;
    let items: Vec<String> = xs.iter().take(SHOWN).map(|x| shorten(&format!("{x:?}"))).collect();
    let more = if xs.len() > SHOWN { format!(", … ({} in all)", xs.len()) } else { String::new() };
    format!("[{}{more}]", items.join(", "))
}

fn compare<T: Element + PartialEq>(expected: &[T], actual: &[T]) -> Result<(), String> {
    // Fast path: equal sorted encodings mean equal multisets.
    let key = |xs: &[T]| -> Option<Vec<Vec<u8>>> {
        let mut v: Vec<Vec<u8>> = xs.iter().map(|x| to_bytes(x).ok()).collect::<Option<_>>()?;
        v.sort_unstable();
        Some(v)
    };
    if expected.len() == actual.len() {
        if let (Some(a), Some(b)) = (key(expected), key(actual)) {
            if a == b {
                return Ok(());
            }
        }
    }
    // Slow path by `==`: finds what is missing and what is unexpected.
    let mut unmatched: Vec<&T> = actual.iter().collect();
    let mut missing = Vec::new();
    for e in expected {
        match unmatched.iter().position(|a| *a == e) {
            Some(i) => {
                unmatched.swap_remove(i);
            }
            None => missing.push(e.clone()),
        }
    }
    if missing.is_empty() && unmatched.is_empty() {
        return Ok(());
    }
    let unexpected: Vec<T> = unmatched.into_iter().cloned().collect();
    Err(format!(
        "expected {} elements in any order, got {}; missing: {}; unexpected: {}",
        expected.len(),
        actual.len(),
        preview(&missing),
        preview(&unexpected)
    ))
}

/// Pairs each element with its window, so checks can see windows.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
struct ReifyWindow<T>(PhantomData<fn() -> T>);

impl<T> Clone for ReifyWindow<T> {
    fn clone(&self) -> Self {
        ReifyWindow(PhantomData)
    }
}

impl<T: Element> DoFn for ReifyWindow<T> {
    type In = T;
    type Out = (Window, T);
    fn process(&mut self, x: &T, ctx: &mut ProcessContext<'_, (Window, T)>) -> Result<(), DoFnError> {
        let w = ctx.window();
        ctx.emit((w, x.clone()));
        Ok(())
    }
    fn name(&self) -> String {
        "ReifyWindow".into()
    }
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(bound = "T: Element")]
struct Check<T: Element> {
    matcher: Matcher<T>,
    window: Option<Window>,
    side: SideInput<ListView<(Window, T)>>,
}

impl<T: Element + PartialEq> DoFn for Check<T> {
    type In = ();
    type Out = ();
    fn process(&mut self, _: &(), ctx: &mut ProcessContext<'_, ()>) -> Result<(), DoFnError> {
        let all = ctx.side_input(&self.side)?;
        let actual: Vec<T> = all
            .iter()
            .filter(|(w, _)| self.window.is_none_or(|want: Window| *w == want))
            .map(|(_, x)| x.clone())
            .collect();
        self.matcher.check(&actual).map_err(|m| match self.window {
            Some(w) => DoFnError::new(format!("in window {w}: {m}")),
            None => DoFnError::new(m),
        })
    }
    fn name(&self) -> String {
        "Check".into()
    }
}

/// Asserts, when the pipeline runs, that `pcoll` (all windows together) matches.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let xs = p.apply(Create::new(vec![1i32, 2]));
/// assert_that(&xs, contains_in_any_order(vec![2, 3]));
/// let err = p.run().unwrap_err().to_string();
/// assert!(err.contains("missing: [3]; unexpected: [1]"), "{err}");
/// ```
pub fn assert_that<T: Element + PartialEq>(pcoll: &PCollection<T>, matcher: Matcher<T>) {
    apply_check(pcoll, matcher, None, "AssertThat");
}

/// Asserts that the elements of `pcoll` in `window` match.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// use std::time::Duration;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let xs = p
///     .apply(Create::timestamped(vec![(1i32, Timestamp::from_secs(1)), (2, Timestamp::from_secs(11))]))
///     .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))));
/// let first = Window::interval(Timestamp::from_secs(0), Timestamp::from_secs(10));
/// assert_that_in_window(&xs, first, contains_in_any_order(vec![1]));
/// p.run().unwrap();
/// ```
pub fn assert_that_in_window<T: Element + PartialEq>(pcoll: &PCollection<T>, window: Window, matcher: Matcher<T>) {
    apply_check(pcoll, matcher, Some(window), "AssertThatInWindow");
}

fn apply_check<T: Element + PartialEq>(
    pcoll: &PCollection<T>,
    matcher: Matcher<T>,
    window: Option<Window>,
    name: &str,
) {
    struct Assert<T: Element>(Matcher<T>, Option<Window>, String);
    impl<T: Element + PartialEq> crate::PTransform<PCollection<T>> for Assert<T> {
        type Output = ();
        fn default_label(&self) -> String {
            self.2.clone()
        }
        fn expand(self, input: PCollection<T>) {
            let all = input
                .apply_named("ReifyWindow", ParDo::of(ReifyWindow::<T>(PhantomData)))
                .apply_named("GlobalWindow", WindowInto::new(WindowFn::Global));
            let side = all.as_list();
            let check = Check { matcher: self.0, window: self.1, side: side.clone() };
            let portable = !matches!(check.matcher, Matcher::Satisfies(_));
            let impulse = input.pipeline().apply_named("Impulse", Impulse);
            let _ = if portable {
                impulse.apply_named("Check", ParDo::of(check).with_side_input(&side))
            } else {
                impulse.apply_named("Check", ParDo::local(check).with_side_input(&side))
            };
        }
    }
    pcoll.apply(Assert(matcher, window, name.to_string()));
}
