//! Values that may be written in more than one form (a word or an object, one step or a list of
//! steps), read with messages in the user's words: serde's untagged enums say only "did not
//! match any variant" and accept unknown fields inside the object form.

use serde::de::{DeserializeOwned, Error};
use serde_json::Value;

use super::json::{dotted, humanize};

/// Reads `T` from `v`; a problem is reported with its path inside `v`, in the user's words,
/// prefixed so that the outer reader leaves the message as it is.
pub fn read<T: DeserializeOwned, E: Error>(v: Value, what: &str) -> Result<T, E> {
    serde_path_to_error::deserialize::<_, T>(v).map_err(|e| {
        let inner = dotted(e.path());
        let message = humanize(&e.inner().to_string());
        if inner.is_empty() {
            E::custom(format!("in this {what}: {message}"))
        } else {
            E::custom(format!("at `{inner}` in this {what}: {message}"))
        }
    })
}

/// Reads an object that must have exactly one of `keys`, returning the key and its value.
/// `example` shows a valid object in the error messages.
pub fn one_key<E: Error>(v: Value, keys: &[&str], what: &str, example: &str) -> Result<(String, Value), E> {
    let Value::Object(map) = v else {
        return Err(E::custom(format!("expected {what} such as {example}, got {}", kind_of(&v))));
    };
    if let Some(bad) = map.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(E::custom(format!(
            "{what} has no field `{bad}`; it takes {} (e.g. {example})",
            keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" or ")
        )));
    }
    let mut entries = map.into_iter();
    match (entries.next(), entries.next()) {
        (Some(kv), None) => Ok(kv),
        (None, _) => Err(E::custom(format!("{what} needs one of {} (e.g. {example})", keys.join(", ")))),
        (Some(_), Some(_)) => Err(E::custom(format!(
            "give either {} in {what}, not both (e.g. {example})",
            keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" or ")
        ))),
    }
}

/// The JSON kind of a value, as the user would say it.
pub fn kind_of(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the text \"{s}\""),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}
