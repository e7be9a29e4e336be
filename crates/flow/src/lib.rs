//! Flows: who talks to whom, how much, and how their TCP conversations went.
//!
//! A flow is every packet between two endpoints with one transport protocol (and one
//! VLAN), in both directions. [`FlowTable`] finds a packet's flow by its canonical
//! [`FlowKey`] (the same key for both directions), keeps Zeek's per-connection
//! accounting (packets, bytes, `conn_state`, `history`), expires idle flows on
//! protocol-specific timeouts driven by packet time, and hands every finished flow
//! out as a [`ConnRecord`], the row of `conn.jsonl`.
//!
//! Memory is bounded: the table holds at most [`FlowConfig::max_flows`] flows and
//! evicts the one closest to expiry when full, counting it. [`reassembly`] turns TCP
//! segments into in-order byte streams for dissectors, with bounded buffering and
//! explicit gaps.
//!
//! Nothing here reads the wall clock: [`FlowTable::advance`] is called with packet
//! time, so a capture replays to the same records every time.

pub mod key;
pub mod reassembly;
pub mod record;
pub mod service;
pub mod table;
pub mod tcp;
mod wheel;

pub use key::{Direction, FlowKey};
pub use record::{ConnRecord, Uid};
pub use service::ServiceSet;
pub use table::{FlowConfig, FlowId, FlowStats, FlowTable, Timeouts};
