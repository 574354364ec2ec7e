//! Type-erased batches: how elements move through a runner without it knowing `T`.
//!
//! A [`Batch`] is one boxed `Vec<WindowedValue<T>>`. Runners move, clone,
//! concatenate, count and shuffle batches; typed code built by the SDK
//! downcasts them. A [`BatchCodec`] (built where `T` is known) encodes them.

use crate::coder::Coder;
use crate::element::{Element, WindowedValue};
use crate::error::{shorten, Error, Result};
use crate::pane::PaneInfo;
use crate::time::Timestamp;
use crate::window::Window;
use std::any::Any;
use std::sync::Arc;

/// Set in a window tag when a pane follows the window.
const PANED: u8 = 0x80;

trait AnyVec: Send {
    fn len(&self) -> usize;
    fn clone_box(&self) -> Box<dyn AnyVec>;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
    fn append(&mut self, other: Box<dyn AnyVec>) -> std::result::Result<(), ()>;
    fn shuffle(&mut self, rng: &mut rand::rngs::SmallRng);
    fn split(&mut self, at: usize) -> Box<dyn AnyVec>;
    fn describe(&self, index: usize) -> String;
    fn min_timestamp(&self) -> Option<Timestamp>;
    fn min_window_end(&self) -> Option<Timestamp>;
    fn extract_windows(&mut self, pred: &dyn Fn(&Window) -> bool) -> Box<dyn AnyVec>;
}

impl<T: Element> AnyVec for Vec<WindowedValue<T>> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn clone_box(&self) -> Box<dyn AnyVec> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
    fn append(&mut self, other: Box<dyn AnyVec>) -> std::result::Result<(), ()> {
        let mut other = other.into_any().downcast::<Vec<WindowedValue<T>>>().map_err(|_| ())?;
        Vec::append(self, &mut other);
        Ok(())
    }
    fn shuffle(&mut self, rng: &mut rand::rngs::SmallRng) {
        use rand::seq::SliceRandom;
        self.as_mut_slice().shuffle(rng);
    }
    fn split(&mut self, at: usize) -> Box<dyn AnyVec> {
        Box::new(self.split_off(at.min(Vec::len(self))))
    }
    fn describe(&self, index: usize) -> String {
        self.get(index).map(|v| shorten(&format!("{:?}", v.value))).unwrap_or_default()
    }
    fn min_timestamp(&self) -> Option<Timestamp> {
        self.iter().map(|v| v.timestamp).min()
    }
    fn min_window_end(&self) -> Option<Timestamp> {
        self.iter().map(|v| v.window.max_timestamp()).min()
    }
    fn extract_windows(&mut self, pred: &dyn Fn(&Window) -> bool) -> Box<dyn AnyVec> {
        if !self.iter().any(|v| pred(&v.window)) {
            // The usual case (nothing late, everything ready): no copy.
            return Box::new(Vec::<WindowedValue<T>>::new());
        }
        let (taken, kept): (Vec<_>, Vec<_>) = std::mem::take(self).into_iter().partition(|v| pred(&v.window));
        *self = kept;
        Box::new(taken)
    }
}

/// A batch of windowed elements of one (erased) type.
///
/// # Examples
/// ```
/// use beamline::{Batch, WindowedValue};
/// let b = Batch::new(vec![WindowedValue::in_global(1u32), WindowedValue::in_global(2)]);
/// assert_eq!(b.len(), 2);
/// let v = b.downcast::<u32>().unwrap();
/// assert_eq!(v[1].value, 2);
/// ```
pub struct Batch(Box<dyn AnyVec>);

