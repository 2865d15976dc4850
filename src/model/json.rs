//! Reading JSON documents the way a user means them: a UTF-8 byte-order mark is skipped,
//! duplicate keys are reported (JSON readers silently keep only the last), every type error is
//! collected rather than just the first, and serde's messages are put in the user's words.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::error::Issue;

/// Most type errors reported for one file (beyond that the first ones are enough to act on).
const MAX_TYPE_ERRORS: usize = 50;

/// The text without a leading UTF-8 byte-order mark (some Windows editors write one).
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Dotted paths of keys that appear more than once in the same object, in document order.
/// `text` must be valid JSON (checked before); on any parse error the list is empty.
pub fn duplicate_keys(text: &str) -> Vec<String> {
    let mut dups = Vec::new();
    let mut de = serde_json::Deserializer::from_str(text);
    let _ = Walk { path: String::new(), dups: &mut dups }.deserialize(&mut de);
    dups
}

/// Walks a document, noting duplicate keys.
struct Walk<'a> {
    path: String,
    dups: &'a mut Vec<String>,
}

impl Walk<'_> {
    fn child(path: &str, seg: &str) -> String {
        if path.is_empty() { seg.to_string() } else { format!("{path}.{seg}") }
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = Walk::child(&self.path, &key);
            if !seen.insert(key) {
                self.dups.push(path.clone());
            }
            map.next_value_seed(Walk { path, dups: &mut *self.dups })?;
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        while seq
            .next_element_seed(Walk { path: Walk::child(&self.path, &i.to_string()), dups: &mut *self.dups })?
            .is_some()
        {
            i += 1;
        }
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Deserializes `doc` into `T`, collecting every type error: after each error the offending
/// value is replaced by a placeholder of the expected type, or removed, and reading resumes.
pub fn deserialize_all<T: serde::de::DeserializeOwned>(doc: &Value) -> Result<T, Vec<Issue>> {
    let mut work = doc.clone();
    let mut issues: Vec<Issue> = Vec::new();
    // Paths removed so far: a later "missing field" there is our doing, not the user's.
    let mut removed: Vec<String> = Vec::new();
    loop {
        let err = match serde_path_to_error::deserialize::<_, T>(&work) {
            Ok(t) if issues.is_empty() => return Ok(t),
            Ok(_) => return Err(issues),
            Err(e) => e,
        };
        let path = dotted(err.path());
        let raw = err.inner().to_string();
        let missing = missing_field(&raw).map(|k| join(&path, k));
        // A problem at a field we removed, or at an object holding one (an enum that lost its
        // only key, a struct that lost a required field), is our doing, not the user's.
        let holds_removed =
            removed.iter().any(|r| r.strip_prefix(path.as_str()).is_some_and(|rest| rest.starts_with('.')));
        let ours = missing.as_ref().is_some_and(|m| removed.contains(m)) || holds_removed;
        if !ours {
            if issues.iter().any(|i| i.path == path && i.message == humanize(&raw)) {
                return Err(issues);
            }
            issues.push(Issue::new(path.clone(), humanize(&raw)));
        }
        if issues.len() >= MAX_TYPE_ERRORS || !neutralize(&mut work, &path, &raw, ours, &mut removed) {
            return Err(issues);
        }
    }
}

/// Makes the error at `path` go away so reading can resume; false when nothing can be done.
fn neutralize(doc: &mut Value, path: &str, raw: &str, ours: bool, removed: &mut Vec<String>) -> bool {
    if let Some(key) = unknown_field(raw) {
        let at = if path.rsplit('.').next() == Some(key) { path.to_string() } else { join(path, key) };
        return remove(doc, &at, removed);
    }
    if !ours && let Some(v) = placeholder(raw) {
        let segs: Vec<&str> = path.split('.').filter(|s| !s.is_empty()).collect();
        if let Some(slot) = node(doc, &segs)
            && *slot != v
        {
            *slot = v;
            return true;
        }
    }
    remove(doc, path, removed)
}

/// Removes the value at `path` (or, inside an array, the array itself, so later indices keep
/// their meaning) from the object holding it.
fn remove(doc: &mut Value, path: &str, removed: &mut Vec<String>) -> bool {
    let mut segs: Vec<&str> = path.split('.').filter(|s| !s.is_empty()).collect();
    while let Some(last) = segs.pop() {
        let Some(parent) = node(doc, &segs) else { continue };
        if let Value::Object(map) = parent
            && map.remove(last).is_some()
        {
            removed.push(join(&segs.join("."), last));
            return true;
        }
    }
    false
}

/// The value at `segs`, if every segment exists.
fn node<'a>(doc: &'a mut Value, segs: &[&str]) -> Option<&'a mut Value> {
    segs.iter().try_fold(doc, |v, s| match v {
        Value::Object(m) => m.get_mut(*s),
        Value::Array(a) => a.get_mut(s.parse::<usize>().ok()?),
        _ => None,
    })
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

/// The key named in serde's "unknown field `x`, …".
fn unknown_field(raw: &str) -> Option<&str> {
    raw.strip_prefix("unknown field `")?.split('`').next()
}

/// The key named in serde's "missing field `x`".
fn missing_field(raw: &str) -> Option<&str> {
    raw.strip_prefix("missing field `")?.split('`').next()
}

