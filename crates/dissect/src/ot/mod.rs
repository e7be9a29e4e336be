//! Industrial protocols, one module each.

pub mod bacnet;
pub mod dnp3;
pub mod enip;
pub mod fins;
pub mod iec104;
pub mod modbus;
pub mod opcua;
pub mod s7comm;
pub mod slmp;
