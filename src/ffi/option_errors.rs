//! Options JSON into Rust types, with errors that name the key and the expected type but never
//! show the value given: options carry passwords and tokens, and hosts log error text.
//!
//! serde's messages quote the value (`invalid type: string "alice:hunter2", expected struct
//! CredentialOptions`) and do not say where it was. On failure the offending key is found by
//! trying the document cut down to one key at a time (the same message again means the fault is
//! under that key), and the message is rebuilt from the kind of JSON value found there.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::error::FfiError;

/// `value` as `T`; a shape error is `FfiError::Option` with the key's path and no value.
pub(crate) fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, FfiError> {
    match serde_json::from_value::<T>(value.clone()) {
        Ok(t) => Ok(t),
        Err(e) => {
            let raw = e.to_string();
            let path = locate::<T>(&value, &raw);
            Err(FfiError::Option(describe(&raw, &path, &value)))
        }
    }
}

/// Children of one container tried when looking for the one at fault (options documents have
/// a few keys; a long array of references stops here and the container is named instead).
const MAX_CHILDREN_TRIED: usize = 1024;

/// A step that no container has: cutting to it empties the container.
const NOTHING: Step = Step::Index(usize::MAX);

/// One step of a path into a JSON document.
enum Step {
    Key(String),
    Index(usize),
}

/// The path under which `value` fails to parse as `T` with the message `raw`, as deep as a
/// single key (or array element) still reproduces it.
fn locate<T: DeserializeOwned>(value: &Value, raw: &str) -> Vec<Step> {
    let mut path: Vec<Step> = Vec::new();
    // Bounded: each round goes one level deeper into a finite document.
    loop {
        let Some(here) = get(value, &path) else {
            return path;
        };
        let children: Vec<Step> = match here {
            Value::Object(m) => m.keys().map(|k| Step::Key(k.clone())).collect(),
            Value::Array(a) => (0..a.len()).map(Step::Index).collect(),
            _ => return path,
        };
        let fails_alike =
            |trial: Value| serde_json::from_value::<T>(trial).is_err_and(|e| e.to_string() == raw);
        // Emptied, it still fails alike: the fault is this value itself (an array where a
        // string belongs), not something inside it.
        let emptied = cut(value, &path, &NOTHING);
        if fails_alike(emptied.clone()) {
            return path;
        }
        let missing = raw.starts_with("missing field ");
        let mut found = None;
        // Each trial copies the document without this container plus one child, so a long
        // array costs linear time; past MAX_CHILDREN_TRIED the message names the container.
        for child in children.into_iter().take(MAX_CHILDREN_TRIED) {
            // A missing key belongs to the object, not to the keys it has.
            if missing && get(here, std::slice::from_ref(&child)).is_some_and(|v| !v.is_object()) {
                continue;
            }
            if fails_alike(with_child(&emptied, &path, here, &child)) {
                found = Some(child);
                break;
            }
        }
        match found {
            Some(step) => path.push(step),
            None => return path,
        }
    }
}

/// `emptied` (the document with the container at `path` emptied) with `child` of `here` (that
/// container as it was) put back.
fn with_child(emptied: &Value, path: &[Step], here: &Value, child: &Step) -> Value {
    let mut out = emptied.clone();
    let mut slot = &mut out;
    for step in path {
        let next = match step {
            Step::Key(k) => slot.get_mut(k),
            Step::Index(i) => slot.get_mut(*i),
        };
        match next {
            Some(v) => slot = v,
            None => return out,
        }
    }
    match (slot, here, child) {
        (Value::Object(m), Value::Object(src), Step::Key(k)) => {
            if let Some(v) = src.get(k) {
                m.insert(k.clone(), v.clone());
            }
        }
        (Value::Array(a), Value::Array(src), Step::Index(i)) => {
            a.extend(src.get(*i).cloned());
        }
        _ => {}
    }
    out
}

/// The value at `path`.
fn get<'v>(value: &'v Value, path: &[Step]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, step| match step {
        Step::Key(k) => v.get(k),
        Step::Index(i) => v.get(*i),
    })
}

/// `value` with the container at `path` cut down to `keep` alone (to nothing when `keep` is
/// not in it).
fn cut(value: &Value, path: &[Step], keep: &Step) -> Value {
    let mut out = value.clone();
    let mut here = &mut out;
    for step in path {
        let next = match step {
            Step::Key(k) => here.get_mut(k),
            Step::Index(i) => here.get_mut(*i),
        };
        match next {
            Some(v) => here = v,
            None => return out,
        }
    }
    // Only the child `keep` (if this container has it) is left.
    let kept = match (&*here, keep) {
        (Value::Object(m), Step::Key(k)) => Value::Object(
            m.get_key_value(k)
                .map(|(k, v)| (k.clone(), v.clone()))
                .into_iter()
                .collect(),
        ),
        (Value::Array(a), Step::Index(i)) => Value::Array(a.get(*i).cloned().into_iter().collect()),
        (Value::Object(_), _) => Value::Object(Map::new()),
        (Value::Array(_), _) => Value::Array(Vec::new()),
        _ => return out,
    };
    *here = kept;
    out
}

