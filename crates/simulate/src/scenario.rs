//! Who talks to whom: the process list of a normal day, the attacks of an incident
//! day, and the ground truth that follows from them.
//!
//! Everything here depends on the plant (the scale) and the calendar, never on the
//! seed; the seed only moves times and values. So every normal day has the same
//! device pairs, protocols and function categories.

use mamori_wire::Timestamp;

use crate::clock;
use crate::net::{MS, SEC};
use crate::plant::{Plant, Protocol, Role, ZONE_OPERATIONS, ZONE_UTILITIES};
use crate::procs::attacks::{self, AttackProc, HMI_PEER, PUBLIC_DNS};
use crate::procs::background::{ArpRefresh, DnsLookups, Lldp, Neighbour, Pinger};
use crate::procs::cyclic::{BacnetPoll, Cclink, EnipIo, FinsPoll};
use crate::procs::ews::Ews;
use crate::procs::office::OfficePc;
use crate::procs::poll::Poller;
use crate::procs::{Process, Scheduled};
use crate::proto::{Op, dnp3, enip, iec104, modbus, opcua, s7, slmp};
use crate::rng::Rng;
use crate::truth::ExpectedAlert;
use crate::{Attack, AttackTiming, Scenario, SimConfig};

struct Builder<'a> {
    plant: &'a Plant,
    seed: u64,
    day: i64,
    start: Timestamp,
    procs: Vec<Scheduled>,
}

impl Builder<'_> {
    fn rng(&self, label: &str) -> Rng {
        Rng::derive(self.seed, label, self.day)
    }

    fn add(&mut self, first: Timestamp, p: impl Process + 'static) {
        self.procs.push((first, Box::new(p)));
    }

    /// Adds a poller that connects within the first seconds of the run.
    fn poller(
        &mut self,
        client: &str,
        server: &str,
        make: impl FnOnce(&mut Rng, &Plant) -> Poller,
    ) {
        let mut rng = self.rng(&format!("poll:{client}>{server}"));
        let first = self.start.plus_nanos(rng.range(50 * MS, 8 * SEC));
        let p = make(&mut rng, self.plant);
        self.add(first, p);
    }
}

/// When each attack of an incident day starts.
pub(crate) fn attack_times(cfg: &SimConfig, start: Timestamp) -> Vec<(Attack, Timestamp)> {
    let day = clock::local_day(start);
    let mut rng = Rng::derive(cfg.seed, "attack-schedule", day);
    Attack::ALL
        .iter()
        .enumerate()
        .map(|(i, &a)| {
            let t = match cfg.attack_timing {
                AttackTiming::Daytime => {
                    let (h, m) = a.default_time();
                    clock::at(start, h, m).plus_nanos(rng.range(-120, 120) * SEC)
                }
                AttackTiming::Packed {
                    offset_secs,
                    spacing_secs,
                } => start.plus_secs(i64::from(offset_secs) + i as i64 * i64::from(spacing_secs)),
            };
            (a, t)
        })
        .collect()
}

