//! Side inputs: a PCollection read whole by a ParDo, as a singleton, a list,
//! a map or a multimap, matched to the main input's window.

use crate::batch::Batch;
use crate::element::{Element, Key, WindowedValue};
use crate::error::{shorten, DoFnError, Error, Result};
use crate::exec::SideInputView;
use crate::pipeline::PCollection;
use crate::window::{Window, WindowFn};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

/// How a side input's elements become the value a DoFn reads.
pub trait ViewKind: Send + Sync + 'static {
    /// Element type of the side PCollection.
    type Elem: Element;
    /// What the DoFn reads.
    type Value: Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static;
    /// Builds the value of one window.
    fn build(values: Vec<Self::Elem>) -> std::result::Result<Self::Value, String>;
}

/// Exactly one element per window.
pub struct Singleton<T>(PhantomData<fn() -> T>);
/// Every element, as a list (also Beam's iterable view).
pub struct ListView<T>(PhantomData<fn() -> T>);
/// Key-value pairs as a map; a duplicate key is an error.
pub struct MapView<K, V>(PhantomData<fn() -> (K, V)>);
/// Key-value pairs as a map of lists.
pub struct MultiMapView<K, V>(PhantomData<fn() -> (K, V)>);

impl<T: Element> ViewKind for Singleton<T> {
    type Elem = T;
    type Value = T;
    fn build(mut values: Vec<T>) -> std::result::Result<T, String> {
        match values.len() {
            1 => Ok(values.pop().expect("one value")),
            n => Err(format!("a singleton side input holds {n} elements in this window, expected exactly 1")),
        }
    }
}

impl<T: Element> ViewKind for ListView<T> {
    type Elem = T;
    type Value = Vec<T>;
    fn build(values: Vec<T>) -> std::result::Result<Vec<T>, String> {
        Ok(values)
    }
}

impl<K: Key, V: Element> ViewKind for MapView<K, V> {
    type Elem = (K, V);
    type Value = HashMap<K, V>;
    fn build(values: Vec<(K, V)>) -> std::result::Result<HashMap<K, V>, String> {
        let mut m = HashMap::with_capacity(values.len());
        for (k, v) in values {
            let text = format!("{k:?}");
            if m.insert(k, v).is_some() {
                return Err(format!("a map side input has the key {} twice; use a multimap view", shorten(&text)));
            }
        }
        Ok(m)
    }
}

impl<K: Key, V: Element> ViewKind for MultiMapView<K, V> {
    type Elem = (K, V);
    type Value = HashMap<K, Vec<V>>;
    fn build(values: Vec<(K, V)>) -> std::result::Result<HashMap<K, Vec<V>>, String> {
        let mut m: HashMap<K, Vec<V>> = HashMap::new();
        for (k, v) in values {
            m.entry(k).or_default().push(v);
        }
        Ok(m)
    }
}

/// A handle on a side input, given to `ParDo::with_side_input` and read with
/// [`crate::ProcessContext::side_input`].
pub struct SideInput<V: ViewKind> {
    pub(crate) id: String,
    /// The id's fixed hash: what a DoFn's side input is found by, per element.
    pub(crate) key: u64,
    default: Option<Arc<V::Value>>,
    _v: PhantomData<fn() -> V>,
}

impl<V: ViewKind> Clone for SideInput<V> {
    fn clone(&self) -> Self {
        SideInput { id: self.id.clone(), key: self.key, default: self.default.clone(), _v: PhantomData }
    }
}

impl<V: ViewKind> std::fmt::Debug for SideInput<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SideInput({})", self.id)
    }
}

impl<V: ViewKind> serde::Serialize for SideInput<V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.id.serialize(s)
    }
}
impl<'de, V: ViewKind> serde::Deserialize<'de> for SideInput<V> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        Ok(SideInput { key: crate::key_hash(id.as_str()), id, default: None, _v: PhantomData })
    }
}

/// The prepared contents of a side input: one value per window.
struct SideData<T> {
    window_fn: WindowFn,
    by_window: HashMap<Window, T>,
    default: Option<Arc<T>>,
}

impl<V: ViewKind> SideInput<V> {
    pub(crate) fn new(id: &str, default: Option<V::Value>) -> Self {
        SideInput { id: id.to_string(), key: crate::key_hash(id), default: default.map(Arc::new), _v: PhantomData }
    }

