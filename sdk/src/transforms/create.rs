//! `Create`: a PCollection from values in the program.

use crate::batch::Batch;
use crate::element::{Element, WindowedValue};
use crate::error::{Error, Result};
use crate::exec::{BoundedSource, Executable, NodeBuilder, SourceSplit};
use crate::pipeline::{LazyPayload, PBegin, PCollection, PTransform, Primitive};
use crate::time::Timestamp;
use crate::window::{Window, WindowingStrategy};
use std::sync::Arc;

/// The fewest elements a split of a `Create` holds (small inputs stay whole).
const MIN_SPLIT: usize = 256;

/// Elements per batch emitted by in-memory sources.
pub(crate) const SOURCE_BATCH: usize = 4096;

/// Makes a bounded PCollection from a list of values (in the global window).
///
/// The values travel in the graph as JSON, so the step is portable.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let xs = p.apply(Create::new(vec![3u8, 1, 2]));
/// assert_that(&xs, contains_in_any_order(vec![1u8, 2, 3]));
/// let ts = p.apply(Create::timestamped(vec![("a".to_string(), Timestamp::from_secs(5))]));
/// assert_that(&ts.apply(Map::new(|s: &String| s.len())), contains_in_any_order(vec![1usize]));
/// p.run().unwrap();
/// ```
#[must_use = "a transform does nothing until applied"]
pub struct Create<T> {
    values: Vec<(T, Timestamp)>,
}

impl<T: Element> Create<T> {
    /// The given values, at the minimum timestamp.
    pub fn new(values: impl IntoIterator<Item = T>) -> Self {
        Create { values: values.into_iter().map(|v| (v, Timestamp::MIN)).collect() }
    }
    /// The given values with their event times.
    pub fn timestamped(values: impl IntoIterator<Item = (T, Timestamp)>) -> Self {
        Create { values: values.into_iter().collect() }
    }
}

impl<T: Element> PTransform<PBegin> for Create<T> {
    type Output = PCollection<T>;
    fn default_label(&self) -> String {
        "Create".into()
    }
    fn expand(self, input: PBegin) -> PCollection<T> {
        let p = input.root().clone();
        let out = p.new_output::<T>("out", true, WindowingStrategy::default());
        let values = Arc::new(self.values);
        let for_payload = values.clone();
        // Computed only when the graph is written: a large Create costs nothing in-process.
        let payload: LazyPayload = Arc::new(move || crate::graph::to_payload(&*for_payload));
        let builder: NodeBuilder = Arc::new(move |ctx| {
            let values = if ctx.from_file {
                Arc::new(
                    crate::graph::from_payload::<Vec<(T, Timestamp)>>(ctx.payload)
                        .map_err(|e| Error::graph(ctx.label, format!("bad Create payload: {e}")))?,
                )
            } else {
                values.clone()
            };
            Ok(Executable::Read(Arc::new(VecSource { values })))
        });
        let function = format!("create:{}", std::any::type_name::<T>());
        p.set_primitive(Primitive {
            lazy_payload: Some(payload),
            ..Primitive::read(function, serde_json::Value::Null, out.id(), builder)
        });
        out
    }
}

struct VecSource<T> {
    values: Arc<Vec<(T, Timestamp)>>,
}

impl<T: Element> BoundedSource for VecSource<T> {
    fn split(&self, desired: usize) -> Result<Vec<Box<dyn SourceSplit>>> {
        let n = self.values.len();
        let parts = desired.clamp(1, n.div_ceil(MIN_SPLIT).max(1));
        let step = n.div_ceil(parts).max(1);
        let mut splits: Vec<Box<dyn SourceSplit>> = Vec::new();
        let mut start = 0;
        loop {
            let end = (start + step).min(n);
            splits.push(Box::new(VecSplit { values: self.values.clone(), start, end }));
            start = end;
            if start >= n {
                break;
            }
        }
        Ok(splits)
    }
}

struct VecSplit<T> {
    values: Arc<Vec<(T, Timestamp)>>,
    start: usize,
    end: usize,
}

impl<T: Element> SourceSplit for VecSplit<T> {
    fn read(&mut self, emit: &mut dyn FnMut(Batch) -> Result<()>) -> Result<()> {
        for chunk in self.values[self.start..self.end].chunks(SOURCE_BATCH) {
            let batch: Vec<WindowedValue<T>> = chunk
                .iter()
                .map(|(v, ts)| WindowedValue {
                    value: v.clone(),
                    timestamp: *ts,
                    window: Window::Global,
                    pane: Default::default(),
                })
                .collect();
            emit(Batch::new(batch))?;
        }
        Ok(())
    }
}
