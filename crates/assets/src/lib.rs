//! The asset ledger (placeholder while being built).

pub mod date;
pub mod oui;
