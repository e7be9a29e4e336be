//! Industrial protocols, one module each.
//!
//! Most ride on TCP or UDP flows. PROFINET DCP ([`pn_dcp`]) and CC-Link IE
//! ([`cclink_ie`]) ride directly on Ethernet: one session per interface takes each
//! frame's payload after the EtherType with its MACs, and their operations carry the
//! MACs ([`l2::L2Operation`]). Cyclic traffic (CC-Link IE, CC-Link IE Field Basic
//! ([`cclink_iefb`])) is counted per flow and minute ([`cyclic::MinuteAggregator`]).
//!
//! Every protocol's code-to-(name, category) lookups live in the private `tables`
//! module, generated from `crates/dissect/tables/*.tsv` (see the crate docs).

pub mod bacnet;
pub mod cclink_ie;
pub mod cclink_iefb;
pub mod cyclic;
pub mod dnp3;
pub mod enip;
pub mod fins;
pub mod iec104;
pub mod l2;
pub mod modbus;
pub mod opcua;
pub mod pn_dcp;
pub mod s7comm;
pub mod slmp;
pub(crate) mod tables;
