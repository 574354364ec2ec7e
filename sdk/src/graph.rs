//! The portable graph: a pipeline as serde data.
//!
//! Every applied transform becomes a [`TransformNode`] (composites keep their
//! sub-steps), every PCollection a [`PCollectionNode`] with its coder,
//! boundedness and windowing. The graph round-trips through JSON, and runners
//! execute what [`crate::plan::ExecutionPlan::build`] makes of it.

use crate::error::{Error, Result};
use crate::window::WindowingStrategy;
use serde::{Deserialize, Serialize};

/// The version tag written into every graph file.
pub const GRAPH_VERSION: &str = "beamline:graph:v1";

/// URNs of the primitives and built-in composites.
pub mod urns {
    /// Emits one empty element in the global window.
    pub const IMPULSE: &str = "beamline:transform:impulse:v1";
    /// Reads a bounded source.
    pub const READ: &str = "beamline:transform:read:v1";
    /// Element-wise user code.
    pub const PAR_DO: &str = "beamline:transform:pardo:v1";
    /// Groups by key and window.
    pub const GROUP_BY_KEY: &str = "beamline:transform:group_by_key:v1";
    /// Merges PCollections of one type.
    pub const FLATTEN: &str = "beamline:transform:flatten:v1";
    /// Reassigns windows.
    pub const WINDOW_INTO: &str = "beamline:transform:window_into:v1";
    /// A user or library composite.
    pub const COMPOSITE: &str = "beamline:transform:composite:v1";
    /// A per-key combine (a composite a runner may lift).
    pub const COMBINE_PER_KEY: &str = "beamline:transform:combine_per_key:v1";
    /// Every primitive a runner must know.
    pub const PRIMITIVES: &[&str] = &[IMPULSE, READ, PAR_DO, GROUP_BY_KEY, FLATTEN, WINDOW_INTO];
}

/// A pipeline as data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipelineGraph {
    /// Always [`GRAPH_VERSION`].
    pub version: String,
    /// Every applied transform, parents before children, in application order.
    pub transforms: Vec<TransformNode>,
    /// Every PCollection.
    pub pcollections: Vec<PCollectionNode>,
}

/// One applied transform.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransformNode {
    /// Unique, nested label (`CountWords/Split`).
    pub label: String,
    /// What it is: `beamline:transform:<name>:v1`.
    pub urn: String,
    /// The registry key of the function that rebuilds its executable node;
    /// `None` for composites and for Flatten.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// The function's parameters (a DoFn's fields, a window function, ...).
    #[serde(default)]
    pub payload: serde_json::Value,
    /// Ids of main-input PCollections.
    #[serde(default)]
    pub inputs: Vec<String>,
    /// Ids of side-input PCollections.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub side_inputs: Vec<String>,
    /// Ids of output PCollections.
    #[serde(default)]
    pub outputs: Vec<String>,
    /// Labels of direct sub-transforms (composites only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subtransforms: Vec<String>,
    /// Capabilities a runner needs to run this step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<String>,
}

impl TransformNode {
    /// Whether a runner executes this node itself (as opposed to its parts).
    pub fn is_primitive(&self) -> bool {
        urns::PRIMITIVES.contains(&self.urn.as_str())
    }
}

/// One PCollection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PCollectionNode {
    /// Unique id: `<producer label>.<output name>`.
    pub id: String,
    /// Label of the producing transform.
    pub producer: String,
    /// The Rust element type, for people and for rebuilding the codec.
    pub element_type: String,
    /// The coder's URN.
    pub coder: String,
    /// Whether the PCollection is finite.
    pub bounded: bool,
    /// How it is windowed.
    pub windowing: WindowingStrategy,
}

/// The key of a payload that JSON cannot hold exactly (NaN, 128-bit integers,
/// ...): such a value travels as hex-encoded postcard bytes instead.
const BINARY_PAYLOAD: &str = "beamline:postcard_hex";