/// Builds the processes of a run.
pub(crate) fn build(
    cfg: &SimConfig,
    plant: &Plant,
    start: Timestamp,
    end: Timestamp,
) -> Vec<Scheduled> {
    let mut b = Builder {
        plant,
        seed: cfg.seed,
        day: clock::local_day(start),
        start,
        procs: Vec::new(),
    };
    let idx = |n: &str| plant.idx(n);
    let scada = idx("scada01");
    let attacks = if cfg.scenario == Scenario::Incident {
        attack_times(cfg, start)
    } else {
        Vec::new()
    };
    let spike = attacks
        .iter()
        .find(|(a, _)| *a == Attack::VolumeSpike)
        .map(|&(a, t)| (t, t.plus_nanos(attacks::duration(a, cfg.attack_timing))));

    for line in 1..=plant.lines {
        let dev = |role, sfx| plant.line_device(line, role, sfx);
        let (tp1, pv2, gp3) = (
            dev(Role::Hmi, "tp1"),
            dev(Role::Hmi, "pv2"),
            dev(Role::Hmi, "gp3"),
        );
        let (ps7, pab, pm340) = (
            dev(Role::Plc, "s7"),
            dev(Role::Plc, "ab"),
            dev(Role::Plc, "m340"),
        );
        let (piqr, pnx) = (dev(Role::Plc, "iqr"), dev(Role::Plc, "nx"));
        let (aent, ccio) = (dev(Role::RemoteIo, "aent"), dev(Role::RemoteIo, "ccio"));
        let name = |d: usize| plant.devices[d].name.clone();

        b.poller(&name(tp1), &name(ps7), |r, _| {
            Poller::new(
                tp1,
                ps7,
                Box::new(s7::S7::new(r, s7::TSAP_OP)),
                SEC,
                6.0,
                r.clone(),
            )
        });
        b.poller(&name(pv2), &name(pab), |r, p| {
            let d = enip::Enip::new(r, p.devices[pab].ip, 0x0120, "5069-L320ER/A LOGIX5320ER");
            Poller::new(pv2, pab, Box::new(d), SEC, 4.0, r.clone())
        });
        b.poller(&name(gp3), &name(pm340), |r, _| {
            Poller::new(
                gp3,
                pm340,
                Box::new(modbus::Modbus::new(r, (0, 20))),
                500 * MS,
                6.0,
                r.clone(),
            )
        });
        b.poller(&name(gp3), &name(piqr), |r, _| {
            Poller::new(gp3, piqr, Box::new(slmp::Slmp::new(r)), SEC, 3.0, r.clone())
        });
        b.poller("scada01", &name(ps7), |r, _| {
            Poller::new(
                scada,
                ps7,
                Box::new(s7::S7::new(r, s7::TSAP_BASIC)),
                2 * SEC,
                0.0,
                r.clone(),
            )
        });
        b.poller("scada01", &name(pab), |r, p| {
            let d = enip::Enip::new(r, p.devices[pab].ip, 0x0120, "5069-L320ER/A LOGIX5320ER");
            Poller::new(scada, pab, Box::new(d), 2 * SEC, 0.0, r.clone())
                .with_job(Op::Diagnostic, 600 * SEC)
        });
        b.poller("scada01", &name(pm340), |r, _| {
            let mut p = Poller::new(
                scada,
                pm340,
                Box::new(modbus::Modbus::new(r, (100, 40))),
                2 * SEC,
                0.0,
                r.clone(),
            );
            if let (1, Some((a, z))) = (line, spike) {
                p = p.with_burst(a, z, 20 * MS);
            }
            p
        });
        let r = b.rng(&format!("fins:{}", name(pnx)));
        b.add(start.plus_nanos(SEC), FinsPoll::new(gp3, pnx, SEC, r));
        let r = b.rng(&format!("io:{}", name(aent)));
        b.add(
            start.plus_nanos(300 * MS),
            EnipIo::new(pab, aent, 200 * MS, r),
        );
        let r = b.rng(&format!("cc:{}", name(ccio)));
        b.add(
            start.plus_nanos(700 * MS),
            Cclink::new(piqr, ccio, 200 * MS, r),
        );
        let sw = plant.idx(&format!("sw-line{line}"));
        let r = b.rng(&format!("lldp:{line}"));
        b.add(
            start.plus_nanos(r.clone().range(0, 30) * SEC),
            Lldp::new(
                sw,
                vec!["1/1".into(), "1/2".into()],
                "Hirschmann Railswitch RS20 HiOS-2S 09.0.05".into(),
                r,
            ),
        );
    }

    // Utilities and operations.
    let (rtu104, rtudnp, bac, bms) = (
        idx("rtu-sub1"),
        idx("rtu-water"),
        idx("bac-ahu1"),
        idx("bms-ws"),
    );
    let (hist, ews, otdns) = (idx("hist01"), idx("ews01"), idx("ot-dns"));
    b.poller("scada01", "rtu-sub1", |r, _| {
        Poller::new(
            scada,
            rtu104,
            Box::new(iec104::Iec104::new(r, 1)),
            10 * SEC,
            0.0,
            r.clone(),
        )
        .with_job(Op::Identify, 3600 * SEC)
    });
    b.poller("scada01", "rtu-water", |r, _| {
        Poller::new(
            scada,
            rtudnp,
            Box::new(dnp3::Dnp3::new(r)),
            5 * SEC,
            0.0,
            r.clone(),
        )
        .with_job(Op::Identify, 3600 * SEC)
    });
    b.poller("hist01", "scada01", |r, _| {
        Poller::new(
            hist,
            scada,
            Box::new(opcua::OpcUa::new(r, "scada01")),
            5 * SEC,
            0.0,
            r.clone(),
        )
    });
    let r = b.rng("bacnet");
    b.add(
        start.plus_nanos(2 * SEC),
        BacnetPoll::new(bms, bac, 10 * SEC, r),
    );
    let mut pinged: Vec<usize> = plant
        .devices
        .iter()
        .enumerate()
        .filter(|(_, d)| d.role == Role::Plc)
        .map(|(i, _)| i)
        .collect();
    pinged.sort_unstable();
    let r = b.rng("ping");
    b.add(
        start.plus_nanos(3 * SEC),
        Pinger::new(scada, pinged, 60 * SEC, r),
    );

    // Name lookups of the OT servers.
    let local = |n: &str| {
        (
            format!("{n}.{}", crate::plant::DOMAIN),
            plant.devices[idx(n)].ip,
        )
    };
    let mut scada_names = vec![
        local("hist01"),
        local("ot-dns"),
        local("rtu-sub1"),
        local("rtu-water"),
    ];
    for line in 1..=plant.lines.min(4) {
        scada_names.push(local(&format!("plc-{line}-s7")));
        scada_names.push(local(&format!("plc-{line}-m340")));
    }
    for (client, names) in [
        (scada, scada_names),
        (hist, vec![local("scada01"), local("ot-dns")]),
        (
            ews,
            vec![local("plc-1-s7"), local("plc-1-ab"), local("scada01")],
        ),
    ] {
        let r = b.rng(&format!("dns:{client}"));
        let first = start.plus_nanos(r.clone().range(5, 120) * SEC);
        b.add(first, DnsLookups::new(client, otdns, names, 300 * SEC, r));
    }

    // LLDP from the core and the utilities switch.
    let r = b.rng("lldp:core");
    b.add(
        start.plus_nanos(5 * SEC),
        Lldp::new(
            idx("core-sw"),
            vec!["Te1/0/1".into(), "Te1/0/2".into(), "Te1/0/3".into()],
            "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.9.4".into(),
            r,
        ),
    );
    let r = b.rng("lldp:util");
    b.add(
        start.plus_nanos(11 * SEC),
        Lldp::new(
            idx("sw-util"),
            vec!["1/1".into()],
            "Hirschmann RSP35 HiOS-3S 09.1.00".into(),
            r,
        ),
    );

    // ARP refreshes: every device keeps its gateway and its same-subnet peers fresh.
    for (i, d) in plant.devices.iter().enumerate() {
        if d.role == Role::NetworkDevice || d.dhcp {
            continue;
        }
        let mut neigh = vec![Neighbour::Gateway];
        for (j, e) in plant.devices.iter().enumerate() {
            if j != i && e.zone == d.zone && talks(plant, i, j) {
                neigh.push(Neighbour::Device(j));
            }
        }
        let r = b.rng(&format!("arp:{}", d.name));
        let first = start.plus_nanos(r.clone().range(1, 240) * SEC);
        b.add(first, ArpRefresh::new(i, neigh, 600 * SEC, r));
    }

    // People.
    let r = b.rng("ews");
    b.add(start, Ews::new(ews, plant.lines, r));
    let dc = idx("dc01");
    for (k, (i, _)) in plant
        .devices
        .iter()
        .enumerate()
        .filter(|(_, d)| d.dhcp)
        .enumerate()
    {
        let r = b.rng(&format!("pc:{i}"));
        b.add(start, OfficePc::new(i, dc, hist, k, r));
    }

    for (a, t) in attacks {
        if t >= start && t < end {
            let r = b.rng(&format!("attack:{}", a.name()));
            b.add(t, AttackProc::new(a, r));
        }
    }
    b.procs
}

