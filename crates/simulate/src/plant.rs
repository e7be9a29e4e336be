//! The simulated plant: zones, devices and who they are.
//!
//! The plant is a function of the scale factor only, never of the seed: the same
//! devices with the same addresses exist in every simulated day, so that a baseline
//! learned from one day applies to the next. Each production line adds one control
//! VLAN with three HMIs, five PLCs of five vendors, two remote I/O adapters and a
//! line switch; the office, operations and utilities zones are shared.

use std::fmt;
use std::net::Ipv4Addr;

use mamori_wire::decode::MacAddr;
use serde::Serialize;

use crate::rng::hash_label;

/// The most production lines a plant may have (one /24 and one VLAN each).
pub const MAX_LINES: u32 = 200;

/// The DNS domain of plant-internal names.
pub const DOMAIN: &str = "plant.local";

/// What a device does, with the role names of DESIGN.md §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A programmable controller, RTU or building controller.
    Plc,
    /// An operator panel or workstation.
    Hmi,
    /// An engineering workstation.
    Ews,
    /// A SCADA server.
    ScadaServer,
    /// A process historian.
    Historian,
    /// An office PC or IT server.
    ItHost,
    /// A switch or router.
    NetworkDevice,
    /// A remote I/O adapter (a field device under a PLC).
    RemoteIo,
}

impl Role {
    /// The name used in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Plc => "plc",
            Role::Hmi => "hmi",
            Role::Ews => "ews",
            Role::ScadaServer => "scada_server",
            Role::Historian => "historian",
            Role::ItHost => "it_host",
            Role::NetworkDevice => "network_device",
            Role::RemoteIo => "remote_io",
        }
    }
}

/// A protocol the simulator speaks, named as in DESIGN.md §3 (`service`/`protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Protocol {
    /// Modbus/TCP, TCP 502.
    #[serde(rename = "modbus")]
    Modbus,
    /// S7comm over ISO-on-TCP, TCP 102.
    #[serde(rename = "s7comm")]
    S7comm,
    /// EtherNet/IP encapsulation, TCP/UDP 44818 (and implicit I/O on UDP 2222).
    #[serde(rename = "enip")]
    Enip,
    /// CIP carried by EtherNet/IP.
    #[serde(rename = "cip")]
    Cip,
    /// Omron FINS over UDP 9600.
    #[serde(rename = "fins")]
    Fins,
    /// Mitsubishi SLMP (MC protocol 3E binary), TCP 5007.
    #[serde(rename = "slmp")]
    Slmp,
    /// BACnet/IP, UDP 47808.
    #[serde(rename = "bacnet")]
    Bacnet,
    /// CC-Link IE Field Basic, UDP 61450/61451.
    #[serde(rename = "cclink-ief-basic")]
    CclinkIefBasic,
    /// OPC UA binary, TCP 4840.
    #[serde(rename = "opcua")]
    Opcua,
    /// DNP3 over TCP 20000.
    #[serde(rename = "dnp3")]
    Dnp3,
    /// IEC 60870-5-104, TCP 2404.
    #[serde(rename = "iec104")]
    Iec104,
    /// PROFINET DCP (EtherType 0x8892).
    #[serde(rename = "profinet-dcp")]
    ProfinetDcp,
    /// DNS, UDP 53.
    #[serde(rename = "dns")]
    Dns,
    /// DHCP, UDP 67/68.
    #[serde(rename = "dhcp")]
    Dhcp,
    /// HTTP, TCP 80.
    #[serde(rename = "http")]
    Http,
    /// TLS, TCP 443.
    #[serde(rename = "tls")]
    Tls,
    /// NetBIOS name service, UDP 137.
    #[serde(rename = "nbns")]
    Nbns,
    /// LLDP (EtherType 0x88CC).
    #[serde(rename = "lldp")]
    Lldp,
    /// ARP.
    #[serde(rename = "arp")]
    Arp,
    /// ICMP echo.
    #[serde(rename = "icmp")]
    Icmp,
}

