//! capsim: a deterministic discrete-event capacity simulator.
//!
//! Layers, each depending only on those above it:
//! - [`engine`]: simulated time, event list, request slab, random streams;
//! - [`model`]: model files, raw spec → validated model, `--set` overrides;
//! - [`components`]: one module per kind of block (source, sessions, station, …);
//! - [`metrics`]: streaming statistics bounded in memory;
//! - [`sim`]: a world built from a model, the event loop, one run;
//! - [`report`]: summary.json, timeseries.csv and charts.

pub mod cli;
pub mod components;
pub mod cost;
pub mod engine;
pub mod experiment;
pub mod gallery;
pub mod metrics;
pub mod model;
pub mod policy;
pub mod report;
pub mod sim;
pub mod stats;
pub mod term;