impl Batch {
    /// Wraps typed elements.
    pub fn new<T: Element>(values: Vec<WindowedValue<T>>) -> Self {
        Batch(Box::new(values))
    }
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether the batch holds no element.
    pub fn is_empty(&self) -> bool {
        self.0.len() == 0
    }
    /// Takes the typed elements back; fails if `T` is not the batch's type.
    pub fn downcast<T: Element>(self) -> Result<Vec<WindowedValue<T>>> {
        self.0.into_any().downcast::<Vec<WindowedValue<T>>>().map(|b| *b).map_err(|_| type_mismatch::<T>())
    }
    /// Borrows the typed elements.
    pub fn downcast_ref<T: Element>(&self) -> Result<&Vec<WindowedValue<T>>> {
        self.0.as_any().downcast_ref::<Vec<WindowedValue<T>>>().ok_or_else(type_mismatch::<T>)
    }
    /// Mutably borrows the typed elements.
    pub fn downcast_mut<T: Element>(&mut self) -> Result<&mut Vec<WindowedValue<T>>> {
        self.0.as_any_mut().downcast_mut::<Vec<WindowedValue<T>>>().ok_or_else(type_mismatch::<T>)
    }
    /// Appends another batch of the same type.
    pub fn append(&mut self, other: Batch) -> Result<()> {
        self.0.append(other.0).map_err(|()| Error::Runner {
            runner: String::new(),
            message: "appending batches of different element types".into(),
        })
    }
    /// Splits off the elements from `at` on into a new batch.
    pub fn split_off(&mut self, at: usize) -> Batch {
        Batch(self.0.split(at))
    }
    /// Shuffles the elements in place.
    pub fn shuffle(&mut self, rng: &mut rand::rngs::SmallRng) {
        self.0.shuffle(rng)
    }
    /// The element at `index`, debug-printed and shortened, for error messages.
    pub fn describe(&self, index: usize) -> String {
        self.0.describe(index)
    }
    /// Moves the elements whose window satisfies `pred` into a new batch (in
    /// order); the rest stay. Runners use it to drop late data and to hold
    /// back elements whose side inputs are not ready for their window.
    ///
    /// # Examples
    /// ```
    /// use beamline::{Batch, Timestamp, Window, WindowedValue};
    /// let w = |s| Window::interval(Timestamp::from_secs(s), Timestamp::from_secs(s + 1));
    /// let v = |x: u8, s| WindowedValue { value: x, timestamp: Timestamp::from_secs(s), window: w(s), pane: Default::default() };
    /// let mut b = Batch::new(vec![v(1, 0), v(2, 5), v(3, 1)]);
    /// let early = b.extract_windows(&|win| win.max_timestamp() < Timestamp::from_secs(2));
    /// assert_eq!(early.downcast::<u8>().unwrap().iter().map(|v| v.value).collect::<Vec<_>>(), [1, 3]);
    /// assert_eq!(b.len(), 1);
    /// ```
    pub fn extract_windows(&mut self, pred: &dyn Fn(&Window) -> bool) -> Batch {
        Batch(self.0.extract_windows(pred))
    }
    /// The smallest timestamp in the batch.
    pub fn min_timestamp(&self) -> Option<Timestamp> {
        self.0.min_timestamp()
    }
    /// The earliest last instant of the windows in the batch.
    pub fn min_window_end(&self) -> Option<Timestamp> {
        self.0.min_window_end()
    }
}

impl Clone for Batch {
    fn clone(&self) -> Self {
        Batch(self.0.clone_box())
    }
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Batch({} elements)", self.len())
    }
}

fn type_mismatch<T>() -> Error {
    Error::Runner {
        runner: String::new(),
        message: format!("batch is not of element type {}", std::any::type_name::<T>()),
    }
}

/// Encodes and decodes whole batches of one PCollection; built where `T` is known.
pub trait BatchCodec: Send + Sync {
    /// Appends the encoding of every element (value, timestamp, window) to `out`.
    fn encode(&self, batch: &Batch, out: &mut Vec<u8>) -> Result<()>;
    /// Decodes a batch written by [`BatchCodec::encode`].
    fn decode(&self, bytes: &[u8]) -> Result<Batch>;
    /// An empty batch of this PCollection's type.
    fn empty(&self) -> Batch;
    /// A fingerprint (hash of the encoding) of each element's value, to detect changes.
    fn fingerprints(&self, batch: &Batch) -> Result<Vec<u64>>;
}

