//! IT protocols that name devices.
//!
//! [`dns`] covers DNS (UDP and TCP 53), mDNS (UDP 5353) and LLMNR (UDP 5355): one wire
//! format, three conventions. [`nbns`] covers the NetBIOS name service (UDP 137).
//! [`dhcp`] covers DHCP for IPv4 (UDP 67/68): host names, vendor class, parameter list;
//! [`dhcpv6`] DHCPv6 (UDP 546/547): DUIDs, FQDN, vendor class, option request list.
//! [`lldp`] (EtherType 0x88CC) and [`cdp`] (Cisco, LLC/SNAP) are what switches, PLCs
//! and hosts say about themselves on each link: names, descriptions, capabilities,
//! management addresses. [`browser`] covers CIFS browser announcements (NetBIOS
//! datagrams, UDP 138): server names, announced OS versions, server roles, workgroups.
//! [`http`] covers HTTP/1.x over TCP (method, host, URI, user agent, server, status;
//! bodies skipped, not buffered); [`tls`] TLS over TCP (SNI, versions, JA3, JA3S, JA4,
//! the server certificate's subject and issuer); [`ssdp`] SSDP (UDP 1900: search
//! targets, USN, SERVER, USER-AGENT, LOCATION).

pub mod browser;
pub mod cdp;
pub mod dhcp;
pub mod dhcpv6;
pub mod dns;
pub mod http;
pub mod lldp;
pub mod nbns;
pub mod ssdp;
pub mod tls;
