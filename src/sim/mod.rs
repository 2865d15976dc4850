//! One run: a world built from a model, driven by the event loop until the run's end. Requests
//! move through the flow program (`flow.rs`): every top-level request, call and parallel branch
//! is a [`Job`] in the slab. A run returns raw figures ([`FinishedRun`]); `report/` turns them
//! into what is written, and nothing here imports it.

mod calls;
mod ctx;
mod flow;
mod job;
mod path;
mod run;
pub mod world;

pub use ctx::{Ctx, Event};
pub use job::{Attrs, Job, NO_SERVICE, Origin, Outcome};
pub use run::{FinishedRun, Status, run};
pub use world::World;

/// Stack for threads that run simulations [bytes]: the main thread's 8 MiB rather than a worker's
/// default 2 MiB, since the flow interpreter recurses once per nested call and parallel branch
/// (bounded by validation: 64 nested calls, 128 levels of nesting in a file).
pub const RUN_STACK_BYTES: usize = 8 << 20;
