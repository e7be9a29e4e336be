//! Roles: what a device does, inferred from what it serves and uses, what it said
//! about itself and who made it. The first rule that applies wins, and its reason is
//! stored with the role:
//!
//! 1. **network_device** — the ledger took its MAC for a router (it carries many
//!    other hosts' addresses), a DHCP server names one of its addresses as a
//!    router, or it says so (LLDP capabilities router/bridge, a device type naming a
//!    switch, router or gateway).
//! 2. **ews** — it sent OT *program* requests (upload, download, delete of logic) or
//!    *control* requests (run, stop, reset): engineering software does that.
//! 3. **plc** — it serves an OT controller protocol (Modbus, S7comm, EtherNet/IP,
//!    DNP3, IEC 104, BACnet, FINS, SLMP, ...), or its device type says controller.
//! 4. **scada_server** — it serves OPC UA and polls controllers, or polls at least
//!    [`SCADA_MIN_SERVERS`] OT servers.
//! 5. **historian** — it serves OPC UA (collects process data) and polls nothing.
//! 6. **hmi** — it polls one to a few OT servers.
//!
//!    Polling is weighed against what else the host does: a host with IT-typical
//!    behaviour (it browses the web — uses HTTP or TLS — or sends a Windows DHCP
//!    vendor class, `MSFT …`) counts as an OT client (rules 4 and 6) only when it
//!    polls repeatedly over time: at least [`CLIENT_MIN_REQUESTS`] requests and
//!    flows spread over at least [`CLIENT_MIN_SPAN_SECS`]. One rogue read from an
//!    office PC leaves it an `it_host`, and the reason says why.
//! 7. **network_device** — made by a maker of network equipment only (Cisco,
//!    Juniper, Hirschmann, ...) and serving nothing.
//! 8. **it_host** — it serves or uses IT protocols (DNS, HTTP, TLS, SMB, NetBIOS,
//!    DHCP, ...), or names a desktop/server OS.
//! 9. **iot** — it speaks only discovery or time protocols (SSDP, mDNS, NTP).
//! 10. **unknown**.

use crate::asset::{Asset, Role};

/// OT servers polled from which a client counts as a SCADA server, not an HMI.
pub const SCADA_MIN_SERVERS: usize = 5;
/// OT requests and flows a host with IT-typical behaviour must send to count as an
/// OT client.
pub const CLIENT_MIN_REQUESTS: u64 = 20;
/// The time (seconds) its OT use must span.
pub const CLIENT_MIN_SPAN_SECS: i64 = 600;

/// IT-typical behaviour of a host: what it does that office PCs do and HMIs rarely.
fn it_signs(asset: &Asset) -> Vec<&'static str> {
    let mut signs = Vec::new();
    let used: Vec<&str> = names(&asset.used).collect();
    if used.iter().any(|n| matches!(*n, "http" | "ssl")) {
        signs.push("browses the web");
    }
    if asset
        .attr("vendor_class")
        .is_some_and(|v| v.starts_with("MSFT"))
    {
        signs.push("sends a Windows DHCP vendor class");
    }
    signs
}

/// How much and how long a host used OT protocols as a client: (requests + flows,
/// span in seconds).
fn client_evidence(asset: &Asset) -> (u64, i64) {
    let used = &asset.ot.used;
    let n: u64 = used
        .iter()
        .map(|u| u.flows.saturating_add(u.requests.values().sum::<u64>()))
        .sum();
    let first = used.iter().map(|u| u.first_seen).min().unwrap_or(0);
    let last = used.iter().map(|u| u.last_seen).max().unwrap_or(0);
    (n, last.saturating_sub(first) / 1_000_000_000)
}

const IT_SERVICES: [&str; 10] = [
    "dns",
    "dhcp",
    "http",
    "ssl",
    "netbios-ns",
    "browser",
    "smb",
    "llmnr",
    "dhcpv6",
    "snmp",
];
/// Makers of network equipment only (not of PCs, phones or PLCs as well).
const NETWORK_VENDORS: [&str; 8] = [
    "Cisco Systems",
    "Juniper Networks",
    "Hirschmann Automation",
    "Arista Networks",
    "Extreme Networks",
    "RuggedCom",
    "Fortinet",
    "Palo Alto Networks",
];
const IOT_SERVICES: [&str; 3] = ["ssdp", "mdns", "ntp"];

fn names(list: &[crate::asset::ServiceUse]) -> impl Iterator<Item = &'static str> + '_ {
    list.iter()
        .flat_map(|s| mamori_flow::ServiceSet(s.services).names())
}

