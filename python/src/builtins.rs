//! Built-in element-wise steps on Python values, run in Rust without the GIL:
//! Beam's `Keys`, `Values`, `KvSwap`, `FlatMap(str.split)`, `Map(str)`, and
//! the conversions around the SDK's typed GroupByKey, combines and text IO.

use crate::value::Value;
use beamline::{DoFn, DoFnError, FinishBundleContext, ProcessContext, Timestamp, Window};
use serde::{Deserialize, Serialize};

/// One value-to-values step.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Op {
    /// `FlatMap(str.split)`: Python's whitespace split.
    Split,
    /// `Map(str)` and `ToString.Element`.
    Str,
    /// `ToString.Kvs`: `"k,v"` (Beam's default delimiter).
    StrKv,
    /// `Keys()`.
    Keys,
    /// `Values()`.
    Values,
    /// `KvSwap()`.
    KvSwap,
    /// `(element, None)`, as `Count.PerElement` keys its input.
    PairWithNone,
    /// A global combine's output, stamped as Beam's Python runners stamp it.
    Restamp,
    /// `GroupIntoBatches(size)` after the GroupByKey: `(k, [v, ...])` into
    /// `(k, [at most size values])` batches, in the group's order.
    Batch {
        /// Values per batch (at least 1).
        size: u64,
    },
    /// One output of a TestStream with several: `(index, v)` pairs whose
    /// index is this one, as `v`.
    Untag {
        /// The output's index.
        index: i64,
    },
}

/// Applies an [`Op`] to every element.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ValueOp {
    pub(crate) op: Op,
}

fn not_pair(what: &str, v: &Value) -> DoFnError {
    DoFnError::new(format!("TypeError: {what} needs key-value pairs (2-tuples), got {v:?}"))
}

/// Python's `str.isspace()` for one character.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

impl DoFn for ValueOp {
    type In = Value;
    type Out = Value;
    const MOVES_INPUT: bool = true;

    fn process(&mut self, v: &Value, ctx: &mut ProcessContext<'_, Value>) -> Result<(), DoFnError> {
        self.process_owned(v.clone(), ctx)
    }

    fn process_owned(&mut self, v: Value, ctx: &mut ProcessContext<'_, Value>) -> Result<(), DoFnError> {
        match self.op {
            Op::Split => match &v {
                Value::Str(s) => {
                    for w in s.split(is_py_space).filter(|w| !w.is_empty()) {
                        ctx.emit(Value::Str(w.to_string()));
                    }
                }
                other => {
                    return Err(DoFnError::new(format!(
                        "TypeError: descriptor 'split' for 'str' objects doesn't apply to {other:?}"
                    )))
                }
            },
            Op::Str => ctx.emit(Value::Str(v.to_py_str().map_err(|e| DoFnError::new(e.to_string()))?)),
            Op::StrKv => {
                let (k, val) = v.as_pair().ok_or_else(|| not_pair("ToString.Kvs", &v))?;
                let text = format!(
                    "{},{}",
                    k.to_py_str().map_err(|e| DoFnError::new(e.to_string()))?,
                    val.to_py_str().map_err(|e| DoFnError::new(e.to_string()))?
                );
                ctx.emit(Value::Str(text));
            }
            Op::Keys => ctx.emit(v.into_pair().map_err(|v| not_pair("Keys", &v))?.0),
            Op::Values => ctx.emit(v.into_pair().map_err(|v| not_pair("Values", &v))?.1),
            Op::KvSwap => {
                let (k, val) = v.into_pair().map_err(|v| not_pair("KvSwap", &v))?;
                ctx.emit(Value::Tuple(vec![val, k]));
            }
            Op::PairWithNone => ctx.emit(Value::Tuple(vec![v, Value::None])),
            Op::Untag { index } => {
                if let Value::Tuple(mut pair) = v {
                    if pair.len() == 2 && matches!(pair[0], Value::Int(i) if i == index) {
                        ctx.emit(pair.pop().unwrap_or_default());
                    }
                }
            }
            // Beam Python stamps a CombineGlobally output in the global window at its minimum.
            Op::Restamp if ctx.window() == Window::Global => ctx.emit_with_timestamp(v, Timestamp::MIN),
            Op::Restamp => emit_grouped(ctx, v),
            Op::Batch { size } => {
                let (k, values) = v.into_pair().map_err(|v| not_pair("GroupIntoBatches", &v))?;
                let values = match values {
                    Value::List(items) | Value::Tuple(items) => items,
                    other => return Err(DoFnError::new(format!("TypeError: a grouped value list, got {other:?}"))),
                };
                for chunk in values.chunks(size.max(1) as usize) {
                    ctx.emit(Value::Tuple(vec![k.clone(), Value::List(chunk.to_vec())]));
                }
            }
        }
        Ok(())
    }

