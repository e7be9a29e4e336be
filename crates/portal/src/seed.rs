//! Synthetic store contents for tests, the page benchmark and screenshots: a
//! plant of `assets` devices in a few subnets (PLCs, HMIs, workstations,
//! servers, switches), hourly flows between them over two days, and `alerts`
//! alerts of every kind and severity with evidence that names flow uids.
//!
//! Deterministic: the same numbers give the same rows. Not for production
//! data; the demo uses the real pipeline.

use std::net::{IpAddr, Ipv4Addr};

use mamori_store::{
    AlertRow, AlertStatus, AssetRow, FlowHourly, FlowKey, FlowSums, HOUR_NANOS, PortalStore,
    StoreError,
};

/// The first hour of the seeded traffic: 2025-11-20 00:00 UTC.
pub const START: i64 = 1_763_596_800 * 1_000_000_000;

const VENDORS: [&str; 10] = [
    "Siemens",
    "Rockwell Automation",
    "Mitsubishi Electric",
    "Omron",
    "Schneider Electric",
    "Yokogawa",
    "Cisco",
    "Dell",
    "Hewlett Packard",
    "Moxa",
];
const ROLES: [&str; 8] = [
    "plc",
    "plc",
    "hmi",
    "ews",
    "scada_server",
    "historian",
    "network_device",
    "it_host",
];
const OSES: [&str; 6] = [
    "Windows 7",
    "Windows 10",
    "Windows Server 2012 R2",
    "Linux 4.x",
    "VxWorks",
    "",
];
const KINDS: [&str; 8] = [
    "new_device",
    "new_comm",
    "ot_command",
    "eol_os",
    "scan",
    "storm",
    "arp_spoof",
    "volume_anomaly",
];
const SEVERITIES: [&str; 4] = ["low", "medium", "high", "critical"];

/// The address of seeded asset `i`.
pub fn ip_of(i: usize) -> Ipv4Addr {
    let i = i as u32;
    Ipv4Addr::new(
        10,
        10 + (i / 62_000) as u8,
        ((i / 250) % 250) as u8 + 1,
        (i % 250) as u8 + 2,
    )
}

/// The key of seeded asset `i`.
pub fn key_of(i: usize) -> String {
    let b = (i as u32).to_be_bytes();
    format!(
        "mac:02:00:{:02x}:{:02x}:{:02x}:{:02x}",
        b[0], b[1], b[2], b[3]
    )
}

/// The host name of seeded asset `i`.
pub fn hostname_of(i: usize) -> String {
    format!("{}-{:04}", ROLES[i % ROLES.len()].replace('_', "-"), i)
}

/// Writes `n` assets.
pub fn assets(store: &dyn PortalStore, n: usize) -> Result<(), StoreError> {
    let mut rows = Vec::with_capacity(1000);
    for i in 0..n {
        let role = ROLES[i % ROLES.len()];
        let vendor = if role == "plc" {
            VENDORS[i % 6]
        } else {
            VENDORS[(i / 3) % VENDORS.len()]
        };
        let os = match role {
            "plc" => "VxWorks",
            "network_device" => "",
            _ => OSES[i % 4],
        };
        let ip = ip_of(i).to_string();
        let first = START + (i as i64 % 48) * HOUR_NANOS;
        let detail = serde_json::json!({
            "vendor": {"value": vendor, "source": "oui", "history": [{"value": vendor, "source": "oui", "ts": first}]},
            "hostname": {"value": hostname_of(i), "source": "dhcp", "history": []},
            "services": [{"protocol": if role == "plc" { "modbus" } else { "https" }, "port": if role == "plc" { 502 } else { 443 }}],
            "ot_identity": if role == "plc" { serde_json::json!({"vendor": vendor, "product": "CPU 1516", "firmware": "V2.9"}) } else { serde_json::Value::Null },
        });
        rows.push(AssetRow {
            key: key_of(i),
            mac: Some(key_of(i).trim_start_matches("mac:").to_string()),
            ips: vec![ip],
            vendor: Some(vendor.to_string()),
            hostname: Some(hostname_of(i)),
            os: (!os.is_empty()).then(|| os.to_string()),
            os_eol: (os == "Windows 7").then(|| "2020-01-14".to_string()),
            role: role.to_string(),
            model: (role == "plc").then(|| "CPU 1516".to_string()),
            firmware: (role == "plc").then(|| "V2.9".to_string()),
            behind: None,
            first_seen: first,
            last_seen: START + 47 * HOUR_NANOS,
            pkts: 1_000 + i as u64,
            bytes: 100_000 + 37 * i as u64,
            detail: detail.to_string(),
            updated_run: None,
        });
        if rows.len() == 1000 {
            store.upsert_assets(&rows)?;
            rows.clear();
        }
    }
    store.upsert_assets(&rows)?;
    Ok(())
}

