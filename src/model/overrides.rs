//! `--set PATH=VALUE` overrides applied to a parsed JSON document before it is checked.
//!
//! PATH is dotted (`stations.server.servers`); a numeric segment indexes an array
//! (`sources.web.profile.0.rate`). VALUE is read as JSON (`12`, `true`, `{"dist":…}`) and, if
//! that fails, taken as a string (`250ms`). Missing object keys along the path are created.

use serde_json::Value;

/// One parsed `PATH=VALUE`.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// Dotted path into the document.
    pub path: String,
    /// The value to put there.
    pub value: Value,
    /// The command-line flag it came from, as the user typed it (`--set a.b=1`, `--duration 2h`);
    /// problems with the value are reported on the flag. `None` for overrides made by files.
    pub flag: Option<String>,
}

impl Override {
    /// Parses `PATH=VALUE`.
    pub fn parse(arg: &str) -> Result<Override, String> {
        let (path, raw) = arg.split_once('=').ok_or_else(|| format!("`{arg}` is not of the form PATH=VALUE"))?;
        let path = path.trim();
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(format!("`{path}` is not a dotted path such as stations.server.servers"));
        }
        let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
        Ok(Override { path: path.to_string(), value, flag: Some(format!("--set {arg}")) })
    }

    /// An override made by a file or by capsim itself (problems are reported at `path`).
    pub fn new(path: impl Into<String>, value: impl Into<Value>) -> Override {
        Override { path: path.into(), value: value.into(), flag: None }
    }

    /// An override from the flag `flag` (e.g. `--duration`) given `value` on the command line.
    pub fn from_flag(path: &str, flag: &str, value: impl Into<Value>) -> Override {
        let value = value.into();
        let shown = match &value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        Override { path: path.into(), value, flag: Some(format!("{flag} {shown}")) }
    }

    /// Whether a problem at `issue_path` concerns this override's value: the value itself, a
    /// field inside it, or the object it changed a field of (a distribution whose `value` was
    /// set, judged whole).
    pub fn covers(&self, issue_path: &str) -> bool {
        issue_path == self.path
            || issue_path.starts_with(&format!("{}.", self.path))
            || (!issue_path.is_empty() && self.path.starts_with(&format!("{issue_path}.")))
    }

    /// Writes this override into `doc`.
    pub fn apply(&self, doc: &mut Value) -> Result<(), String> {
        let mut node = doc;
        let segs: Vec<&str> = self.path.split('.').collect();
        for (k, seg) in segs.iter().enumerate() {
            let here = segs[..k].join(".");
            node = match node {
                Value::Object(map)
                    if k == 1 && NAMED.contains(&segs[0]) && k + 1 < segs.len() && !map.contains_key(*seg) =>
                {
                    // A misspelt name would otherwise quietly create a new block that nothing uses.
                    let names: Vec<&str> = map.keys().map(String::as_str).collect();
                    let known = if names.is_empty() { "(none)".to_string() } else { names.join(", ") };
                    return Err(format!(
                        "`{here}` has no entry `{seg}` (it has: {known}); to add one, set it whole, e.g. --set '{here}.{seg}={{...}}'"
                    ));
                }
                Value::Object(map) => map.entry(seg.to_string()).or_insert(Value::Null),
                Value::Array(items) => {
                    let len = items.len();
                    let i: usize =
                        seg.parse().map_err(|_| format!("`{here}` is an array: `{seg}` must be an index"))?;
                    items.get_mut(i).ok_or_else(|| format!("`{here}` has {len} elements: index {i} is out of range"))?
                }
                Value::Null if k == 1 && NAMED.contains(&segs[0]) && k + 1 < segs.len() => {
                    return Err(format!(
                        "the model has no `{here}`, so no entry `{seg}`; to add one, set it whole, e.g. --set '{here}.{seg}={{...}}'"
                    ));
                }
                Value::Null => {
                    *node = Value::Object(Default::default());
                    node.as_object_mut().expect("just made an object").entry(seg.to_string()).or_insert(Value::Null)
                }
                other => {
                    return Err(format!(
                        "`{here}` is {}, not an object or array, so `{seg}` cannot be set in it",
                        kind(other)
                    ));
                }
            };
        }
        *node = self.value.clone();
        Ok(())
    }
}

/// Top-level maps of named entries: an override may change a field of an entry that exists, or
/// set a whole new entry, but not create one by setting one of its fields.
const NAMED: [&str; 12] = [
    "sources", "sessions", "stations", "delays", "routers", "forks", "joins", "services", "policies", "limits",
    "intents", "keys",
];

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_misspelt_name_is_not_created_by_setting_one_of_its_fields() {
        let mut doc = json!({"services": {"back": {"servers": 1}}});
        let typo = Override::parse("services.bakc.servers=100").unwrap();
        let e = typo.apply(&mut doc).unwrap_err();
        assert!(e.contains("no entry `bakc`") && e.contains("back"), "{e}");
        let none = Override::parse("stations.s.servers=2").unwrap();
        assert!(none.apply(&mut doc).unwrap_err().contains("the model has no `stations`"));
        let whole = Override::parse(r#"services.cache={"servers": 4}"#).unwrap();
        whole.apply(&mut doc).unwrap();
        assert_eq!(doc["services"]["cache"]["servers"], 4);
        Override::parse("services.back.servers=3").unwrap().apply(&mut doc).unwrap();
        assert_eq!(doc["services"]["back"]["servers"], 3);
    }

    #[test]
    fn sets_nested_values_and_indexes() {
        let mut doc = json!({"stations": {"server": {"servers": 10}}, "a": [{"b": 1}]});
        Override::parse("stations.server.servers=12").unwrap().apply(&mut doc).unwrap();
        Override::parse("a.0.b=\"x\"").unwrap().apply(&mut doc).unwrap();
        Override::parse("run.duration=2h").unwrap().apply(&mut doc).unwrap();
        assert_eq!(doc["stations"]["server"]["servers"], json!(12));
        assert_eq!(doc["a"][0]["b"], json!("x"));
        assert_eq!(doc["run"]["duration"], json!("2h"));
        let err = Override::parse("a.3.b=1").unwrap().apply(&mut doc).unwrap_err();
        assert!(err.contains("out of range"), "{err}");
        let err = Override::parse("stations.server.servers.x=1").unwrap().apply(&mut doc).unwrap_err();
        assert!(err.contains("is a number"), "{err}");
        assert!(Override::parse("novalue").is_err());
        assert!(Override::parse("a..b=1").is_err());
    }
}
