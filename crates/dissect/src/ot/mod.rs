//! Industrial protocols, one module each.

pub mod bacnet;
pub mod cclink_ie;
pub mod cclink_iefb;
pub mod cyclic;
pub mod dnp3;
pub mod enip;
pub mod iec104;
pub mod l2;
pub mod modbus;
pub mod pn_dcp;
pub mod s7comm;
