//! Blocks that requests pass through, one module per kind. Each owns its state and statistics
//! and reacts to the requests and events the world hands it, through [`crate::sim::Ctx`].
//!
//! To add a kind: a spec struct in `model::spec`, a checked def in `model`, a module here, a
//! variant in [`Block`], and one arm in `sim::world` where requests enter blocks.

pub mod delay;
pub mod forkjoin;
pub mod router;
pub mod sessions;
pub mod source;
pub mod station;

use crate::model::Target;

pub use delay::Delay;
pub use router::Router;
pub use sessions::Sessions;
pub use source::Source;
pub use station::Station;

/// A block of the running world.
// A model has few blocks, and stations are on the hot path: no boxing indirection for them.
#[allow(clippy::large_enum_variant)]
pub enum Block {
    Station(Station),
    /// A pure delay: draws a time, then forwards.
    Delay(Delay),
    Router(Router),
    /// Splits a request into one child per branch; children meet at block `join`.
    Fork {
        branches: Vec<Target>,
        join: u32,
    },
    /// Where children meet; the parent continues to `to`.
    Join {
        to: Target,
    },
}