/// A value of the type serde expected, when the message names one.
fn placeholder(raw: &str) -> Option<Value> {
    let expected = raw.rsplit("expected ").next()?;
    let v = match expected.trim() {
        "u8" | "u16" | "u32" | "u64" | "usize" | "i32" | "i64" => Value::from(1),
        "f64" | "f32" => Value::from(1.0),
        "a string" => Value::from("x"),
        "a boolean" => Value::from(false),
        "a sequence" => Value::Array(Vec::new()),
        s if s.starts_with("a number, or a duration string") => Value::from(1.0),
        _ => return None,
    };
    Some(v)
}

/// The path as dotted segments, array indices as numbers (the `--set` syntax).
pub fn dotted(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let segs: Vec<String> = path
        .iter()
        .filter_map(|s| match s {
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Map { key } => Some(key.clone()),
            Segment::Enum { variant } => Some(variant.clone()),
            Segment::Unknown => None,
        })
        .collect();
    segs.join(".")
}

/// serde's message in the user's words: JSON kinds instead of Rust types.
pub fn humanize(raw: &str) -> String {
    if let Some(rest) = raw.strip_prefix("invalid type: ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, "another kind of value"));
        return format!("expected {}, got {}", expected_words(expected), got_words(got));
    }
    if let Some(rest) = raw.strip_prefix("invalid value: ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, "another value"));
        return format!("expected {}, got {}", expected_words(expected), got_words(got));
    }
    if let Some(rest) = raw.strip_prefix("invalid length ") {
        return format!("wrong number of elements: {rest}");
    }
    if let Some(field) = unknown_field(raw) {
        let known: Vec<&str> = raw.split('`').skip(3).step_by(2).collect();
        let hint = closest(field, &known).map_or(String::new(), |k| format!(" — did you mean `{k}`?"));
        let list = if known.is_empty() { String::from("none") } else { known.join(", ") };
        return format!("unknown field `{field}`{hint} (fields allowed here: {list})");
    }
    if let Some(variant) = raw.strip_prefix("unknown variant `").and_then(|r| r.split('`').next()) {
        let known: Vec<&str> = raw.split('`').skip(3).step_by(2).collect();
        let hint = closest(variant, &known).map_or(String::new(), |k| format!(" — did you mean `{k}`?"));
        return format!("unknown choice `{variant}`{hint}; expected one of: {}", known.join(", "));
    }
    raw.to_string()
}

/// The known name nearest to `word`, if it is close enough to be a likely typo.
fn closest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(word, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min()
        .map(|(_, k)| k)
}

/// What serde expected, as the user would say it.
fn expected_words(e: &str) -> String {
    let e = e.trim();
    let s = match e {
        "u8" | "u16" | "u32" | "usize" => "a whole number ≥ 0 (at most 4,294,967,295)",
        "u64" => "a whole number ≥ 0",
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        "a boolean" => "true or false",
        "a sequence" => "a list [ … ]",
        "a map" => "an object { … }",
        _ if e.starts_with("struct ") => "an object { … }",
        _ if e.starts_with("internally tagged enum ") => {
            return tagged(e.trim_start_matches("internally tagged enum "));
        }
        _ if e.starts_with("enum ") => "one of the names listed in the docs",
        _ => return e.to_string(),
    };
    s.to_string()
}

/// An internally tagged enum of capsim's files, described by its tag.
fn tagged(name: &str) -> String {
    match name {
        "DistSpec" => "a distribution object such as {\"dist\": \"exponential\", \"mean\": \"1s\"}".into(),
        "SegmentSpec" => {
            "a profile segment such as {\"shape\": \"constant\", \"rate\": 5, \"duration\": \"10m\"}".into()
        }
        "RouterSpec" => "a router object with `by`: \"probability\" or \"class\"".into(),
        other => format!("an object describing a {other}"),
    }
}

/// What serde found, as the user would say it.
fn got_words(g: &str) -> String {
    let g = g.trim();
    let strip = |p: &str| g.strip_prefix(p).map(|r| r.trim_matches('`').to_string());
    if let Some(s) = g.strip_prefix("string ") {
        return format!("the text {s}");
    }
    if let Some(n) = strip("integer ").or_else(|| strip("floating point ")) {
        return n;
    }
    if let Some(b) = strip("boolean ") {
        return b;
    }
    match g {
        "map" => "an object".into(),
        "sequence" => "a list".into(),
        "null" => "null".into(),
        "unit" => "null".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_duplicates_at_every_depth() {
        let t = r#"{"a": 1, "b": {"x": 1, "x": 2}, "a": 3, "c": [{"k": 1, "k": 1}]}"#;
        assert_eq!(duplicate_keys(t), vec!["b.x", "a", "c.0.k"]);
        assert!(duplicate_keys(r#"{"a": {"a": {"a": 1}}}"#).is_empty());
    }

    #[test]
    fn messages_speak_json() {
        assert_eq!(
            humanize("invalid type: string \"ten\", expected u32"),
            "expected a whole number ≥ 0 (at most 4,294,967,295), got the text \"ten\""
        );
        assert_eq!(humanize("invalid value: integer `-1`, expected u64"), "expected a whole number ≥ 0, got -1");
        assert!(humanize("invalid type: map, expected internally tagged enum DistSpec").contains("\"dist\""));
        let m = humanize("unknown field `sevrice`, expected one of `servers`, `service`, `to`");
        assert!(m.contains("did you mean `service`?"), "{m}");
        assert!(humanize("invalid type: floating point `2.5`, expected u32").ends_with("got 2.5"));
    }
}