    fn name(&self) -> String {
        format!("{:?}", self.op)
    }
}

/// Emits a grouped or combined output where Beam's Python runners stamp
/// it: a window's last millisecond (Beam keeps event time in milliseconds
/// there), not its last microsecond, which is the Rust SDK's end of window.
fn emit_grouped(ctx: &mut ProcessContext<'_, Value>, v: Value) {
    match ctx.window() {
        Window::Interval { start, end }
            if ctx.timestamp() == end.plus_micros(-1) && end.as_micros() - start.as_micros() >= 1000 =>
        {
            ctx.emit_with_timestamp(v, Timestamp::from_micros(end.as_micros() - 1000))
        }
        _ => ctx.emit(v),
    }
}

/// A key-value pair into the SDK's `(K, V)` (for GroupByKey and combines).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ToKv {
    /// The transform the pairs are for, in the error message.
    pub(crate) what: String,
}

impl DoFn for ToKv {
    type In = Value;
    type Out = (Value, Value);
    const MOVES_INPUT: bool = true;
    fn process(&mut self, v: &Value, ctx: &mut ProcessContext<'_, (Value, Value)>) -> Result<(), DoFnError> {
        self.process_owned(v.clone(), ctx)
    }
    fn process_owned(&mut self, v: Value, ctx: &mut ProcessContext<'_, (Value, Value)>) -> Result<(), DoFnError> {
        ctx.emit(v.into_pair().map_err(|v| not_pair(&self.what, &v))?);
        Ok(())
    }
}

/// `(k, iterable)` into the SDK's `(K, Vec<V>)` (for CombineValues).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ToKvList;

impl DoFn for ToKvList {
    type In = Value;
    type Out = (Value, Vec<Value>);
    const MOVES_INPUT: bool = true;
    fn process(&mut self, v: &Value, ctx: &mut ProcessContext<'_, (Value, Vec<Value>)>) -> Result<(), DoFnError> {
        self.process_owned(v.clone(), ctx)
    }
    fn process_owned(&mut self, v: Value, ctx: &mut ProcessContext<'_, (Value, Vec<Value>)>) -> Result<(), DoFnError> {
        match v.into_pair().map_err(|v| not_pair("CombineValues", &v))? {
            (k, Value::List(vs) | Value::Tuple(vs)) => ctx.emit((k, vs)),
            (_, other) => {
                return Err(DoFnError::new(format!(
                    "TypeError: CombineValues needs (key, list) pairs, got a value {other:?}"
                )))
            }
        }
        Ok(())
    }
}

/// The SDK's `(K, V)` back into a Python 2-tuple.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct FromKv;

impl DoFn for FromKv {
    type In = (Value, Value);
    type Out = Value;
    const MOVES_INPUT: bool = true;
    fn process(&mut self, kv: &(Value, Value), ctx: &mut ProcessContext<'_, Value>) -> Result<(), DoFnError> {
        self.process_owned(kv.clone(), ctx)
    }
    fn process_owned(&mut self, (k, v): (Value, Value), ctx: &mut ProcessContext<'_, Value>) -> Result<(), DoFnError> {
        emit_grouped(ctx, Value::Tuple(vec![k, v]));
        Ok(())
    }
}

