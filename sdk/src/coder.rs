//! Coders: how elements become bytes when they cross a process or are checked.
//!
//! The default coder is serde with [postcard](https://docs.rs/postcard): a
//! compact, documented and stable wire format (varint integers, no field names,
//! no padding), deterministic for a given value, so encoded keys compare and
//! hash the same everywhere. Users can give a PCollection their own [`Coder`].

use crate::element::Element;
use std::marker::PhantomData;

/// Encodes and decodes values of one type.
///
/// # Examples
/// ```
/// use beamline::coder::{Coder, SerdeCoder};
/// let c = SerdeCoder::<(String, i64)>::new();
/// let mut buf = Vec::new();
/// c.encode(&("a".to_string(), 300), &mut buf).unwrap();
/// assert_eq!(c.decode(&buf).unwrap(), ("a".to_string(), 300));
/// ```
pub trait Coder<T>: Send + Sync + 'static {
    /// Appends the encoding of `value` to `out`.
    fn encode(&self, value: &T, out: &mut Vec<u8>) -> Result<(), String>;
    /// Decodes a value from exactly `bytes`.
    fn decode(&self, bytes: &[u8]) -> Result<T, String>;
    /// A name for the graph (`beamline:coder:...`).
    fn name(&self) -> String;
}

/// The default coder: serde + postcard.
pub struct SerdeCoder<T>(PhantomData<fn() -> T>);

impl<T> SerdeCoder<T> {
    /// The serde coder for `T`.
    pub fn new() -> Self {
        SerdeCoder(PhantomData)
    }
}

impl<T> Default for SerdeCoder<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Element> Coder<T> for SerdeCoder<T> {
    fn encode(&self, value: &T, out: &mut Vec<u8>) -> Result<(), String> {
        // `to_io` copies byte slices with one `write_all` (`to_extend` goes byte by byte).
        postcard::to_io(value, out).map(|_| ()).map_err(|e| e.to_string())
    }

    fn decode(&self, bytes: &[u8]) -> Result<T, String> {
        let (v, rest) = postcard::take_from_bytes(bytes).map_err(|e| e.to_string())?;
        if !rest.is_empty() {
            return Err(format!("{} trailing bytes after the value", rest.len()));
        }
        Ok(v)
    }

    fn name(&self) -> String {
        "beamline:coder:serde_postcard:v1".to_string()
    }
}

/// Encodes a value with postcard into a fresh buffer (used for deterministic keys).
pub(crate) fn to_bytes<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, String> {
    postcard::to_allocvec(v).map_err(|e| e.to_string())
}
