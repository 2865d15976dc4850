//! One run: a world built from a model, driven by the event loop until the run's end.

mod ctx;
mod run;
mod world;

pub use ctx::{Ctx, Event, Origin, Request};
pub use run::{RunOutput, run, skeleton_summary};
pub use world::World;