impl Protocol {
    /// The name used in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Modbus => "modbus",
            Protocol::S7comm => "s7comm",
            Protocol::Enip => "enip",
            Protocol::Cip => "cip",
            Protocol::Fins => "fins",
            Protocol::Slmp => "slmp",
            Protocol::Bacnet => "bacnet",
            Protocol::CclinkIefBasic => "cclink-ief-basic",
            Protocol::Opcua => "opcua",
            Protocol::Dnp3 => "dnp3",
            Protocol::Iec104 => "iec104",
            Protocol::ProfinetDcp => "profinet-dcp",
            Protocol::Dns => "dns",
            Protocol::Dhcp => "dhcp",
            Protocol::Http => "http",
            Protocol::Tls => "tls",
            Protocol::Nbns => "nbns",
            Protocol::Lldp => "lldp",
            Protocol::Arp => "arp",
            Protocol::Icmp => "icmp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A network zone: one VLAN and one IPv4 subnet.
#[derive(Debug, Clone, Serialize)]
pub struct Zone {
    /// Short name (`office`, `operations`, `utilities`, `line1`, ...).
    pub name: String,
    /// Purdue level, as a rough guide (4 = business, 3 = operations, 1-2 = control).
    pub purdue_level: u8,
    /// 802.1Q VLAN id the zone's frames carry.
    pub vlan: u16,
    /// Network address.
    pub network: Ipv4Addr,
    /// Prefix length.
    pub prefix: u8,
    /// Default gateway (an address of the core switch).
    pub gateway: Ipv4Addr,
}

impl Zone {
    /// Whether `ip` lies in this zone's subnet.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let mask = u32::MAX
            .checked_shl(32 - u32::from(self.prefix))
            .unwrap_or(0);
        u32::from(ip) & mask == u32::from(self.network) & mask
    }

    /// The subnet's broadcast address.
    pub fn broadcast(&self) -> Ipv4Addr {
        let mask = u32::MAX
            .checked_shl(32 - u32::from(self.prefix))
            .unwrap_or(0);
        Ipv4Addr::from(u32::from(self.network) | !mask)
    }

    /// `network/prefix`.
    pub fn cidr(&self) -> String {
        format!("{}/{}", self.network, self.prefix)
    }
}

/// One device of the plant.
#[derive(Debug, Clone, Serialize)]
pub struct Device {
    /// Host name (lower case, unique).
    pub name: String,
    /// What it does.
    pub role: Role,
    /// Manufacturer, matching the MAC's OUI.
    pub vendor: &'static str,
    /// Product name.
    pub product: &'static str,
    /// Operating system or firmware family.
    pub os: &'static str,
    /// MAC address (real vendor OUI; the low three bytes derive from the name).
    #[serde(serialize_with = "ser_mac")]
    pub mac: MacAddr,
    /// IPv4 address.
    pub ip: Ipv4Addr,
    /// Index into [`Plant::zones`].
    pub zone: usize,
    /// VLAN id (that of the zone).
    pub vlan: u16,
    /// Initial IP TTL of its stack.
    pub ttl: u8,
    /// Whether it gets its address by DHCP.
    pub dhcp: bool,
    /// Protocols it serves (listens on).
    pub serves: Vec<Protocol>,
    /// Production line (1-based) for line devices.
    pub line: Option<u32>,
}

fn ser_mac<S: serde::Serializer>(mac: &MacAddr, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(mac)
}

