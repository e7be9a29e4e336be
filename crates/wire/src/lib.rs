//! Where packets come from and what their headers say.
//!
//! `mamori-wire` is the bottom of the packet path. [`capture`] reads packets out of
//! pcap and pcapng files (plain or gzip-compressed) and, on Linux, off a live
//! interface through an AF_PACKET TPACKET_V3 ring. [`decode`] turns one captured
//! frame into borrowed views of its layer 2 to layer 4 headers without copying or
//! allocating: Ethernet, VLAN tags, ARP, IPv4, IPv6 and its extension headers,
//! TCP, UDP, ICMP, and the tunnels that mirror sessions use (GRE, ERSPAN, VXLAN).
//!
//! Nothing here keeps per-flow state; that lives in `mamori-flow`. IP fragment
//! reassembly is the one exception that needs memory, and it lives in
//! [`decode::defrag`] with hard bounds.
//!
//! Hostile input is normal here: every length read from the wire is checked
//! before it is used, and no function in this crate panics on any byte string.

pub mod build;
pub mod capture;
pub mod decode;
pub mod link;
pub mod time;

pub use link::LinkType;
pub use time::Timestamp;
