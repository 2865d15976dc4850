//! Call policies, each small and with one job, composed around a call by `sim::flow`:
//! backoff with jitter, a retry budget, a circuit breaker and token buckets. Each keeps its own
//! state and is tested on its own against hand-computed figures.

pub mod backoff;
pub mod breaker;
pub mod bucket;
pub mod budget;

pub use backoff::backoff_s;
pub use breaker::{Breaker, Verdict};
pub use bucket::{Limiter, Tokens};
pub use budget::Budget;
