//! Streaming statistics, bounded in memory whatever the simulated duration.

pub mod latency;
pub mod timeweighted;
pub mod window;

pub use latency::{Latency, LatencySummary};
pub use timeweighted::TimeWeighted;
pub use window::{WindowRow, Windows};
