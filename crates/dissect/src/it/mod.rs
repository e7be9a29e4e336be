//! IT protocols that name devices.
//!
//! [`dns`] covers DNS (UDP and TCP 53), mDNS (UDP 5353) and LLMNR (UDP 5355): one wire
//! format, three conventions. `nbns` (NetBIOS name service, UDP 137) will follow.
//! [`dhcp`] covers DHCP for IPv4 (UDP 67/68): host names, vendor class, parameter list.

pub mod dhcp;
pub mod dns;
