//! Model files: raw spec (serde) → checked [`Model`], with `--set` overrides and error locations.

pub mod alarms;
pub mod clock;
pub mod dist;
pub mod either;
pub mod error;
pub mod json;
pub mod limits;
pub mod locate;
pub mod overrides;
pub mod policy_spec;
pub mod profile;
pub mod program;
pub mod quantity;
pub mod service_spec;
pub mod spec;
mod validate;
pub mod workload;
pub mod workload_spec;

use std::path::Path;

pub use dist::{Dist, DistSpec};
pub use error::{FileError, Issue};
pub use overrides::Override;
pub use profile::RateProfile;
pub use program::{Op, Pc, Program};
pub use spec::{Discipline, ModelSpec};
pub use validate::{KindBuilder, default_window};
pub use workload::{Draws, Workload};

use self::clock::Clock;
use crate::cost::CostLine;
use crate::engine::SimTime;

/// Where a request goes next, as the model file names it: a block (by index), a service (by
/// index among `services`; the request calls it, then ends), or the end of its journey.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target(pub u32);

impl Target {
    /// The end: the request is complete.
    pub const END: Target = Target(u32::MAX);
    /// Marks a service index.
    const SERVICE: u32 = 1 << 31;

    /// The `services` entry with index `i` (in name order).
    pub fn service(i: u32) -> Target {
        Target(Target::SERVICE | i)
    }

    /// The block index, unless this is the end or a service.
    #[inline]
    pub fn block(self) -> Option<usize> {
        (self != Target::END && self.0 & Target::SERVICE == 0).then_some(self.0 as usize)
    }

    /// The index among `services`, if this is a service.
    pub fn as_service(self) -> Option<usize> {
        (self != Target::END && self.0 & Target::SERVICE != 0).then_some((self.0 & !Target::SERVICE) as usize)
    }
}

/// How a source spaces its arrivals.
#[derive(Clone, Debug)]
pub enum Arrivals {
    /// Non-homogeneous Poisson with this rate profile.
    Poisson(RateProfile),
    /// Renewal process with these interarrival times [s].
    Renewal(Dist),
}

/// A checked open-loop source.
#[derive(Clone, Debug)]
pub struct SourceDef {
    pub name: String,
    pub arrivals: Arrivals,
    /// Maximum number of arrivals.
    pub limit: Option<u64>,
    pub class: u16,
    /// Class shares, key space and users drawn per request.
    pub draws: Draws,
    /// Where its requests go, as named in the file.
    pub to: Target,
    /// First op of its requests' flow.
    pub entry: Pc,
}

/// A checked closed-loop population.
#[derive(Clone, Debug)]
pub struct SessionsDef {
    pub name: String,
    pub users: u32,
    /// Messages per session; `None` means endless sessions.
    pub messages: Option<Dist>,
    /// Think time [s].
    pub think: Dist,
    /// Pause between sessions [s].
    pub pause: Dist,
    pub class: u16,
    /// Class shares and key space drawn per message.
    pub draws: Draws,
    /// Where its messages go, as named in the file.
    pub to: Target,
    /// First op of its messages' flow.
    pub entry: Pc,
    pub cost: Vec<CostLine>,
    /// The share of users active by local hour (none: all, always).
    pub active: Option<clock::Schedule>,
    /// The number of active users over time (none: all `users`, always).
    pub users_profile: Option<profile::RateProfile>,
}

/// A checked station.
#[derive(Clone, Debug)]
pub struct StationDef {
    pub servers: u32,
    /// Service time [s].
    pub service: Dist,
    pub discipline: Discipline,
    /// Waiting places (excluding those in service); `None` is unbounded.
    pub capacity: Option<u64>,
    pub to: Target,
    pub cost: Vec<CostLine>,
}

/// A checked router.
#[derive(Clone, Debug)]
pub enum RouterDef {
    /// Cumulative probabilities (last is 1.0) and their targets.
    Probability { cumulative: Vec<f64>, targets: Vec<Target> },
    /// Target per class index.
    Class { by_class: Vec<Target> },
}

/// The kind-specific part of a block that requests can enter.
#[derive(Clone, Debug)]
pub enum BlockDef {
    Station(StationDef),
    /// A pure delay [s].
    Delay {
        delay: Dist,
        to: Target,
        cost: Vec<CostLine>,
    },
    Router(RouterDef),
    /// Branch entry points and the index of the join block.
    Fork {
        branches: Vec<Target>,
        join: u32,
    },
    Join {
        to: Target,
    },
}

/// A checked, ready-to-build model.
#[derive(Clone, Debug)]
pub struct Model {
    /// The spec after `--set`, as it was checked (written beside the outputs).
    pub spec: ModelSpec,
    /// Simulated time to run, warm-up included.
    pub duration: SimTime,
    pub warmup: SimTime,
    pub seed: u64,
    /// Time-series window width.
    pub window: SimTime,
    pub max_in_flight: u64,
    /// Where simulated time 0 falls on the model's clock (`run.start`, `run.utc_offset`).
    pub clock: Clock,
    /// Class names in priority order.
    pub classes: Vec<String>,
    /// Names of blocks, parallel to `blocks`.
    pub block_names: Vec<String>,
    /// The blocks as checked (the program is compiled from them and from `services`).
    pub blocks: Vec<BlockDef>,
    /// Every way a request moves, compiled.
    pub program: Program,
    /// Intents and key spaces.
    pub workload: Workload,
    /// Requests to trace (`capsim run --trace N`; 0: none).
    pub trace: u32,
    pub sources: Vec<SourceDef>,
    pub sessions: Vec<SessionsDef>,
    /// Alarms on the time-series windows, in name order (evaluated by `report/alarms.rs`).
    pub alarms: Vec<alarms::AlarmDef>,
    /// `run.phases`, as written.
    pub phases: Vec<Phase>,
}

