//! Industrial protocols, one module each.

pub mod modbus;
