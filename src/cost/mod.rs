//! Cost: a price table (defaults from public price lists, each overridable in the model's
//! `prices`) and per-block cost drivers (instance-hours, requests, messages, connection-minutes,
//! and the drivers later components add: tokens, read/write units, provisioned hours).

mod prices;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use prices::{Price, PriceSpec, default_prices};

/// What a cost line counts.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Driver {
    /// Instances running × hours (stations: ⌈servers / servers_per_unit⌉ instances) [h].
    InstanceHours,
    /// Requests served (stations: completions; delays: passages).
    Requests,
    /// Messages sent by a session population.
    Messages,
    /// Users connected × minutes (a population is connected for the whole run) [min].
    ConnectionMinutes,
}

impl Driver {
    /// Whether the quantity is a duration in hours (priced `per_hour`) rather than a count.
    pub fn is_hours(self) -> bool {
        matches!(self, Driver::InstanceHours)
    }
}

/// One cost line of a block, as written in a model.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CostLineSpec {
    /// What is counted.
    pub driver: Driver,
    /// Name of the price in the price table (`prices` or a default, e.g. `ml.g5.xlarge`).
    pub price: String,
    /// For `instance_hours`: servers one instance provides (default 1).
    pub servers_per_unit: Option<u32>,
    /// For `instance_hours`: a fixed number of instances, whatever the block's `servers` (a
    /// cache cluster's nodes in front of a kind whose `servers` is only a cap).
    pub instances: Option<u32>,
}

/// A checked cost line.
#[derive(Clone, Debug, PartialEq)]
pub struct CostLine {
    pub driver: Driver,
    pub price_name: String,
    pub price: Price,
    /// Servers per instance (instance-hours only).
    pub servers_per_unit: u32,
    /// A fixed instance count (instance-hours only), instead of servers ÷ `servers_per_unit`.
    pub instances: Option<u32>,
}

impl CostLine {
    /// Instances billed for a block of `servers` servers (instance-hours only).
    pub fn instances_for(&self, servers: u32) -> u32 {
        self.instances.unwrap_or_else(|| servers.div_ceil(self.servers_per_unit))
    }

    /// Dollars for `quantity` units of the driver.
    pub fn usd(&self, quantity: f64) -> f64 {
        self.price.usd(quantity)
    }
}

/// Hours in a month as AWS prices them (8,760 ÷ 12).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// `cost_usd` in summary.json.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct CostSummary {
    /// All cost over the measured period [USD].
    pub total: f64,
    /// Total per measured hour [USD/h].
    pub per_hour: f64,
    /// Total per month at this run's hourly rate: `per_hour` × 730, AWS's month [USD].
    pub per_month: f64,
    /// Each block's cost per month at this run's hourly rate [USD].
    pub per_month_by_component: BTreeMap<String, f64>,
    /// Total per 1,000 completed requests [USD].
    pub per_1k_requests: f64,
    /// Each block's cost per 1,000 completed requests [USD].
    pub per_1k_requests_by_component: BTreeMap<String, f64>,
    /// Total per user-minute of the session populations (absent without sessions) [USD].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_active_user_minute: Option<f64>,
    /// Each block's cost per user-minute of the session populations (absent without sessions)
    /// [USD]: what one active user costs a minute in that component (an LLM's tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_active_user_minute_by_component: Option<BTreeMap<String, f64>>,
    /// Cost per block that has cost lines [USD].
    pub by_component: BTreeMap<String, f64>,
}

impl CostSummary {
    /// Totals from per-block costs over `measured_s` seconds with `completed` requests and
    /// `user_minutes` of session users (0 when there are no sessions).
    pub fn new(
        by_component: BTreeMap<String, f64>,
        measured_s: f64,
        completed: u64,
        user_minutes: Option<f64>,
    ) -> Self {
        // `+ 0.0` turns the empty sum's −0.0 into 0.0.
        let total: f64 = by_component.values().sum::<f64>() + 0.0;
        // Per nothing is no figure (null in summary.json), not zero.
        let per = |d: f64| if d > 0.0 { total / d } else { f64::NAN };
        let months = measured_s / 3600.0 / HOURS_PER_MONTH;
        CostSummary {
            total,
            per_hour: per(measured_s / 3600.0),
            per_month: per(months),
            per_month_by_component: by_component
                .iter()
                .map(|(k, v)| (k.clone(), if months > 0.0 { v / months } else { f64::NAN }))
                .collect(),
            per_1k_requests: per(completed as f64 / 1000.0),
            per_1k_requests_by_component: by_component
                .iter()
                .map(|(k, v)| (k.clone(), if completed > 0 { v / (completed as f64 / 1000.0) } else { f64::NAN }))
                .collect(),
            per_active_user_minute: user_minutes.map(per),
            per_active_user_minute_by_component: user_minutes.map(|m| {
                by_component.iter().map(|(k, v)| (k.clone(), if m > 0.0 { v / m } else { f64::NAN })).collect()
            }),
            by_component,
        }
    }
}