/// Well-known vendor OUIs (IEEE MA-L assignments).
pub mod oui {
    /// Siemens AG (automation).
    pub const SIEMENS: [u8; 3] = [0x00, 0x1b, 0x1b];
    /// Siemens AG (A&D).
    pub const SIEMENS_AD: [u8; 3] = [0x00, 0x0e, 0x8c];
    /// Rockwell Automation (Allen-Bradley).
    pub const ROCKWELL: [u8; 3] = [0x00, 0x00, 0xbc];
    /// Rockwell Automation.
    pub const ROCKWELL_2: [u8; 3] = [0x00, 0x1d, 0x9c];
    /// Schneider Electric (Telemecanique).
    pub const SCHNEIDER: [u8; 3] = [0x00, 0x80, 0xf4];
    /// Schneider Electric Japan Holdings (Pro-face).
    pub const SCHNEIDER_JP: [u8; 3] = [0x00, 0x01, 0x23];
    /// Mitsubishi Electric Corporation.
    pub const MITSUBISHI: [u8; 3] = [0x00, 0x26, 0x92];
    /// Omron.
    pub const OMRON: [u8; 3] = [0x00, 0x00, 0x0a];
    /// Yokogawa.
    pub const YOKOGAWA: [u8; 3] = [0x00, 0x00, 0x64];
    /// Delta Controls (BACnet building controllers).
    pub const DELTA_CONTROLS: [u8; 3] = [0x00, 0x40, 0xae];
    /// Cisco Systems.
    pub const CISCO: [u8; 3] = [0x00, 0x1b, 0x54];
    /// Hirschmann (industrial switches).
    pub const HIRSCHMANN: [u8; 3] = [0x00, 0x80, 0x63];
    /// Dell.
    pub const DELL: [u8; 3] = [0x00, 0x14, 0x22];
    /// Dell (newer block).
    pub const DELL_2: [u8; 3] = [0xf8, 0xb1, 0x56];
    /// Hewlett Packard.
    pub const HP: [u8; 3] = [0x3c, 0xd9, 0x2b];
    /// VMware virtual NICs.
    pub const VMWARE: [u8; 3] = [0x00, 0x50, 0x56];
    /// LCFC (Lenovo ThinkPad maker).
    pub const LCFC: [u8; 3] = [0x28, 0xd2, 0x44];
}

/// A MAC from an OUI and a name: the same name always gets the same address.
pub fn mac_for(oui: [u8; 3], name: &str) -> MacAddr {
    let h = hash_label(name).to_be_bytes();
    let mut low = [h[5], h[6], h[7]];
    if oui == oui::VMWARE {
        // VMware's static range is 00:50:56:00:00:00-00:50:56:3f:ff:ff.
        low[0] &= 0x3f;
    }
    MacAddr([oui[0], oui[1], oui[2], low[0], low[1], low[2]])
}

/// The whole plant.
#[derive(Debug, Clone, Serialize)]
pub struct Plant {
    /// Zones; index 0 is `office`, 1 `operations`, 2 `utilities`, 3.. the lines.
    pub zones: Vec<Zone>,
    /// Devices, in a fixed order.
    pub devices: Vec<Device>,
    /// Number of production lines.
    pub lines: u32,
    /// MAC of the core switch, which routes between zones and to the internet.
    #[serde(serialize_with = "ser_mac")]
    pub router_mac: MacAddr,
    /// Zone pairs (from, to) that are allowed to talk (the conduits).
    pub conduits: Vec<(String, String)>,
}

/// Zone index of the office.
pub const ZONE_OFFICE: usize = 0;
/// Zone index of operations (SCADA, historian, EWS).
pub const ZONE_OPERATIONS: usize = 1;
/// Zone index of utilities (substation RTUs, building automation).
pub const ZONE_UTILITIES: usize = 2;
/// Zone index of production line `n` (1-based).
pub fn zone_line(n: u32) -> usize {
    2 + n as usize
}

struct Spec {
    name: String,
    role: Role,
    oui: [u8; 3],
    vendor: &'static str,
    product: &'static str,
    os: &'static str,
    ttl: u8,
    zone: usize,
    host: u8,
    serves: &'static [Protocol],
    line: Option<u32>,
    dhcp: bool,
}