/// The codec of one PCollection; generic over the coder so that encoding a
/// batch makes no dynamic call per element.
pub(crate) struct TypedCodec<T, C> {
    pub(crate) coder: Arc<C>,
    pub(crate) label: String,
    pub(crate) _t: std::marker::PhantomData<fn() -> T>,
}

impl<T: Element, C: Coder<T>> TypedCodec<T, C> {
    fn err(&self, message: String) -> Error {
        Error::Coder { label: self.label.clone(), message }
    }
}

impl<T: Element, C: Coder<T>> BatchCodec for TypedCodec<T, C> {
    fn encode(&self, batch: &Batch, out: &mut Vec<u8>) -> Result<()> {
        let values = batch.downcast_ref::<T>()?;
        write_varint(out, values.len() as u64);
        for v in values {
            // Encode in place after a 4-byte length slot, then fill the slot.
            let slot = out.len();
            out.extend_from_slice(&[0; 4]);
            self.coder
                .encode(&v.value, out)
                .map_err(|e| self.err(format!("cannot encode {}: {e}", shorten(&format!("{:?}", v.value)))))?;
            let len = u32::try_from(out.len() - slot - 4)
                .map_err(|_| self.err("an element's encoding exceeds 4 GiB".to_string()))?;
            out[slot..slot + 4].copy_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&v.timestamp.as_micros().to_le_bytes());
            // The window's tag byte says whether a pane follows (the
            // default pane, nearly always, costs nothing).
            let paned = if v.pane == PaneInfo::NO_FIRING { 0 } else { PANED };
            match v.window {
                Window::Global => out.push(paned),
                Window::Interval { start, end } => {
                    out.push(1 | paned);
                    out.extend_from_slice(&start.as_micros().to_le_bytes());
                    out.extend_from_slice(&end.as_micros().to_le_bytes());
                }
            }
            if paned != 0 {
                out.extend_from_slice(&v.pane.to_bits().to_le_bytes());
            }
        }
        Ok(())
    }

    fn decode(&self, bytes: &[u8]) -> Result<Batch> {
        let mut r = Reader { bytes, pos: 0 };
        let n = r.varint().ok_or_else(|| self.err("truncated batch header".into()))?;
        let mut values = Vec::with_capacity((n as usize).min(1 << 20));
        for _ in 0..n {
            let len = r.u32().ok_or_else(|| self.err("truncated element length".into()))? as usize;
            let body = r.take(len).ok_or_else(|| self.err("truncated element".into()))?;
            let value = self.coder.decode(body).map_err(|e| self.err(format!("cannot decode element: {e}")))?;
            let ts = r.i64().ok_or_else(|| self.err("truncated timestamp".into()))?;
            let tag = r.take(1).map(|b| b[0]).ok_or_else(|| self.err("truncated window".into()))?;
            let window = match tag & !PANED {
                0 => Window::Global,
                1 => {
                    let s = r.i64().ok_or_else(|| self.err("truncated window".into()))?;
                    let e = r.i64().ok_or_else(|| self.err("truncated window".into()))?;
                    Window::interval(Timestamp::from_micros(s), Timestamp::from_micros(e))
                }
                _ => return Err(self.err("bad window tag".into())),
            };
            let pane = if tag & PANED != 0 {
                PaneInfo::from_bits(r.i64().ok_or_else(|| self.err("truncated pane".into()))? as u64)
            } else {
                PaneInfo::NO_FIRING
            };
            values.push(WindowedValue { value, timestamp: Timestamp::from_micros(ts), window, pane });
        }
        Ok(Batch::new(values))
    }

    fn empty(&self) -> Batch {
        Batch::new::<T>(Vec::new())
    }

    fn fingerprints(&self, batch: &Batch) -> Result<Vec<u64>> {
        let values = batch.downcast_ref::<T>()?;
        let mut buf = Vec::new();
        values
            .iter()
            .map(|v| {
                buf.clear();
                self.coder.encode(&v.value, &mut buf).map_err(|e| self.err(e))?;
                Ok(crate::element::key_hash(buf.as_slice()))
            })
            .collect()
    }
}

fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.take(1)?[0];
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
    }
    fn i64(&mut self) -> Option<i64> {
        self.take(8).map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
    }
}
