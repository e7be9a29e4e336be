//! Industrial protocols, one module each.

pub mod enip;
pub mod modbus;
