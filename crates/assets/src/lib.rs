//! The asset ledger (placeholder while being built).

pub mod date;
mod eol_table;
pub mod os;
pub mod oui;
pub mod p0f;