impl Plant {
    /// The plant for a scale factor (number of production lines, clamped to
    /// `1..=MAX_LINES`). Office PCs grow with the scale as well.
    pub fn new(scale: u32) -> Plant {
        use Protocol as P;
        let lines = scale.clamp(1, MAX_LINES);
        let mut zones = vec![
            zone("office", 4, 10, [10, 10, 10, 0]),
            zone("operations", 3, 20, [10, 10, 20, 0]),
            zone("utilities", 2, 40, [10, 10, 40, 0]),
        ];
        for n in 1..=lines {
            zones.push(zone(
                &format!("line{n}"),
                1,
                100 + n as u16,
                [10, 20, n as u8, 0],
            ));
        }
        let mut specs: Vec<Spec> = Vec::new();
        let add = |specs: &mut Vec<Spec>,
                   name: &str,
                   role: Role,
                   (oui, vendor): ([u8; 3], &'static str),
                   product: &'static str,
                   (os, ttl): (&'static str, u8),
                   (zone, host): (usize, u8),
                   serves: &'static [Protocol]| {
            specs.push(Spec {
                name: name.to_string(),
                role,
                oui,
                vendor,
                product,
                os,
                ttl,
                zone,
                host,
                serves,
                line: None,
                dhcp: false,
            });
        };
        const WIN_SERVER: (&str, u8) = ("Windows Server 2019", 128);
        const WIN10: (&str, u8) = ("Windows 10", 128);
        const WIN11: (&str, u8) = ("Windows 11", 128);
        const IOS: (&str, u8) = ("Cisco IOS XE", 255);
        const EMBEDDED: (&str, u8) = ("embedded", 64);
        // Operations.
        add(
            &mut specs,
            "core-sw",
            Role::NetworkDevice,
            (oui::CISCO, "Cisco"),
            "Catalyst 9300",
            IOS,
            (ZONE_OPERATIONS, 1),
            &[P::Lldp],
        );
        add(
            &mut specs,
            "ot-dns",
            Role::ItHost,
            (oui::VMWARE, "VMware"),
            "Windows DNS server (VM)",
            WIN_SERVER,
            (ZONE_OPERATIONS, 10),
            &[P::Dns],
        );
        add(
            &mut specs,
            "scada01",
            Role::ScadaServer,
            (oui::VMWARE, "VMware"),
            "WinCC OA server (VM)",
            ("Windows Server 2016", 128),
            (ZONE_OPERATIONS, 20),
            &[P::Opcua],
        );
        add(
            &mut specs,
            "hist01",
            Role::Historian,
            (oui::VMWARE, "VMware"),
            "Process historian (VM)",
            WIN_SERVER,
            (ZONE_OPERATIONS, 21),
            &[P::Tls],
        );
        add(
            &mut specs,
            "ews01",
            Role::Ews,
            (oui::DELL, "Dell"),
            "Precision 3660 with TIA Portal, Studio 5000, GX Works3",
            WIN10,
            (ZONE_OPERATIONS, 30),
            &[],
        );
        // Utilities.
        add(
            &mut specs,
            "sw-util",
            Role::NetworkDevice,
            (oui::HIRSCHMANN, "Hirschmann"),
            "RSP35",
            ("HiOS", 64),
            (ZONE_UTILITIES, 2),
            &[P::Lldp],
        );
        add(
            &mut specs,
            "rtu-sub1",
            Role::Plc,
            (oui::SCHNEIDER, "Schneider Electric"),
            "Easergy T300 RTU",
            EMBEDDED,
            (ZONE_UTILITIES, 20),
            &[P::Iec104],
        );
        add(
            &mut specs,
            "rtu-water",
            Role::Plc,
            (oui::YOKOGAWA, "Yokogawa"),
            "STARDOM FCN-RTU",
            EMBEDDED,
            (ZONE_UTILITIES, 21),
            &[P::Dnp3],
        );
        add(
            &mut specs,
            "bac-ahu1",
            Role::Plc,
            (oui::DELTA_CONTROLS, "Delta Controls"),
            "eBCON building controller",
            EMBEDDED,
            (ZONE_UTILITIES, 30),
            &[P::Bacnet],
        );
        add(
            &mut specs,
            "bms-ws",
            Role::Hmi,
            (oui::HP, "HP"),
            "Z2 workstation, BMS front end",
            WIN10,
            (ZONE_UTILITIES, 40),
            &[],
        );
        // Office.
        add(
            &mut specs,
            "dc01",
            Role::ItHost,
            (oui::DELL, "Dell"),
            "PowerEdge R450 (AD, DNS, DHCP)",
            WIN_SERVER,
            (ZONE_OFFICE, 10),
            &[P::Dns, P::Dhcp, P::Nbns],
        );
        let office_pcs = (4 + 2 * (lines - 1)).min(150);
        for i in 0..office_pcs {
            let (o, vendor, product) = if i % 2 == 0 {
                (oui::HP, "HP", "EliteDesk 800 G6")
            } else {
                (oui::DELL_2, "Dell", "OptiPlex 7090")
            };
            add(
                &mut specs,
                &format!("pc-{:02}", i + 1),
                Role::ItHost,
                (o, vendor),
                product,
                WIN11,
                (ZONE_OFFICE, 101 + i as u8),
                &[P::Nbns],
            );
            if let Some(s) = specs.last_mut() {
                s.dhcp = true;
            }
        }
        // Production lines.
        for n in 1..=lines {
            let z = zone_line(n);
            let line_add = |specs: &mut Vec<Spec>,
                            suffix: &str,
                            role: Role,
                            o: ([u8; 3], &'static str),
                            product: &'static str,
                            os: (&'static str, u8),
                            host: u8,
                            serves: &'static [Protocol]| {
                add(
                    specs,
                    &line_name(role, n, suffix),
                    role,
                    o,
                    product,
                    os,
                    (z, host),
                    serves,
                );
            };
            line_add(
                &mut specs,
                "sw",
                Role::NetworkDevice,
                (oui::HIRSCHMANN, "Hirschmann"),
                "RS20 industrial switch",
                ("HiOS", 64),
                2,
                &[P::Lldp],
            );
            line_add(
                &mut specs,
                "tp1",
                Role::Hmi,
                (oui::SIEMENS, "Siemens"),
                "SIMATIC HMI TP1200 Comfort",
                ("Windows CE", 64),
                11,
                &[],
            );
            line_add(
                &mut specs,
                "pv2",
                Role::Hmi,
                (oui::ROCKWELL, "Rockwell Automation"),
                "PanelView Plus 7",
                ("Windows CE", 128),
                12,
                &[],
            );
            line_add(
                &mut specs,
                "gp3",
                Role::Hmi,
                (oui::SCHNEIDER_JP, "Schneider Electric (Pro-face)"),
                "Pro-face GP4000 / PS6000",
                ("Windows 10 IoT", 128),
                13,
                &[],
            );
            line_add(
                &mut specs,
                "s7",
                Role::Plc,
                (oui::SIEMENS_AD, "Siemens"),
                "SIMATIC S7-300 CPU 315-2 PN/DP",
                ("embedded", 30),
                21,
                &[P::S7comm, P::ProfinetDcp],
            );
            line_add(
                &mut specs,
                "ab",
                Role::Plc,
                (oui::ROCKWELL, "Rockwell Automation"),
                "CompactLogix 5380 (5069-L320ER)",
                EMBEDDED,
                22,
                &[P::Enip, P::Cip],
            );
            line_add(
                &mut specs,
                "m340",
                Role::Plc,
                (oui::SCHNEIDER, "Schneider Electric"),
                "Modicon M340 BMX P34 2020",
                EMBEDDED,
                23,
                &[P::Modbus],
            );
            line_add(
                &mut specs,
                "iqr",
                Role::Plc,
                (oui::MITSUBISHI, "Mitsubishi Electric"),
                "MELSEC iQ-R R04ENCPU",
                EMBEDDED,
                24,
                &[P::Slmp],
            );
            line_add(
                &mut specs,
                "nx",
                Role::Plc,
                (oui::OMRON, "Omron"),
                "NX1P2 machine controller",
                EMBEDDED,
                25,
                &[P::Fins],
            );
            line_add(
                &mut specs,
                "aent",
                Role::RemoteIo,
                (oui::ROCKWELL_2, "Rockwell Automation"),
                "POINT I/O 1734-AENTR",
                EMBEDDED,
                31,
                &[P::Enip],
            );
            line_add(
                &mut specs,
                "ccio",
                Role::RemoteIo,
                (oui::MITSUBISHI, "Mitsubishi Electric"),
                "NZ2MFB1-32D remote I/O (CC-Link IE Field Basic)",
                EMBEDDED,
                32,
                &[P::CclinkIefBasic],
            );
            for s in specs.iter_mut().rev().take(11) {
                s.line = Some(n);
            }
        }
        let devices = specs
            .into_iter()
            .map(|s| {
                let z = &zones[s.zone];
                let o = u32::from(z.network) | u32::from(s.host);
                Device {
                    mac: mac_for(s.oui, &s.name),
                    name: s.name,
                    role: s.role,
                    vendor: s.vendor,
                    product: s.product,
                    os: s.os,
                    ip: Ipv4Addr::from(o),
                    zone: s.zone,
                    vlan: z.vlan,
                    ttl: s.ttl,
                    dhcp: s.dhcp,
                    serves: s.serves.to_vec(),
                    line: s.line,
                }
            })
            .collect::<Vec<_>>();
        let router_mac = mac_for(oui::CISCO, "core-sw");
        let mut conduits = vec![
            ("office".to_string(), "internet".to_string()),
            ("office".to_string(), "operations".to_string()),
            ("operations".to_string(), "utilities".to_string()),
        ];
        for n in 1..=lines {
            conduits.push(("operations".to_string(), format!("line{n}")));
        }
        Plant {
            zones,
            devices,
            lines,
            router_mac,
            conduits,
        }
    }

    /// The index of the device called `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.devices.iter().position(|d| d.name == name)
    }

    /// The device called `name`.
    pub fn device(&self, name: &str) -> Option<&Device> {
        self.devices.iter().find(|d| d.name == name)
    }

    /// The device with address `ip`.
    pub fn by_ip(&self, ip: Ipv4Addr) -> Option<&Device> {
        self.devices.iter().find(|d| d.ip == ip)
    }

    /// The zone holding `ip`, if it is inside the plant.
    pub fn zone_of(&self, ip: Ipv4Addr) -> Option<&Zone> {
        self.zones.iter().find(|z| z.contains(ip))
    }

    /// Index of a line device (`kind` is the name suffix, e.g. `s7`), by line number.
    pub(crate) fn line_device(&self, line: u32, role: Role, suffix: &str) -> usize {
        self.find(&line_name(role, line, suffix)).unwrap_or(0)
    }

    /// Index of a shared device by name; the names used internally always exist.
    pub(crate) fn idx(&self, name: &str) -> usize {
        self.find(name).unwrap_or(0)
    }
}

/// The name of a line device: `plc-1-s7`, `hmi-2-tp1`, `io-1-aent`, `sw-line1`.
fn line_name(role: Role, line: u32, suffix: &str) -> String {
    match role {
        Role::Plc => format!("plc-{line}-{suffix}"),
        Role::Hmi => format!("hmi-{line}-{suffix}"),
        Role::RemoteIo => format!("io-{line}-{suffix}"),
        _ => format!("sw-line{line}"),
    }
}

fn zone(name: &str, level: u8, vlan: u16, net: [u8; 4]) -> Zone {
    let network = Ipv4Addr::from(net);
    Zone {
        name: name.to_string(),
        purdue_level: level,
        vlan,
        network,
        prefix: 24,
        gateway: Ipv4Addr::new(net[0], net[1], net[2], 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plant_is_consistent() {
        let p = Plant::new(3);
        let mut macs: Vec<_> = p.devices.iter().map(|d| d.mac).collect();
        macs.sort();
        macs.dedup();
        assert_eq!(macs.len(), p.devices.len(), "MACs are unique");
        let mut ips: Vec<_> = p.devices.iter().map(|d| d.ip).collect();
        ips.sort();
        ips.dedup();
        assert_eq!(ips.len(), p.devices.len(), "IPs are unique");
        for d in &p.devices {
            assert!(p.zones[d.zone].contains(d.ip), "{} in its zone", d.name);
            assert!(d.ip.is_private());
        }
        assert!(p.find("plc-3-s7").is_some());
        assert_eq!(p.device("plc-2-m340").map(|d| d.line), Some(Some(2)));
        assert_eq!(Plant::new(1).devices.len(), Plant::new(1).devices.len());
    }
}