/// A group `(K, Vec<V>)` as Python's `(k, [v, ...])`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct FromGroup;

impl DoFn for FromGroup {
    type In = (Value, Vec<Value>);
    type Out = Value;
    const MOVES_INPUT: bool = true;
    fn process(&mut self, kv: &(Value, Vec<Value>), ctx: &mut ProcessContext<'_, Value>) -> Result<(), DoFnError> {
        self.process_owned(kv.clone(), ctx)
    }
    fn process_owned(
        &mut self,
        (k, vs): (Value, Vec<Value>),
        ctx: &mut ProcessContext<'_, Value>,
    ) -> Result<(), DoFnError> {
        emit_grouped(ctx, Value::Tuple(vec![k, Value::List(vs)]));
        Ok(())
    }
}

/// Tags the values of one CoGroupByKey input: `(k, v)` into `(k, (i, v))`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct TagValue {
    pub(crate) index: i64,
}

impl DoFn for TagValue {
    type In = Value;
    type Out = (Value, Value);
    const MOVES_INPUT: bool = true;
    fn process(&mut self, v: &Value, ctx: &mut ProcessContext<'_, (Value, Value)>) -> Result<(), DoFnError> {
        self.process_owned(v.clone(), ctx)
    }
    fn process_owned(&mut self, v: Value, ctx: &mut ProcessContext<'_, (Value, Value)>) -> Result<(), DoFnError> {
        let (k, v) = v.into_pair().map_err(|v| not_pair("CoGroupByKey", &v))?;
        ctx.emit((k, Value::Tuple(vec![Value::Int(self.index), v])));
        Ok(())
    }
}

/// A CoGroupByKey group: `(k, {tag: [v, ...]})` for dict inputs, or
/// `(k, ([v, ...], [v, ...]))` for tuple and list inputs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct FromCoGroup {
    pub(crate) inputs: usize,
    pub(crate) tags: Option<Vec<String>>,
}

impl DoFn for FromCoGroup {
    type In = (Value, Vec<Value>);
    type Out = Value;
    const MOVES_INPUT: bool = true;
    fn process(&mut self, kv: &(Value, Vec<Value>), ctx: &mut ProcessContext<'_, Value>) -> Result<(), DoFnError> {
        self.process_owned(kv.clone(), ctx)
    }
    fn process_owned(
        &mut self,
        (k, tagged): (Value, Vec<Value>),
        ctx: &mut ProcessContext<'_, Value>,
    ) -> Result<(), DoFnError> {
        let mut lists: Vec<Vec<Value>> = vec![Vec::new(); self.inputs];
        for t in tagged {
            if let Value::Tuple(mut iv) = t {
                if let (Some(v), Some(Value::Int(i))) = (iv.pop(), iv.pop()) {
                    if let Some(l) = lists.get_mut(i as usize) {
                        l.push(v);
                    }
                }
            }
        }
        let grouped = match &self.tags {
            Some(tags) => {
                Value::Dict(tags.iter().zip(lists).map(|(t, l)| (Value::Str(t.clone()), Value::List(l))).collect())
            }
            None => Value::Tuple(lists.into_iter().map(Value::List).collect()),
        };
        emit_grouped(ctx, Value::Tuple(vec![k, grouped]));
        Ok(())
    }
}

/// Lines read by `ReadFromText` as Python strings.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct FromText;

impl DoFn for FromText {
    type In = String;
    type Out = Value;
    const MOVES_INPUT: bool = true;
    fn process(&mut self, s: &String, ctx: &mut ProcessContext<'_, Value>) -> Result<(), DoFnError> {
        ctx.emit(Value::Str(s.clone()));
        Ok(())
    }
    fn process_owned(&mut self, s: String, ctx: &mut ProcessContext<'_, Value>) -> Result<(), DoFnError> {
        ctx.emit(Value::Str(s));
        Ok(())
    }
}

