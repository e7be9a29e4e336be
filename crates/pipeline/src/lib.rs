//! The packet path, end to end: capture → decode → flows → events → outputs.
//!
//! ```text
//!  files ──► reader ──(batches, by symmetric hash)──► worker 0 ─┐
//!  (merged by time)  │                                worker 1 ─┼─(events per epoch)─► collector ─► logs, store
//!                    └── one tick per second of packet time ──► all workers
//! ```
//!
//! - The **reader** ([`run`]) walks the input files in timestamp order, finds each
//!   packet's shard by a hash that is the same for both directions of a conversation
//!   (address pair, so IP fragments land with their flow), and copies it into that
//!   worker's batch. Batches travel over bounded channels and come back for reuse, so
//!   the steady state allocates nothing per packet.
//! - A **worker** ([`worker::Worker`]) owns a slice of the flows: it drops mirror
//!   duplicates, decodes, reassembles IP fragments, updates its flow table and turns
//!   what it sees into [`event::Event`]s.
//! - **Ticks** carry packet time to every worker at the same point of the stream: once
//!   per second of capture time, each worker expires its idle flows and hands the
//!   events of that second (an *epoch*) to the collector.
//! - The **collector** ([`collector::Collector`]) waits for an epoch from every
//!   worker, sorts its events by a key that does not depend on the thread count, and
//!   writes them. That is why `conn.jsonl` is byte-identical for any `--threads`.

pub mod app;
pub mod collector;
pub mod dedup;
mod dhcp_stage;
pub mod event;
mod l2_counter;
mod l2_stage;
#[cfg(target_os = "linux")]
pub mod live;
pub mod logs;
pub mod run;
pub mod stats;
pub mod worker;

pub use run::{Progress, RunConfig, RunError, RunOutcome, run_files};
pub use stats::PacketStats;
