//! The asset ledger: who is on the plant network, and how we know.
//!
//! The ledger consumes the pipeline's ordered events (connections, ARP, OT requests,
//! identity facts, DHCP exchanges, TCP SYN fingerprints) and keeps one [`Asset`] per
//! device: keyed by MAC, with its addresses over time, or keyed by address for hosts
//! seen only behind a router ([`ledger`] documents the fusion rules, the router
//! decision and the bounds). Every attribute keeps its value, source (protocol, time,
//! flow uid), confidence and history ([`attr`]).
//!
//! What the ledger knows before it sees traffic ([`Knowledge`]):
//! - vendors from the IEEE registries, MA-L/MA-M/MA-S and IAB, generated into
//!   `data/oui.tsv` ([`oui`]); Wireshark's `manuf` is read at run time when present;
//! - TCP fingerprints in p0f's format: our own `data/mamori.fp`, and p0f's
//!   `/etc/p0f/p0f.fp` read at run time when present ([`p0f`]);
//! - OS names, DHCP and user-agent guesses, and a generated end-of-support table
//!   from `data/eol.txt` ([`os`]);
//! - model names for the codes MELSEC CPUs and CC-Link devices report ([`models`]);
//! - role rules ([`role`]).
//!
//! Outputs: `assets.jsonl` ([`Ledger::write_jsonl`], one [`Asset::to_json`] record per
//! asset: DESIGN §3's fields, then the full state), store rows ([`Ledger::to_rows`],
//! [`Ledger::load`] to carry on from a stored ledger), CSV and JSON exports
//! ([`export`]). [`LedgerConsumer`] plugs the ledger into `run_files`.
//!
//! # Wiring
//!
//! ```no_run
//! use mamori_assets::{Knowledge, Lang, Ledger, LedgerConfig, LedgerConsumer, shared};
//! use mamori_store::{AssetQuery, LedgerStore, SqliteStore};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = SqliteStore::open("mamori.db")?;
//! let (knowledge, _notes) = Knowledge::system(); // + /etc/p0f/p0f.fp, Wireshark's manuf
//! let mut ledger = Ledger::new(LedgerConfig::default(), knowledge);
//! ledger.load(&store.assets(&AssetQuery::default())?); // carry on from the last run
//! let ledger = shared(ledger);
//! let consumer = LedgerConsumer::new(ledger.clone()).with_jsonl("out/assets.jsonl".into());
//! // ... run_files(&config, vec![Box::new(consumer), ...], &progress)?;
//! # drop(consumer);
//! let l = ledger.lock().map_err(|_| "poisoned")?;
//! store.upsert_assets(&l.changed_rows(None))?; // Some(run id) in analyze
//! let rows = store.assets(&AssetQuery::default())?;
//! mamori_assets::write_csv(std::io::stdout().lock(), &rows, Lang::Ja)?;
//! # Ok(())
//! # }
//! ```
//!
//! The generated tables are made by `tests/generate.rs` (see its docs); a test checks
//! that the committed tables are what the generators make of their sources.

pub mod asset;
pub mod attr;
pub mod consumer;
pub mod date;
#[rustfmt::skip]
mod eol_table;
pub mod export;
pub mod ledger;
pub mod models;
pub mod os;
pub mod oui;
pub mod p0f;
pub mod role;
mod serde_util;

pub use asset::{Asset, AssetKey, Role};
pub use consumer::{LedgerConsumer, SharedLedger, shared};
pub use export::{Lang, write_csv, write_json};
pub use ledger::{AssetInfo, Knowledge, Ledger, LedgerConfig, LedgerStats, LoadError, to_row};