/// Turns a value into a payload: readable JSON when JSON holds it exactly
/// (checked by reading it back), hex-encoded postcard bytes otherwise.
pub(crate) fn to_payload<T: Serialize + serde::de::DeserializeOwned>(
    v: &T,
) -> std::result::Result<serde_json::Value, String> {
    let exact = postcard::to_allocvec(v).map_err(|e| e.to_string())?;
    if let Ok(json) = serde_json::to_value(v) {
        if let Ok(back) = serde_json::from_value::<T>(json.clone()) {
            if postcard::to_allocvec(&back).ok().as_deref() == Some(exact.as_slice()) {
                return Ok(json);
            }
        }
    }
    let hex: String = exact.iter().map(|b| format!("{b:02x}")).collect();
    Ok(serde_json::json!({ BINARY_PAYLOAD: hex }))
}

/// Reads a payload written by [`to_payload`].
pub(crate) fn from_payload<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> std::result::Result<T, String> {
    match v.as_object().and_then(|o| o.get(BINARY_PAYLOAD)).and_then(|h| h.as_str()) {
        Some(hex) => {
            if hex.len() % 2 != 0 || !hex.is_ascii() {
                return Err("binary payload is not hex".into());
            }
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
                .collect::<std::result::Result<Vec<u8>, _>>()
                .map_err(|e| format!("binary payload is not hex: {e}"))?;
            postcard::from_bytes(&bytes).map_err(|e| e.to_string())
        }
        None => serde_json::from_value(v.clone()).map_err(|e| e.to_string()),
    }
}

impl PipelineGraph {
    /// The graph as pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::graph("<graph>", e))
    }

    /// Parses and checks a graph written by [`PipelineGraph::to_json`].
    ///
    /// # Examples
    /// ```
    /// use beamline::graph::PipelineGraph;
    /// let err = PipelineGraph::from_json("{ not json").unwrap_err();
    /// assert!(err.to_string().starts_with("graph: node '<graph>'"));
    /// ```
    pub fn from_json(text: &str) -> Result<Self> {
        let graph: PipelineGraph =
            serde_json::from_str(text).map_err(|e| Error::graph("<graph>", format!("malformed JSON: {e}")))?;
        graph.validate()?;
        Ok(graph)
    }

    /// The PCollection with the given id.
    pub fn pcollection(&self, id: &str) -> Option<&PCollectionNode> {
        self.pcollections.iter().find(|p| p.id == id)
    }

    /// Structural checks: version, unique labels and ids, references, URNs.
    pub fn validate(&self) -> Result<()> {
        if self.version != GRAPH_VERSION {
            return Err(Error::graph("<graph>", format!("version is '{}', expected '{GRAPH_VERSION}'", self.version)));
        }
        let mut ids = std::collections::HashSet::new();
        for p in &self.pcollections {
            if !ids.insert(p.id.as_str()) {
                return Err(Error::graph(&p.producer, format!("PCollection id '{}' appears twice", p.id)));
            }
            p.windowing.window_fn.validate().map_err(|m| Error::graph(&p.producer, m))?;
        }
        let mut labels = std::collections::HashSet::new();
        let known = [urns::COMPOSITE, urns::COMBINE_PER_KEY];
        for t in &self.transforms {
            if !labels.insert(t.label.as_str()) {
                return Err(Error::graph(&t.label, "label appears twice"));
            }
            if !t.is_primitive() && !known.contains(&t.urn.as_str()) {
                return Err(Error::graph(&t.label, format!("unknown URN '{}'", t.urn)));
            }
            for id in t.inputs.iter().chain(&t.side_inputs).chain(&t.outputs) {
                if !ids.contains(id.as_str()) {
                    return Err(Error::graph(&t.label, format!("refers to unknown PCollection '{id}'")));
                }
            }
        }
        for t in &self.transforms {
            for s in &t.subtransforms {
                if !labels.contains(s.as_str()) {
                    return Err(Error::graph(&t.label, format!("names unknown sub-transform '{s}'")));
                }
            }
        }
        Ok(())
    }
}