/// What kind of JSON value `v` is, without its content.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn path_text(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// The message for C: the path, then what was expected and the kind of value found. serde's
/// wording is kept only where it cannot hold a value (unknown or missing keys name keys).
fn describe(raw: &str, path: &[Step], value: &Value) -> String {
    let at = if path.is_empty() {
        "options".to_string()
    } else {
        path_text(path)
    };
    let found = get(value, path).map_or("nothing", kind);
    let quotes_a_value = ["invalid type: ", "invalid value: ", "unknown variant "]
        .iter()
        .any(|p| raw.starts_with(p));
    if quotes_a_value {
        // serde ends these with ", expected <what the type wants>" (a type's own words, never
        // the input); a value holding that phrase only moves the split earlier, cutting it.
        return match raw.rfind(", expected ") {
            Some(i) => format!("{at}: expected {}, found {found}", &raw[i + 11..]),
            None => format!("{at}: wrong type or value ({found})"),
        };
    }
    if raw.starts_with("unknown field ") || raw.starts_with("missing field ") {
        return format!("{at}: {raw}");
    }
    // Anything else (custom messages of dockreg's own types, lengths) is worded by dockreg or
    // serde without the input; still, show it only when it does not contain a string given.
    if strings(value)
        .iter()
        .any(|s| !s.is_empty() && raw.contains(s.as_str()))
    {
        return format!("{at}: not valid here ({found})");
    }
    format!("{at}: {raw}")
}

/// Every string in `value` (keys excluded).
fn strings(value: &Value) -> Vec<&String> {
    match value {
        Value::String(s) => vec![s],
        Value::Array(a) => a.iter().flat_map(strings).collect(),
        Value::Object(m) => m.values().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Cred {
        username: Option<String>,
        password: Option<String>,
    }

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Opts {
        #[serde(default)]
        credentials: BTreeMap<String, Cred>,
        #[serde(default)]
        list: Vec<String>,
        #[serde(default)]
        n: Option<u32>,
    }

    fn message(json: &str) -> String {
        let v: Value = serde_json::from_str(json).unwrap();
        match from_value::<Opts>(v) {
            Err(FfiError::Option(m)) => m,
            other => panic!("{other:?}"),
        }
    }

    /// A long array is searched in linear time: the bad element is named within the first
    /// MAX_CHILDREN_TRIED, and past them the array itself is.
    #[test]
    fn long_arrays_name_the_element_or_the_array() {
        let near: Vec<Value> = (0..1000)
            .map(|i| {
                if i == 700 {
                    Value::from(5)
                } else {
                    Value::from("r")
                }
            })
            .collect();
        let e = from_value::<Vec<String>>(Value::Array(near)).err().unwrap();
        assert!(
            matches!(&e, FfiError::Option(m) if m == "[700]: expected a string, found a number"),
            "{e:?}"
        );
        let far: Vec<Value> = (0..20_000)
            .map(|i| {
                if i == 19_999 {
                    Value::from(5)
                } else {
                    Value::from("r")
                }
            })
            .collect();
        let e = from_value::<Vec<String>>(Value::Array(far)).err().unwrap();
        assert!(
            matches!(&e, FfiError::Option(m) if m.starts_with("options: expected a string")),
            "{e:?}"
        );
    }

    #[test]
    fn the_path_and_type_are_named_and_the_value_never() {
        let m = message(r#"{"credentials": {"reg:5000": "alice:hunter2"}}"#);
        assert_eq!(
            m,
            "credentials.reg:5000: expected struct Cred, found a string"
        );
        let m = message(
            r#"{"n": 1, "credentials": {"a": {"username": "u", "password": ["hunter2"]}}}"#,
        );
        assert_eq!(
            m,
            "credentials.a.password: expected a string, found an array"
        );
        let m = message(r#"{"credentials": {"a": {"password": 5}}, "list": ["x", "hunter2", 7]}"#);
        assert!(!m.contains("hunter2"), "{m}");
        let m = message(r#"{"list": ["ok", {"hunter2": 1}]}"#);
        assert_eq!(m, "list[1]: expected a string, found an object");
        let m = message(r#"{"n": 5000000000}"#);
        assert_eq!(m, "n: expected u32, found a number");
        #[derive(Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Pair {
            a: String,
            b: String,
        }
        let v = serde_json::json!({"x": {"a": "hunter2"}});
        match from_value::<BTreeMap<String, Pair>>(v) {
            Err(FfiError::Option(m)) => assert_eq!(m, "x: missing field `b`"),
            other => panic!("{other:?}"),
        }
        // A value that mimics serde's wording cannot smuggle itself into the message.
        let m = message(r#"{"credentials": {"r": "hunter2, expected hunter2"}}"#);
        assert_eq!(m, "credentials.r: expected struct Cred, found a string");
        let m = message(r#"{"bogus": "hunter2"}"#);
        assert!(m.starts_with("bogus: unknown field `bogus`"), "{m}");
        assert!(!m.contains("hunter2"), "{m}");
    }
}
