//! The default price table. Every figure comes from ../shared/reference/calibration.md (public
//! AWS price pages) or, where a seed gives its own figure, from the seed — but for the Bedrock
//! Guardrails text unit, an assumption read from AWS's public price page; the `source` field
//! says which. Models override or add prices under `prices`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A price as written in a model: give exactly one of `per_hour`, `per_million`, `per_unit`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PriceSpec {
    /// Dollars per hour of use [USD/h].
    pub per_hour: Option<f64>,
    /// Dollars per million units [USD/1e6].
    pub per_million: Option<f64>,
    /// Dollars per unit [USD].
    pub per_unit: Option<f64>,
    /// Where the figure comes from.
    #[serde(default)]
    pub source: String,
}

/// A checked price.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Price {
    /// [USD/h]
    PerHour(f64),
    /// [USD per 1e6 units]
    PerMillion(f64),
    /// [USD per unit]
    PerUnit(f64),
}

impl Price {
    /// Dollars for `quantity` (hours for `PerHour`, units otherwise).
    pub fn usd(self, quantity: f64) -> f64 {
        match self {
            Price::PerHour(p) | Price::PerUnit(p) => p * quantity,
            Price::PerMillion(p) => p * quantity / 1e6,
        }
    }

    /// Whether this price is per hour.
    pub fn is_hourly(self) -> bool {
        matches!(self, Price::PerHour(_))
    }
}

impl PriceSpec {
    /// Checks that exactly one non-negative figure is given.
    pub fn check(&self) -> Result<Price, String> {
        let ok = |v: f64| v.is_finite() && v >= 0.0;
        match (self.per_hour, self.per_million, self.per_unit) {
            (Some(v), None, None) if ok(v) => Ok(Price::PerHour(v)),
            (None, Some(v), None) if ok(v) => Ok(Price::PerMillion(v)),
            (None, None, Some(v)) if ok(v) => Ok(Price::PerUnit(v)),
            (None, None, None) | (Some(_), Some(_), _) | (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
                Err("give exactly one of `per_hour`, `per_million` or `per_unit`".into())
            }
            _ => Err("a price must be a finite number ≥ 0".into()),
        }
    }
}

fn p(per_hour: Option<f64>, per_million: Option<f64>, per_unit: Option<f64>, source: &str) -> PriceSpec {
    PriceSpec { per_hour, per_million, per_unit, source: source.to_string() }
}

const CAL: &str = "shared/reference/calibration.md";

/// The built-in price table (us-east-1 on-demand list prices).
pub fn default_prices() -> BTreeMap<String, PriceSpec> {
    let hour = |v: f64, s: &str| p(Some(v), None, None, s);
    let million = |v: f64, s: &str| p(None, Some(v), None, s);
    let unit = |v: f64, s: &str| p(None, None, Some(v), s);
    let sm = format!("{CAL}, SageMaker real-time endpoints");
    BTreeMap::from([
        ("ml.g4dn.xlarge".into(), hour(0.736, &format!("{sm}; seed 000 gives the same"))),
        ("ml.inf1.xlarge".into(), hour(0.24, "seed 000 (~$0.24/h); the calibration sheet lists ~$0.297/h")),
        ("ml.g5.xlarge".into(), hour(1.408, &sm)),
        ("cache.r6g.large".into(), hour(0.206, &format!("{CAL}, ElastiCache Redis"))),
        ("dax.t3.small".into(), hour(0.04, &format!("{CAL}, DynamoDB DAX node-hour"))),
        ("fargate.vcpu".into(), hour(0.04048, &format!("{CAL}, Fargate per vCPU-hour"))),
        ("fargate.gb".into(), hour(0.004445, &format!("{CAL}, Fargate per GB-hour"))),
        ("lambda.request".into(), million(0.20, &format!("{CAL}, Lambda requests"))),
        ("lambda.gb_second".into(), unit(0.000_016_666_7, &format!("{CAL}, Lambda duration per GB-second"))),
        (
            "apigw.ws.message".into(),
            million(1.00, &format!("{CAL}, API Gateway WebSocket messages (32 KB increments)")),
        ),
        (
            "apigw.ws.connection_minute".into(),
            million(0.25, &format!("{CAL}, API Gateway WebSocket connection-minutes")),
        ),
        ("dynamodb.wru".into(), million(0.625, &format!("{CAL}, DynamoDB on-demand write request units"))),
        ("dynamodb.rru".into(), million(0.125, &format!("{CAL}, DynamoDB on-demand read request units"))),
        ("dynamodb.wcu_hour".into(), hour(0.00065, &format!("{CAL}, DynamoDB provisioned WCU-hour"))),
        ("dynamodb.rcu_hour".into(), hour(0.00013, &format!("{CAL}, DynamoDB provisioned RCU-hour"))),
        ("bedrock.sonnet-3.5.input_token".into(), million(3.0, &format!("{CAL}, Bedrock Claude 3.5 Sonnet input"))),
        ("bedrock.sonnet-3.5.output_token".into(), million(15.0, &format!("{CAL}, Bedrock Claude 3.5 Sonnet output"))),
        ("bedrock.haiku-3.input_token".into(), million(0.25, &format!("{CAL}, Bedrock Claude 3 Haiku input"))),
        ("bedrock.haiku-3.output_token".into(), million(1.25, &format!("{CAL}, Bedrock Claude 3 Haiku output"))),
        (
            "bedrock.guardrail.text_unit".into(),
            unit(
                0.000_15,
                "assumption: AWS's public Amazon Bedrock price page, Guardrails content filters at $0.15 per 1,000 \
                 text units of up to 1,000 characters (not on the calibration sheet)",
            ),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_priced_as_documented() {
        for (name, spec) in default_prices() {
            spec.check().unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!spec.source.is_empty(), "{name} has no source");
        }
        // 2 instances of ml.g5.xlarge for 3 h, and 4 M WebSocket messages.
        let g5 = default_prices()["ml.g5.xlarge"].check().unwrap();
        assert!((g5.usd(6.0) - 8.448).abs() < 1e-12);
        let msg = default_prices()["apigw.ws.message"].check().unwrap();
        assert!((msg.usd(4e6) - 4.0).abs() < 1e-12);
        assert!(p(Some(1.0), Some(1.0), None, "").check().is_err());
        assert!(p(None, None, Some(-1.0), "").check().is_err());
    }
}
