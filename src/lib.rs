//! capsim: a deterministic discrete-event capacity simulator.
//!
//! Layers, from the bottom:
//! - [`engine`]: simulated time, event list, request slab, random streams;
//! - [`model`]: model files, raw spec → validated model, `--set` overrides ([`cost`]: prices);
//! - [`components`]: one module per kind of block (source, sessions, station, …);
//! - [`metrics`]: streaming statistics bounded in memory; [`policy`]: policies' running state;
//! - [`sim`]: a world built from a model, the event loop, one run's raw figures ([`sim::FinishedRun`]);
//! - [`report`]: summary.json, timeseries.csv and charts, built from a finished run;
//! - [`experiment`], [`cli`], [`gallery`]: sweeps, commands and the gallery, which run the
//!   simulation, then the report.
//!
//! The layers up to [`sim`] never import [`report`], [`experiment`], [`cli`] or [`gallery`]
//! (checked by `tests/it/layers.rs`).

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