/// Whether devices `a` and `b` exchange unicast traffic on the same subnet.
fn talks(plant: &Plant, a: usize, b: usize) -> bool {
    let (da, db) = (&plant.devices[a], &plant.devices[b]);
    let pair = |x: &str, y: &str| {
        (da.name.ends_with(x) && db.name.ends_with(y))
            || (da.name.ends_with(y) && db.name.ends_with(x))
    };
    (da.zone == ZONE_OPERATIONS && db.zone == ZONE_OPERATIONS && (da.role != Role::NetworkDevice))
        || (da.zone == ZONE_UTILITIES && pair("bms-ws", "bac-ahu1"))
        || pair("-tp1", "-s7")
        || pair("-pv2", "-ab")
        || pair("-gp3", "-m340")
        || pair("-gp3", "-iqr")
        || pair("-gp3", "-nx")
        || pair("-ab", "-aent")
        || pair("-iqr", "-ccio")
}

/// The alerts an incident day should raise.
pub(crate) fn expected_alerts(
    cfg: &SimConfig,
    plant: &Plant,
    start: Timestamp,
    end: Timestamp,
) -> Vec<ExpectedAlert> {
    if cfg.scenario != Scenario::Incident {
        return Vec::new();
    }
    let lap_mac = attacks::laptop_mac().to_string();
    let lap_ip = attacks::laptop_ip(plant);
    let dev = |n: &str| plant.device(n).map(|d| (d.mac.to_string(), d.ip));
    let s7 = dev("plc-1-s7");
    let m340 = dev("plc-1-m340");
    let mut out = Vec::new();
    for (a, t) in attack_times(cfg, start) {
        if t < start || t >= end {
            continue;
        }
        let t1 = t.plus_nanos(attacks::duration(a, cfg.attack_timing));
        let mut push = |kind: &'static str,
                        severity: &'static str,
                        src: Option<(String, std::net::Ipv4Addr)>,
                        dst: Option<std::net::Ipv4Addr>,
                        protocol: Option<Protocol>,
                        category: Option<&'static str>,
                        mitre: Option<&'static str>,
                        description: String| {
            out.push(ExpectedAlert {
                kind,
                severity,
                attack: a,
                src_mac: src.as_ref().map(|s| s.0.clone()),
                src_ip: src.map(|s| s.1),
                dst_ip: dst,
                protocol,
                category,
                mitre_ics: mitre,
                ts_start: t.as_secs_f64(),
                ts_end: t1.as_secs_f64(),
                description,
            });
        };
        let lap = Some((lap_mac.clone(), lap_ip));
        let s7ip = s7.as_ref().map(|d| d.1);
        let m340ip = m340.as_ref().map(|d| d.1);
        match a {
            Attack::NewLaptop => push(
                "new_device",
                "medium",
                lap.clone(),
                None,
                None,
                None,
                Some("T0848"),
                format!("unknown laptop {lap_mac} (LCFC/Lenovo) appears on line 1 as {lap_ip}"),
            ),
            Attack::Reconnaissance => push(
                "scan",
                "high",
                lap.clone(),
                None,
                None,
                None,
                Some("T0846"),
                "ARP sweep of line 1's /24, then a TCP SYN scan of 16 ports on every live host"
                    .into(),
            ),
            Attack::RogueWrites => {
                push(
                    "ot_command",
                    "high",
                    lap.clone(),
                    m340ip,
                    Some(Protocol::Modbus),
                    Some("write"),
                    Some("T0836"),
                    "rogue laptop writes holding registers of plc-1-m340 (fc 6 and 16)".into(),
                );
                push(
                    "new_comm",
                    "medium",
                    lap.clone(),
                    m340ip,
                    Some(Protocol::Modbus),
                    None,
                    None,
                    "first Modbus/TCP conversation between the laptop and plc-1-m340".into(),
                );
            }
            Attack::PlcStop => {
                push(
                    "ot_command",
                    "critical",
                    lap.clone(),
                    s7ip,
                    Some(Protocol::S7comm),
                    Some("control"),
                    Some("T0858"),
                    "rogue laptop sends S7comm PLC STOP (function 0x29) to plc-1-s7".into(),
                );
                push(
                    "new_comm",
                    "medium",
                    lap.clone(),
                    s7ip,
                    Some(Protocol::S7comm),
                    None,
                    None,
                    "first S7comm conversation between the laptop and plc-1-s7".into(),
                );
            }
            Attack::ProgramDownload => {
                let ews = dev("ews01");
                push(
                    "ot_command",
                    "critical",
                    ews.clone(),
                    s7ip,
                    Some(Protocol::S7comm),
                    Some("program"),
                    Some("T0843"),
                    "ews01 downloads OB1, FC1 and FC2 to plc-1-s7 outside any change window".into(),
                );
                push(
                    "new_comm",
                    "medium",
                    ews,
                    s7ip,
                    Some(Protocol::S7comm),
                    Some("program"),
                    None,
                    "function category `program` never seen between ews01 and plc-1-s7".into(),
                );
            }
            Attack::ArpSpoof => push(
                "arp_spoof",
                "high",
                lap.clone(),
                plant.zones[crate::plant::zone_line(1)].gateway.into(),
                Some(Protocol::Arp),
                None,
                Some("T0830"),
                "laptop claims line 1's gateway address in ARP replies to plc-1-s7 and hmi-1-tp1"
                    .into(),
            ),
            Attack::VolumeSpike => push(
                "volume_anomaly",
                "medium",
                dev("scada01"),
                m340ip,
                Some(Protocol::Modbus),
                None,
                None,
                "scada01 polls plc-1-m340 fifty times a second for ten minutes (usually every 2 s)"
                    .into(),
            ),
            Attack::DgaDns => push(
                "dns_suspicious",
                "medium",
                dev("pc-03"),
                dev("dc01").map(|d| d.1),
                Some(Protocol::Dns),
                None,
                None,
                "pc-03 looks up 40 random-looking (DGA) domains, all NXDOMAIN".into(),
            ),
            Attack::InternetFromHmi => {
                push(
                    "internet_from_ot",
                    "high",
                    dev("hmi-1-gp3"),
                    Some(HMI_PEER),
                    Some(Protocol::Tls),
                    None,
                    Some("T0883"),
                    format!(
                        "hmi-1-gp3 resolves a name at {PUBLIC_DNS} and opens TLS to {HMI_PEER}"
                    ),
                );
                push(
                    "internet_from_ot",
                    "high",
                    dev("hmi-1-gp3"),
                    Some(PUBLIC_DNS),
                    Some(Protocol::Dns),
                    None,
                    None,
                    format!("hmi-1-gp3 sends DNS straight to the public resolver {PUBLIC_DNS}"),
                );
            }
            Attack::ZoneViolation => {
                push(
                    "zone_violation",
                    "high",
                    dev("pc-02"),
                    m340ip,
                    Some(Protocol::Modbus),
                    None,
                    None,
                    "office PC pc-02 reads plc-1-m340 over Modbus/TCP (office to line 1: no conduit)".into(),
                );
                push(
                    "new_comm",
                    "medium",
                    dev("pc-02"),
                    m340ip,
                    Some(Protocol::Modbus),
                    None,
                    None,
                    "first Modbus/TCP conversation between pc-02 and plc-1-m340".into(),
                );
            }
        }
    }
    out
}
