//! The asset ledger (placeholder while being built).

pub mod asset;
pub mod attr;
pub mod date;
mod eol_table;
pub mod ledger;
pub mod os;
pub mod oui;
pub mod p0f;
pub mod role;
mod serde_util;
