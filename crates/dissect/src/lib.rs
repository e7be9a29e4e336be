//! Application dissectors: what the bytes of a flow say.
//!
//! Every protocol follows one contract, described in [`contract`]:
//!
//! - A **PDU parser** ([`contract::PduParser`]) looks at the front of a byte buffer and
//!   answers with [`contract::Parsed`]: a PDU and how many bytes it took, *incomplete*
//!   with how many bytes it needs before it can say more, or *not this protocol*. It
//!   never allocates for a PDU it can borrow, and never panics on any input.
//! - **Protocol violations are data, not errors**: a PDU that parsed carries
//!   [`contract::Flags`] (a reserved bit set, a length that disagrees, ...) for the
//!   detectors to turn into alerts.
//! - **Codes keep their raw value** beside their name ([`record::Function`]).
//! - **Per-flow state is bounded**: outstanding requests per flow, buffered bytes per
//!   direction ([`stream::StreamBuffer`]).
//! - **Content decides, the port only hints**: a parser must recognise its protocol from
//!   the bytes (`NotThisProtocol` otherwise), so a web server on port 502 is not
//!   logged as Modbus.
//!
//! What dissectors produce are [`record::OtOperation`]s (the rows of `ot.jsonl`) and
//! [`record::IdentityFact`]s (what a device said about itself, for the asset ledger).
//!
//! Layout: [`ot`] holds the industrial protocols, one module each; IT protocols will
//! follow in `it`.
//!
//! Function-code names and categories are generated tables: one data file per protocol
//! in `crates/dissect/tables/<proto>.tsv` (code, name, category, source note; the
//! format is described in `crates/xtask/src/tables.rs`), turned into `match` lookups in
//! `src/ot/tables/` by `cargo run -p xtask -- gen-tables`. To add a code, add its row,
//! rerun the generator and commit both; `tests/tables_fresh.rs` fails when they differ.

pub mod contract;
pub mod it;
pub mod ot;
pub mod probe;
pub mod record;
pub mod stream;