    /// The value for a main-input element in `main_window`.
    pub(crate) fn read<'a>(
        &self,
        view: &'a SideInputView,
        main_window: &Window,
    ) -> std::result::Result<&'a V::Value, DoFnError> {
        let data = view
            .0
            .downcast_ref::<SideData<V::Value>>()
            .ok_or_else(|| DoFnError::new(format!("side input '{}' has another view type", self.id)))?;
        let w = data.window_fn.side_input_window(main_window);
        match data.by_window.get(&w) {
            Some(v) => Ok(v),
            None => data.default.as_deref().ok_or_else(|| {
                DoFnError::new(format!("singleton side input '{}' is empty in window {w} and has no default", self.id))
            }),
        }
    }

    /// Prepares the view from the side PCollection's complete contents.
    pub(crate) fn preparer(&self) -> Arc<dyn SidePreparer> {
        Arc::new(Preparer::<V> { id: self.id.clone(), default: self.default.clone() })
    }
}

/// Builds a side input's view from its contents (type-erased).
pub(crate) trait SidePreparer: Send + Sync {
    fn prepare(&self, label: &str, window_fn: WindowFn, contents: Vec<Batch>) -> Result<SideInputView>;
    /// The view's type, for the ParDo's function key.
    fn view_name(&self) -> &'static str;
    /// The value read in windows without elements, as a payload (`null` if none).
    fn default_payload(&self) -> std::result::Result<serde_json::Value, String>;
    /// The same preparer with the default read from a payload.
    fn with_default(&self, default: &serde_json::Value) -> std::result::Result<Arc<dyn SidePreparer>, String>;
}

struct Preparer<V: ViewKind> {
    id: String,
    default: Option<Arc<V::Value>>,
}

impl<V: ViewKind> SidePreparer for Preparer<V> {
    fn view_name(&self) -> &'static str {
        std::any::type_name::<V>()
    }

    fn default_payload(&self) -> std::result::Result<serde_json::Value, String> {
        match &self.default {
            Some(d) => crate::graph::to_payload(&**d),
            None => Ok(serde_json::Value::Null),
        }
    }

    fn with_default(&self, default: &serde_json::Value) -> std::result::Result<Arc<dyn SidePreparer>, String> {
        let default = match default {
            serde_json::Value::Null => None,
            v => Some(Arc::new(crate::graph::from_payload::<V::Value>(v)?)),
        };
        Ok(Arc::new(Preparer::<V> { id: self.id.clone(), default }))
    }

    fn prepare(&self, label: &str, window_fn: WindowFn, contents: Vec<Batch>) -> Result<SideInputView> {
        let mut per_window: HashMap<Window, Vec<V::Elem>> = HashMap::new();
        for b in contents {
            for WindowedValue { value, window, .. } in b.downcast::<V::Elem>()? {
                per_window.entry(window).or_default().push(value);
            }
        }
        let mut by_window = HashMap::with_capacity(per_window.len());
        for (w, values) in per_window {
            let v = V::build(values).map_err(|m| Error::UserCode {
                label: label.to_string(),
                runner: String::new(),
                element: format!("side input '{}' in window {w}", self.id),
                message: m,
            })?;
            by_window.insert(w, v);
        }
        let data: SideData<V::Value> = SideData { window_fn, by_window, default: self.default.clone() };
        Ok(SideInputView(Arc::new(data)))
    }
}

impl<T: Element> PCollection<T> {
    /// This collection as a singleton side input (exactly one element per window).
    pub fn as_singleton(&self) -> SideInput<Singleton<T>> {
        SideInput::new(self.id(), None)
    }
    /// As a singleton side input that reads `default` in windows with no element.
    pub fn as_singleton_or(&self, default: T) -> SideInput<Singleton<T>> {
        SideInput::new(self.id(), Some(default))
    }
    /// This collection as a list side input (Beam's `AsList` and `AsIter`).
    pub fn as_list(&self) -> SideInput<ListView<T>> {
        SideInput::new(self.id(), Some(Vec::new()))
    }
}

impl<K: Key, V: Element> PCollection<(K, V)> {
    /// This collection as a map side input.
    pub fn as_map(&self) -> SideInput<MapView<K, V>> {
        SideInput::new(self.id(), Some(HashMap::new()))
    }
    /// This collection as a multimap side input.
    pub fn as_multimap(&self) -> SideInput<MultiMapView<K, V>> {
        SideInput::new(self.id(), Some(HashMap::new()))
    }
}