/// Writes hourly flows among the first `hosts` assets over 48 hours: each
/// talks to a server of its subnet (modbus, s7comm or https), and to the
/// historian; hour 30 has a broadcast storm from asset 3.
pub fn flows(store: &dyn PortalStore, hosts: usize) -> Result<(), StoreError> {
    let services = [
        ("modbus", 502u16),
        ("s7comm", 102),
        ("https", 443),
        ("enip", 44818),
    ];
    let mut rows = Vec::new();
    for hour in 0..48i64 {
        for i in 0..hosts {
            let server = (i / 20) * 20;
            if server == i {
                continue;
            }
            let (svc, port) = services[(i / 20) % services.len()];
            let bytes = 20_000
                + (i as u64 % 7) * 5_000
                + if hour % 24 > 7 && hour % 24 < 18 {
                    30_000
                } else {
                    0
                };
            let mut push = |resp: usize, svc: Option<&str>, port: u16, proto: u8, bytes: u64| {
                rows.push(FlowHourly {
                    key: FlowKey {
                        hour: START + hour * HOUR_NANOS,
                        orig_h: IpAddr::V4(ip_of(i)),
                        resp_h: IpAddr::V4(ip_of(resp)),
                        proto,
                        resp_p: port,
                        service: svc.map(String::from),
                        vlan: None,
                    },
                    sums: FlowSums {
                        conns: 4,
                        orig_pkts: 40,
                        resp_pkts: 40,
                        orig_bytes: bytes / 2,
                        resp_bytes: bytes / 2,
                        orig_ip_bytes: bytes / 2 + 800,
                        resp_ip_bytes: bytes / 2 + 800,
                        duration_nanos: 1_000_000,
                        first_seen: START + hour * HOUR_NANOS,
                        last_seen: START + hour * HOUR_NANOS + 3_000_000_000,
                    },
                    last_run: None,
                });
            };
            push(server, Some(svc), port, 6, bytes);
            if i % 5 == 0 && hosts > 5 {
                push(5, Some("https"), 443, 6, bytes / 4);
            }
            // A new communication on the second day.
            if hour >= 24 && i % 17 == 1 {
                push(server + 1, None, 4840, 6, 3_000);
            }
        }
        if hour == 30 && hosts > 3 {
            rows.push(FlowHourly {
                key: FlowKey {
                    hour: START + hour * HOUR_NANOS,
                    orig_h: IpAddr::V4(ip_of(3)),
                    resp_h: IpAddr::V4(Ipv4Addr::new(10, 10, 1, 255)),
                    proto: 17,
                    resp_p: 137,
                    service: Some("netbios-ns".into()),
                    vlan: None,
                },
                sums: FlowSums {
                    conns: 90_000,
                    orig_pkts: 900_000,
                    resp_pkts: 0,
                    orig_bytes: 80_000_000,
                    resp_bytes: 0,
                    orig_ip_bytes: 90_000_000,
                    resp_ip_bytes: 0,
                    duration_nanos: 0,
                    first_seen: START + hour * HOUR_NANOS,
                    last_seen: START + (hour + 1) * HOUR_NANOS - 1,
                },
                last_run: None,
            });
        }
        if rows.len() > 5_000 {
            store.add_flow_hourly(&rows)?;
            rows.clear();
        }
    }
    store.add_flow_hourly(&rows)?;
    Ok(())
}

/// Writes `n` alerts naming the first `hosts` assets (a few acknowledged).
pub fn alerts(store: &dyn PortalStore, n: usize, hosts: usize) -> Result<(), StoreError> {
    let hosts = hosts.max(2);
    let mut rows = Vec::with_capacity(2000);
    for i in 0..n {
        let kind = KINDS[i % KINDS.len()];
        let sev = SEVERITIES[(i / 3) % SEVERITIES.len()];
        let (src, dst) = (i % hosts, (i * 7 + 1) % hosts);
        let ts = START + (i as i64 % (48 * 60)) * 60_000_000_000;
        let summary = match kind {
            "ot_command" => format!(
                "Modbus write single coil from {} to {}",
                hostname_of(src),
                hostname_of(dst)
            ),
            "new_device" => format!("New device {} ({})", hostname_of(src), ip_of(src)),
            "new_comm" => format!(
                "New communication {} → {} on 4840/tcp",
                hostname_of(src),
                hostname_of(dst)
            ),
            "eol_os" => format!(
                "{} runs Windows 7, out of support since 2020-01-14",
                hostname_of(src)
            ),
            "storm" => format!("Broadcast storm from {}", hostname_of(src)),
            other => format!("{other} involving {}", hostname_of(src)),
        };
        rows.push(AlertRow {
            id: 0,
            fingerprint: format!("seed-{i}"),
            ts,
            last_seen: ts + 120_000_000_000,
            count: 1 + (i as u64 % 4),
            kind: kind.to_string(),
            severity: sev.to_string(),
            src_mac: Some(key_of(src).trim_start_matches("mac:").to_string()),
            src_ip: Some(ip_of(src).to_string()),
            dst_mac: Some(key_of(dst).trim_start_matches("mac:").to_string()),
            dst_ip: Some(ip_of(dst).to_string()),
            protocol: (kind == "ot_command").then(|| "modbus".to_string()),
            summary,
            evidence: serde_json::json!({"expected": "no write from this host", "seen": {"function": 5, "function_name": "write single coil"}, "uids": [format!("CS{i:08x}a"), format!("CS{i:08x}b")]}).to_string(),
            mitre_ics: (kind == "ot_command").then(|| "T0855".to_string()),
            learning: i % 50 == 0,
            status: AlertStatus::Open,
            status_by: None,
            status_at: None,
            run: None,
        });
        if rows.len() == 2000 {
            store.add_alerts(&rows)?;
            rows.clear();
        }
    }
    store.add_alerts(&rows)?;
    Ok(())
}

/// A whole plant: `n_assets` assets, flows among the first 300 (or fewer),
/// `n_alerts` alerts.
pub fn plant(store: &dyn PortalStore, n_assets: usize, n_alerts: usize) -> Result<(), StoreError> {
    assets(store, n_assets)?;
    flows(store, n_assets.min(300))?;
    alerts(store, n_alerts, n_assets.min(300))
}
