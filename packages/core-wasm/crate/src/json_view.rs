//! The workflow state as templates see it: a view into the JSON state that converts only what a
//! template touches. Converting the whole state for every template (what `from_serialize` does)
//! cost most of the engine's time per node, and grows with the state.

use minijinja::value::{Enumerator, Object, ObjectRepr, Value as JValue};
use minijinja::{Error as JError, ErrorKind, State};
use serde_json::Value;
use std::sync::Arc;

#[derive(Debug, Clone)]
enum Step {
    Key(Arc<str>),
    Index(usize),
}

/// A map or list inside a shared JSON value, addressed by its path from the root.
#[derive(Debug)]
pub struct JsonView {
    root: Arc<Value>,
    path: Vec<Step>,
    /// Upstream's `DotDict`: a map reached from the root through keys answers a missing key with
    /// None (a map inside a list is a plain dict, where a missing key is undefined).
    dot: bool,
}

impl JsonView {
    /// The template value of `root` (a view when it is a map or a list).
    pub fn value(root: Arc<Value>) -> JValue {
        match &*root {
            Value::Object(_) | Value::Array(_) => JValue::from_object(JsonView { root, path: Vec::new(), dot: true }),
            scalar => scalar_value(scalar),
        }
    }

    /// Whether this is an entry of the state's `parallel_results`.
    fn is_branch_result(&self) -> bool {
        matches!(self.path.as_slice(), [Step::Key(k), Step::Index(_)] if &**k == "parallel_results")
    }

    fn node(&self) -> &Value {
        let mut v = &*self.root;
        for step in &self.path {
            v = match (step, v) {
                (Step::Key(k), Value::Object(m)) => &m[&**k],
                (Step::Index(i), Value::Array(a)) => &a[*i],
                _ => unreachable!("a view's path always exists: the root it shares is never changed"),
            };
        }
        v
    }

    fn child(&self, v: &Value, step: Step) -> JValue {
        match v {
            Value::Object(_) | Value::Array(_) => {
                let mut path = Vec::with_capacity(self.path.len() + 1);
                path.extend(self.path.iter().cloned());
                let dot = self.dot && matches!(step, Step::Key(_));
                path.push(step);
                JValue::from_object(JsonView { root: self.root.clone(), path, dot })
            }
            scalar => scalar_value(scalar),
        }
    }
}

fn scalar_value(v: &Value) -> JValue {
    match v {
        Value::Null => JValue::from(()),
        Value::Bool(b) => JValue::from(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => JValue::from(i),
            (_, Some(u)) => JValue::from(u),
            _ => JValue::from(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => JValue::from(s.as_str()),
        Value::Array(_) | Value::Object(_) => JValue::from_serialize(v),
    }
}

/// Whether `key` is a key of the branch state of `v`, an entry of `parallel_results` (`'k' in
/// result`, as upstream's ParallelFlowResult answers it).
pub fn branch_state_has(v: &JValue, key: &JValue) -> bool {
    let Some(view) = v.downcast_object_ref::<JsonView>() else { return false };
    if !view.is_branch_result() {
        return false;
    }
    matches!((view.node().get("state"), key.as_str()), (Some(Value::Object(st)), Some(k)) if st.contains_key(k))
}

/// The dict methods upstream's `DotDict` keeps reachable as attributes.
const DICT_METHODS: [&str; 9] = ["get", "pop", "update", "copy", "clear", "setdefault", "keys", "values", "items"];

/// `state.keys` without a call: calling it is `state.keys()`; it is true, and prints as Python's.
#[derive(Debug)]
struct BoundMethod(JValue, String);

impl Object for BoundMethod {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn call(self: &Arc<Self>, state: &State<'_, '_>, args: &[JValue]) -> Result<JValue, JError> {
        crate::py_methods::call_method(state, &self.0, &self.1, args)
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<built-in method {} of dict object>", self.1)
    }
}

impl Object for JsonView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        match self.node() {
            Value::Array(_) => ObjectRepr::Seq,
            _ => ObjectRepr::Map,
        }
    }

    fn get_value(self: &Arc<Self>, key: &JValue) -> Option<JValue> {
        match self.node() {
            Value::Object(m) => {
                let k = key.as_str()?;
                match m.get_key_value(k) {
                    Some((k, v)) => Some(self.child(v, Step::Key(k.as_str().into()))),
                    // A dict method named without a call (`{% if state.items %}`) is the method,
                    // as in Python.
                    None if DICT_METHODS.contains(&k) => {
                        Some(JValue::from_object(BoundMethod(JValue::from_dyn_object(self.clone()), k.to_string())))
                    }
                    // An entry of `parallel_results` answers its branch's state keys too, as
                    // upstream's ParallelFlowResult (`result['analysis_a']`).
                    None if self.is_branch_result() => match m.get("state") {
                        Some(Value::Object(st)) => st.get_key_value(k).map(|(k, v)| {
                            let mut path = self.path.clone();
                            path.push(Step::Key("state".into()));
                            JsonView { root: self.root.clone(), path, dot: false }.child(v, Step::Key(k.as_str().into()))
                        }),
                        _ => None,
                    },
                    // As upstream's DotDict: `state.missing` and `state.known.missing` are None;
                    // a missing key of a dict inside a list is undefined.
                    None if self.dot => Some(JValue::from(())),
                    None => None,
                }
            }
            Value::Array(a) => {
                let i = key.as_usize()?;
                Some(self.child(a.get(i)?, Step::Index(i)))
            }
            _ => None,
        }
    }

    /// A key holding a value is that value (calling it fails, as in Python); otherwise the
    /// Python dict or list method (`state.get('k')`, `state.items()`), by the environment's
    /// unknown-method callback.
    fn call_method(self: &Arc<Self>, state: &State<'_, '_>, method: &str, args: &[JValue]) -> Result<JValue, JError> {
        if let Value::Object(m) = self.node() {
            if let Some((k, v)) = m.get_key_value(method) {
                return self.child(v, Step::Key(k.as_str().into())).call(state, args);
            }
        }
        Err(JError::from(ErrorKind::UnknownMethod))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match self.node() {
            Value::Object(m) => Enumerator::Values(m.keys().map(|k| JValue::from(k.as_str())).collect()),
            Value::Array(a) => Enumerator::Seq(a.len()),
            _ => Enumerator::Empty,
        }
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(match self.node() {
            Value::Object(m) => m.len(),
            Value::Array(a) => a.len(),
            _ => 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_view_serializes_like_the_json_it_shows() {
        let state = json!({ "a": [1, { "b": "x" }, null], "n": 2.5, "big": u64::MAX, "t": true });
        let view = JsonView::value(Arc::new(state.clone()));
        assert_eq!(serde_json::to_value(&view).unwrap(), state);
        assert_eq!(view.get_attr("a").unwrap().get_item(&JValue::from(1)).unwrap().get_attr("b").unwrap(), JValue::from("x"));
    }
}
