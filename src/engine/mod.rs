//! Discrete-event engine: simulated time, the event list, the request slab and RNG streams.
//!
//! The engine knows nothing of stations, caches or LLMs; components live in `crate::components`
//! and talk to the engine only through [`crate::sim::Ctx`].

pub mod queue;
mod radix;

pub mod rng;
pub mod slab;
pub mod time;

pub use queue::EventQueue;
pub use rng::{SimRng, stream};
pub use slab::{ReqId, Slab};
pub use time::SimTime;
