//! Streaming statistics, bounded in memory whatever the simulated duration.

pub mod columns;
pub mod critical;
pub mod latency;
pub mod timeweighted;
pub mod trace;
pub mod window;

pub use critical::{BreakdownPool, CriticalPath, NO_ROW, PathPart};
pub use latency::{Latency, LatencySummary};
pub use timeweighted::TimeWeighted;
pub use window::{CALL_COLUMNS, WindowRow, Windows};