/// A named interval of simulated time with its own request figures (`run.phases`).
#[derive(Clone, Debug)]
pub struct Phase {
    pub name: String,
    pub from: SimTime,
    pub to: SimTime,
}

impl Model {
    /// Index of the block called `name`.
    pub fn block_index(&self, name: &str) -> Option<usize> {
        self.block_names.iter().position(|n| n == name)
    }
}

/// Reads, overrides and checks a model file.
pub fn load(path: &Path, overrides: &[Override]) -> Result<Model, FileError> {
    let (label, text) = read_file(path)?;
    load_str(&label, &text, overrides)
}

/// A file's label (its path as given) and text, or an error naming it.
pub fn read_file(path: &Path) -> Result<(String, String), FileError> {
    let label = path.display().to_string();
    match limits::read_bounded(path) {
        Ok(text) => Ok((label, text)),
        Err(e) => Err(FileError::one(&label, Issue::new("", e))),
    }
}

/// Parses, overrides and checks model text; `file` names it in errors.
pub fn load_str(file: &str, text: &str, overrides: &[Override]) -> Result<Model, FileError> {
    let spec = parse_spec(file, text, overrides)?;
    validate::validate(spec).map_err(|issues| located_with(file, text, issues, overrides))
}

/// Stage one only: JSON syntax, overrides and types, without the semantic checks.
pub fn parse_spec(file: &str, text: &str, overrides: &[Override]) -> Result<ModelSpec, FileError> {
    parse_typed(file, text, overrides)
}

/// Parses any JSON document type with the same error quality as model files: a byte-order
/// mark is skipped, duplicate keys and every type error are reported, each at its place.
pub fn parse_typed<T: serde::de::DeserializeOwned>(
    file: &str,
    text: &str,
    overrides: &[Override],
) -> Result<T, FileError> {
    let text = json::strip_bom(text);
    if text.trim().is_empty() {
        return Err(FileError::one(file, Issue::new("", "the file is empty; expected a JSON object")));
    }
    let mut doc: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        let issue = Issue {
            line_col: Some((e.line(), e.column())),
            ..Issue::new("", format!("invalid JSON: {}", syntax_words(&e)))
        };
        FileError::one(file, issue)
    })?;
    if !doc.is_object() {
        let what = match doc {
            serde_json::Value::Array(_) => "a list",
            serde_json::Value::String(_) => "a string",
            serde_json::Value::Number(_) => "a number",
            _ => "not an object",
        };
        let issue = Issue {
            line_col: Some((1, 1)),
            ..Issue::new("", format!("the document is {what}; expected a JSON object"))
        };
        return Err(FileError::one(file, issue));
    }
    let dups: Vec<Issue> = json::duplicate_keys(text)
        .into_iter()
        .map(|p| {
            Issue::new(
                p,
                "this key appears more than once in its object; JSON keeps only the last, so remove the others",
            )
        })
        .collect();
    if !dups.is_empty() {
        return Err(located(file, text, dups));
    }
    for o in overrides {
        o.apply(&mut doc).map_err(|m| {
            let issue = Issue { flag: o.flag.clone(), ..Issue::new(o.path.clone(), m) };
            FileError::one(file, issue)
        })?;
    }
    json::deserialize_all(&doc).map_err(|issues| {
        let mut e = located_with(file, text, issues, overrides);
        e.issues.sort_by_key(|i| (i.flag.is_none(), i.line_col));
        e
    })
}

/// serde_json's syntax error without its trailing position (shown as line:column already).
fn syntax_words(e: &serde_json::Error) -> String {
    let s = e.to_string();
    let s = s.split(" at line ").next().unwrap_or(&s).to_string();
    if e.line() == 1 && e.column() <= 1 && s.starts_with("expected value") {
        return format!("{s} (the file does not start with `{{`)");
    }
    s
}

/// Like [`located`], but issues at the path of a command-line override are reported on its flag.
pub fn located_with(file: &str, text: &str, issues: Vec<Issue>, overrides: &[Override]) -> FileError {
    let mut e = located(file, text, issues);
    for i in &mut e.issues {
        if let Some(o) = overrides.iter().rev().find(|o| o.flag.is_some() && o.covers(&i.path)) {
            i.flag = o.flag.clone();
            i.line_col = None;
        }
    }
    e
}

/// Gives every issue the line:column of its path in `text`.
pub fn located(file: &str, text: &str, mut issues: Vec<Issue>) -> FileError {
    let text = json::strip_bom(text);
    for i in &mut issues {
        i.line_col = locate::locate(text, &i.path);
    }
    FileError { file: file.to_string(), issues }
}
