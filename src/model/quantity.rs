//! Quantities in model files: durations written with units (`"250ms"`, `"5m"`, `"2h"`) or as
//! plain numbers (seconds for durations, the number itself for counts and rates).

use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A number read from a model file; for durations it is in seconds [s].
///
/// Accepts a JSON number, or a string of a number and a unit: `ns`, `us` (or `µs`), `ms`, `s`,
/// `m` or `min`, `h`, `d`. A string without a unit is read as seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Quantity(pub f64);

impl Quantity {
    /// The value in seconds (or in its own unit for counts).
    pub fn secs(self) -> f64 {
        self.0
    }
}

/// Parses `"250ms"`, `"1.5h"`, `"30"` into seconds.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let scale = match unit.trim() {
        "" | "s" | "sec" => 1.0,
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        other => {
            return Err(format!("unknown duration unit `{other}` in \"{text}\" (use ns, us, ms, s, m, h or d)"));
        }
    };
    let value: f64 =
        num.parse().map_err(|_| format!("\"{text}\" is not a duration such as \"250ms\", \"5m\" or \"2h\""))?;
    if !value.is_finite() {
        return Err(format!("\"{text}\" is not a finite duration"));
    }
    Ok(value * scale)
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, or a duration string such as \"250ms\", \"5m\" or \"2h\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
                Ok(Quantity(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
                Ok(Quantity(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
                Ok(Quantity(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
                parse_duration(v).map(Quantity).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}

impl JsonSchema for Quantity {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Quantity".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A number (seconds, for durations) or a duration string with a unit: ns, us, ms, s, m, h, d.",
            "oneOf": [
                {"type": "number"},
                {"type": "string", "pattern": "^\\s*[-+]?[0-9.]+([eE][-+]?[0-9]+)?\\s*(ns|us|µs|ms|s|sec|m|min|h|d)?\\s*$"}
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_duration("250ms").unwrap(), 0.25);
        assert_eq!(parse_duration("5m").unwrap(), 300.0);
        assert_eq!(parse_duration("2h").unwrap(), 7200.0);
        assert_eq!(parse_duration(" 1.5 s ").unwrap(), 1.5);
        assert_eq!(parse_duration("30").unwrap(), 30.0);
        assert_eq!(parse_duration("1d").unwrap(), 86400.0);
        assert!((parse_duration("3us").unwrap() - 3e-6).abs() < 1e-18);
        assert!(parse_duration("5 parsecs").unwrap_err().contains("unknown duration unit"));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn deserializes_numbers_and_strings() {
        let q: Vec<Quantity> = serde_json::from_str(r#"[1, 2.5, "100ms"]"#).unwrap();
        assert_eq!(q, vec![Quantity(1.0), Quantity(2.5), Quantity(0.1)]);
        let err = serde_json::from_str::<Quantity>(r#""10 yr""#).unwrap_err();
        assert!(err.to_string().contains("unknown duration unit"));
        assert!(serde_json::from_str::<Quantity>("true").is_err());
    }
}
