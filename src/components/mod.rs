//! The running parts of a world, one module per kind: services (slots, queue, statistics),
//! work steps, routes, open-loop sources and closed-loop populations. Each owns its state and
//! statistics; `sim::flow` moves requests between them.

pub mod batch_server;
pub mod bursts;
pub mod cache;
pub mod call_stats;
pub mod concurrency_limiter;
pub mod dax;
pub mod drawer;
pub mod endpoint_pool;
pub mod fleet;
pub mod gateway;
pub mod gateway_region;
pub mod guardrail;
pub mod kinds;
pub mod kv_store;
pub mod lambda;
pub mod llm;
pub mod model_router;
pub mod processor_sharing;
pub mod queue;
pub mod router;
pub mod service;
pub mod sessions;
pub mod source;
pub mod speculative;
pub mod work;

pub use drawer::Drawer;
pub use router::Router;
pub use service::{Admit, Service};
pub use sessions::Sessions;
pub use source::Source;
pub use work::Work;
