//! What travels on the runner's timely streams: whole batches.
//!
//! Inside a process a [`Msg`] carries a [`Batch`] itself and is never
//! serialized (timely moves typed messages between threads of one process).
//! Bound for a worker of another process, a batch is encoded with its
//! PCollection's coder before it is handed to timely, so serializing the
//! message is a copy of bytes; the receiver decodes with the same codec.

use beamline::batch::BatchCodec;
use beamline::{Batch, Result};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeTuple, Serializer};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One batch on a stream, with the worker it is bound for (for exchanges).
#[derive(Clone)]
pub(crate) struct Msg {
    /// The worker index an exchange routes it to (unused on pipelined edges).
    pub(crate) target: u64,
    pub(crate) payload: Payload,
}

#[derive(Clone)]
pub(crate) enum Payload {
    /// A batch that stayed in its process.
    Local(Batch),
    /// A batch encoded with its codec, to cross (or that crossed) processes.
    Encoded(Vec<u8>),
}

impl Msg {
    pub(crate) fn local(target: u64, batch: Batch) -> Self {
        Msg { target, payload: Payload::Local(batch) }
    }

    pub(crate) fn encoded(target: u64, batch: &Batch, codec: &dyn BatchCodec) -> Result<Self> {
        let mut bytes = Vec::new();
        codec.encode(batch, &mut bytes)?;
        Ok(Msg { target, payload: Payload::Encoded(bytes) })
    }

    /// The batch, decoding it with `codec` if it crossed processes.
    pub(crate) fn into_batch(self, codec: &dyn BatchCodec) -> Result<Batch> {
        match self.payload {
            Payload::Local(b) => Ok(b),
            Payload::Encoded(bytes) => codec.decode(&bytes),
        }
    }
}

impl Serialize for Msg {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let Payload::Encoded(bytes) = &self.payload else {
            // Batches bound for another process are encoded before they reach
            // timely (where a coder's error can still be reported).
            return Err(serde::ser::Error::custom("a batch reached the network unencoded"));
        };
        let mut t = serializer.serialize_tuple(2)?;
        t.serialize_element(&self.target)?;
        t.serialize_element(&BytesRef(bytes))?;
        t.end()
    }
}

/// A byte slice serialized as bytes (one length and a copy), not as a sequence of `u8`.
struct BytesRef<'a>(&'a [u8]);

impl Serialize for BytesRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

impl<'de> Deserialize<'de> for Msg {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct MsgVisitor;
        impl<'de> Visitor<'de> for MsgVisitor {
            type Value = Msg;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a target and an encoded batch")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Msg, A::Error> {
                let target: u64 = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let bytes: ByteBuf = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
                Ok(Msg { target, payload: Payload::Encoded(bytes.0) })
            }
        }
        deserializer.deserialize_tuple(2, MsgVisitor)
    }
}

struct ByteBuf(Vec<u8>);

impl<'de> Deserialize<'de> for ByteBuf {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct BytesVisitor;
        impl<'de> Visitor<'de> for BytesVisitor {
            type Value = ByteBuf;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> std::result::Result<ByteBuf, E> {
                Ok(ByteBuf(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> std::result::Result<ByteBuf, E> {
                Ok(ByteBuf(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<ByteBuf, A::Error> {
                let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                while let Some(b) = seq.next_element()? {
                    v.push(b);
                }
                Ok(ByteBuf(v))
            }
        }
        deserializer.deserialize_byte_buf(BytesVisitor)
    }
}

/// Routes a batch to worker `target`: as it is when the target shares this
/// process, encoded when it does not.
pub(crate) fn route(target: usize, batch: Batch, codec: &Arc<dyn BatchCodec>, topology: &Topology) -> Result<Msg> {
    if topology.is_local(target) {
        Ok(Msg::local(target as u64, batch))
    } else {
        Msg::encoded(target as u64, &batch, codec.as_ref())
    }
}

/// Where the workers are: `threads` per process, `process` is this one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Topology {
    pub(crate) threads: usize,
    pub(crate) process: usize,
    pub(crate) peers: usize,
}

impl Topology {
    /// Timely numbers workers process by process.
    pub(crate) fn is_local(&self, worker: usize) -> bool {
        worker / self.threads == self.process
    }
}
