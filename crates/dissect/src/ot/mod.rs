//! Industrial protocols, one module each.

pub mod bacnet;
pub mod dnp3;
pub mod enip;
pub mod iec104;
pub mod modbus;
pub mod s7comm;