/// The role of `asset` and why. `gateway` says whether a DHCP server named one of
/// its addresses as a router.
pub fn infer(asset: &Asset, gateway: bool) -> (Role, String) {
    if let Some(r) = &asset.router {
        return (Role::NetworkDevice, r.reason.clone());
    }
    if gateway {
        return (
            Role::NetworkDevice,
            "a DHCP server names its address as the router".into(),
        );
    }
    let device_type = asset.attr("device_type").unwrap_or("").to_ascii_lowercase();
    if [
        "router",
        "bridge",
        "switch",
        "gateway",
        "access point",
        "wlan",
    ]
    .iter()
    .any(|w| device_type.contains(w))
    {
        return (
            Role::NetworkDevice,
            format!(
                "it says it is a {}",
                asset.attr("device_type").unwrap_or("")
            ),
        );
    }
    let ot = &asset.ot;
    let program: u64 = ot.used.iter().map(|u| u.count("program")).sum();
    let control: u64 = ot.used.iter().map(|u| u.count("control")).sum();
    if program + control > 0 {
        let protos: Vec<&str> = ot
            .used
            .iter()
            .filter(|u| u.count("program") + u.count("control") > 0)
            .map(|u| u.protocol.as_str())
            .collect();
        return (
            Role::Ews,
            format!(
                "sent {program} program and {control} control requests ({})",
                protos.join(", ")
            ),
        );
    }
    let controller: Vec<&str> = ot
        .served
        .iter()
        .filter(|u| u.protocol != "opcua")
        .map(|u| u.protocol.as_str())
        .collect();
    if !controller.is_empty() {
        return (
            Role::Plc,
            format!(
                "serves {} to {} client(s)",
                controller.join(", "),
                ot.clients.len()
            ),
        );
    }
    if device_type.contains("programmable logic controller") || device_type.contains("plc") {
        return (
            Role::Plc,
            format!(
                "it says it is a {}",
                asset.attr("device_type").unwrap_or("")
            ),
        );
    }
    let serves_opcua = ot.served.iter().any(|u| u.protocol == "opcua");
    let mut polled = ot.servers.len();
    let mut brief_use = None;
    if polled > 0 || !ot.used.is_empty() {
        let signs = it_signs(asset);
        let (n, span) = client_evidence(asset);
        if !signs.is_empty() && (n < CLIENT_MIN_REQUESTS || span < CLIENT_MIN_SPAN_SECS) {
            let protos: Vec<&str> = ot.used.iter().map(|u| u.protocol.as_str()).collect();
            brief_use = Some(format!(
                "{}; its OT use ({}: {n} requests and flows over {span} s) is too brief for an HMI",
                signs.join(", "),
                protos.join(", ")
            ));
            polled = 0;
        }
    }
    if serves_opcua && polled > 0 {
        return (
            Role::ScadaServer,
            format!("serves opcua and polls {polled} OT server(s)"),
        );
    }
    if polled >= SCADA_MIN_SERVERS {
        return (Role::ScadaServer, format!("polls {polled} OT servers"));
    }
    if serves_opcua {
        return (
            Role::Historian,
            format!("serves opcua to {} client(s)", ot.clients.len()),
        );
    }
    if brief_use.is_none() && (polled > 0 || !ot.used.is_empty()) {
        let protos: Vec<&str> = ot.used.iter().map(|u| u.protocol.as_str()).collect();
        return (
            Role::Hmi,
            format!("polls {polled} OT server(s) ({})", protos.join(", ")),
        );
    }
    if device_type.contains("human-machine") || device_type.contains("hmi") {
        return (
            Role::Hmi,
            format!(
                "it says it is a {}",
                asset.attr("device_type").unwrap_or("")
            ),
        );
    }
    if let Some(v) = asset.vendor()
        && asset.served.is_empty()
        && NETWORK_VENDORS.iter().any(|n| v.contains(n))
    {
        return (
            Role::NetworkDevice,
            format!("made by {v}, a maker of network equipment, and serves nothing"),
        );
    }
    let mut it: Vec<&str> = names(&asset.served)
        .chain(names(&asset.used))
        .filter(|n| IT_SERVICES.contains(n))
        .collect();
    it.sort_unstable();
    it.dedup();
    if let Some(why) = brief_use {
        return (Role::ItHost, why);
    }
    if !it.is_empty() {
        return (Role::ItHost, format!("speaks {}", it.join(", ")));
    }
    if let Some((os, _)) = asset.os() {
        let l = os.to_ascii_lowercase();
        if [
            "windows", "linux", "macos", "ubuntu", "debian", "centos", "red hat",
        ]
        .iter()
        .any(|w| l.starts_with(w))
        {
            return (Role::ItHost, format!("runs {os}"));
        }
    }
    let all: Vec<&str> = names(&asset.served).chain(names(&asset.used)).collect();
    if !all.is_empty() && all.iter().all(|n| IOT_SERVICES.contains(n)) {
        return (Role::Iot, "speaks only discovery and time protocols".into());
    }
    (Role::Unknown, String::new())
}
