//! Integration tests, in one binary: simulated figures against closed forms of queueing
//! theory, determinism, and bad-input handling.
//!
//! Statistical tests run independent replications (seeds derived from a base seed) and check
//! that the analytic value lies inside the 95 % Student-t interval of the replication means,
//! and that the interval is narrow enough (a stated relative half-width) for the check to bite.

mod alarms;
mod bad_input;
mod batch_server;
mod blocks;
mod breakpoints;
mod cache;
mod calls;
mod cites;
mod cli;
mod closed_loop;
mod common;
mod cost;
mod determinism;
mod endpoint_pool;
mod experiments;
mod first_token;
mod gallery;
mod gateway;
mod guardrail;
mod hardening;
mod kv_store;
mod lambda;
mod layers;
mod limits;
mod llm;
mod mangaassist;
mod pages;
mod phases;
mod queue;
mod queueing;
mod schedules;
mod sources;
mod speculative;
mod throttles;
mod walkthrough;