/// Numbers from `GenerateSequence` as Python ints (beyond `i64`, pickled).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct FromU64;

impl DoFn for FromU64 {
    type In = u64;
    type Out = Value;
    fn process(&mut self, n: &u64, ctx: &mut ProcessContext<'_, Value>) -> Result<(), DoFnError> {
        ctx.emit(i64::try_from(*n).map(Value::Int).unwrap_or(Value::Float(*n as f64)));
        Ok(())
    }
}

/// Elements as the lines `WriteToText` writes: `str(element)`, bytes as UTF-8.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ToText;

impl DoFn for ToText {
    type In = Value;
    type Out = String;
    const MOVES_INPUT: bool = true;
    fn process(&mut self, v: &Value, ctx: &mut ProcessContext<'_, String>) -> Result<(), DoFnError> {
        self.process_owned(v.clone(), ctx)
    }
    fn process_owned(&mut self, v: Value, ctx: &mut ProcessContext<'_, String>) -> Result<(), DoFnError> {
        let line = match v {
            Value::Str(s) => s,
            Value::Bytes(b) => String::from_utf8(b).map_err(|e| DoFnError::new(format!("UnicodeDecodeError: {e}")))?,
            other => other.to_py_str().map_err(|e| DoFnError::new(e.to_string()))?,
        };
        ctx.emit(line);
        Ok(())
    }
}

/// `BatchElements`: each window's elements of a bundle into lists of
/// `min..=max` elements, the size doubling from `min` while a bundle lasts
/// (Beam's estimator grows batches the same way while they stay cheap); the
/// rest of a window at the bundle's end goes out as one smaller batch.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct BatchElementsFn {
    pub(crate) min: u64,
    pub(crate) max: u64,
    #[serde(skip)]
    target: u64,
    #[serde(skip)]
    buffers: Vec<(Window, Vec<Value>)>,
}

impl BatchElementsFn {
    pub(crate) fn new(min: u64, max: u64) -> Self {
        BatchElementsFn { min: min.max(1), max: max.max(min.max(1)), target: min.max(1), buffers: Vec::new() }
    }
}

impl DoFn for BatchElementsFn {
    type In = Value;
    type Out = Value;
    const MOVES_INPUT: bool = true;

    fn start_bundle(&mut self) -> Result<(), DoFnError> {
        self.target = self.min.max(1);
        self.buffers.clear();
        Ok(())
    }

    fn process(&mut self, v: &Value, ctx: &mut ProcessContext<'_, Value>) -> Result<(), DoFnError> {
        self.process_owned(v.clone(), ctx)
    }

    fn process_owned(&mut self, v: Value, ctx: &mut ProcessContext<'_, Value>) -> Result<(), DoFnError> {
        let window = ctx.window();
        // Few windows are open at once in a bundle: a short list beats a map.
        let at = match self.buffers.iter().position(|(w, _)| *w == window) {
            Some(i) => i,
            None => {
                self.buffers.push((window, Vec::new()));
                self.buffers.len() - 1
            }
        };
        self.buffers[at].1.push(v);
        if self.buffers[at].1.len() as u64 >= self.target {
            let (_, batch) = self.buffers.swap_remove(at);
            self.target = (self.target * 2).min(self.max);
            ctx.emit(Value::List(batch));
        }
        Ok(())
    }

    fn finish_bundle(&mut self, ctx: &mut FinishBundleContext<'_, Value>) -> Result<(), DoFnError> {
        for (window, batch) in self.buffers.drain(..) {
            if !batch.is_empty() {
                ctx.emit(Value::List(batch), window.max_timestamp(), window);
            }
        }
        Ok(())
    }

    fn name(&self) -> String {
        "BatchElements".into()
    }
}
