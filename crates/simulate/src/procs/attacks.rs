//! The incident day's attacks, each a process that runs once at its scheduled time.
//!
//! Most of them come from one rogue laptop plugged into line 1's switch.

use std::net::Ipv4Addr;

use mamori_wire::Timestamp;
use mamori_wire::build::ArpSpec;
use mamori_wire::decode::MacAddr;

use super::Process;
use super::office::resolve_via;
use super::poll::session;
use crate::net::{Ctx, Host, MS, SEC, Tcp, US, ephemeral_port};
use crate::plant::{Plant, Role, mac_for, oui, zone_line};
use crate::proto::{Dialect, Op, modbus, nbns, s7, web};
use crate::rng::Rng;
use crate::{Attack, AttackTiming};

/// The rogue laptop's MAC (a Lenovo ThinkPad's LCFC OUI, new to the plant).
pub(crate) fn laptop_mac() -> MacAddr {
    mac_for(oui::LCFC, "rogue-laptop")
}

/// The rogue laptop's address on line 1.
pub(crate) fn laptop_ip(plant: &Plant) -> Ipv4Addr {
    let z = &plant.zones[zone_line(1)];
    Ipv4Addr::from(u32::from(z.network) | 200)
}

/// The internet address the HMI talks to.
pub(crate) const HMI_PEER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 77);
/// The public resolver the HMI asks.
pub(crate) const PUBLIC_DNS: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 53);

/// How long each attack's traffic lasts (its ground-truth window). With packed
/// timing the volume spike is cut to the spacing.
pub(crate) fn duration(a: Attack, timing: AttackTiming) -> i64 {
    if let (Attack::VolumeSpike, AttackTiming::Packed { spacing_secs, .. }) = (a, timing) {
        return i64::from(spacing_secs.max(1)) * SEC;
    }
    match a {
        Attack::NewLaptop => 10 * SEC,
        Attack::Reconnaissance => 90 * SEC,
        Attack::RogueWrites => 30 * SEC,
        Attack::PlcStop => 10 * SEC,
        Attack::ProgramDownload => 20 * SEC,
        Attack::ArpSpoof => 60 * SEC,
        Attack::VolumeSpike => 10 * 60 * SEC,
        Attack::DgaDns => 75 * SEC,
        Attack::InternetFromHmi => 20 * SEC,
        Attack::ZoneViolation => 20 * SEC,
    }
}

/// One scheduled attack.
pub(crate) struct AttackProc {
    attack: Attack,
    buf: Vec<u8>,
    rng: Rng,
}

impl AttackProc {
    pub(crate) fn new(attack: Attack, rng: Rng) -> Self {
        AttackProc {
            attack,
            buf: Vec::with_capacity(512),
            rng,
        }
    }
}

fn laptop(cx: &Ctx<'_, '_>) -> Host {
    cx.visitor(laptop_mac(), laptop_ip(cx.plant), zone_line(1), 64, 0)
}

impl Process for AttackProc {
    fn wake(&mut self, now: Timestamp, cx: &mut Ctx<'_, '_>) -> Option<Timestamp> {
        let p = cx.plant;
        let rng = &mut self.rng;
        let lap = laptop(cx);
        let plc_s7 = cx.host(p.line_device(1, Role::Plc, "s7"));
        let m340 = cx.host(p.line_device(1, Role::Plc, "m340"));
        match self.attack {
            Attack::NewLaptop => {
                let mut t = now;
                for _ in 0..3 {
                    cx.arp(t, lap.vlan, &ArpSpec::gratuitous(lap.mac, lap.ip));
                    t = t.plus_nanos(rng.range(200 * MS, 600 * MS));
                }
                for _ in 0..3 {
                    self.buf.clear();
                    nbns::registration(&mut self.buf, rng.u16(), "THINKPAD-X1", lap.ip);
                    cx.udp_broadcast(t, &lap, 137, lap.broadcast(), 137, &self.buf);
                    t = t.plus_nanos(750 * MS);
                }
                cx.arp_exchange(t, &lap, &cx.gateway_of(&lap), rng.range(100 * US, 500 * US));
            }
            Attack::Reconnaissance => {
                // ARP sweep of the /24.
                let mut t = now;
                let mut alive = Vec::new();
                for host in 1..=254u32 {
                    let ip = Ipv4Addr::from(lap.net | host);
                    if ip == lap.ip {
                        continue;
                    }
                    cx.arp(t, lap.vlan, &ArpSpec::request(lap.mac, lap.ip, ip));
                    if let Some(d) = p.devices.iter().position(|d| d.ip == ip) {
                        let h = cx.host(d);
                        let r = ArpSpec::reply(h.mac, h.ip, lap.mac, lap.ip);
                        cx.arp(t.plus_nanos(rng.range(100 * US, 2 * MS)), h.vlan, &r);
                        alive.push(d);
                    } else if host == 1 {
                        let gw = cx.gateway_of(&lap);
                        let r = ArpSpec::reply(gw.mac, gw.ip, lap.mac, lap.ip);
                        cx.arp(t.plus_nanos(rng.range(100 * US, 2 * MS)), gw.vlan, &r);
                    }
                    t = t.plus_nanos(rng.range(8 * MS, 15 * MS));
                }
                // SYN scan of common and industrial ports on every live host.
                const PORTS: [u16; 16] = [
                    21, 22, 23, 80, 102, 443, 445, 502, 1911, 2222, 2404, 4840, 5007, 20000, 44818,
                    3389,
                ];
                t = t.plus_nanos(3 * SEC);
                for d in alive {
                    let h = cx.host(d);
                    let serves = &p.devices[d].serves;
                    for port in PORTS {
                        let open = serves.iter().any(|pr| match pr {
                            crate::Protocol::Modbus => port == 502,
                            crate::Protocol::S7comm => port == 102,
                            crate::Protocol::Enip => port == 44818,
                            crate::Protocol::Slmp => port == 5007,
                            _ => false,
                        }) || (port == 80 && p.devices[d].role == Role::Plc);
                        let sport = 40000 + rng.below(20000) as u16;
                        let mut tcp =
                            Tcp::new(lap, h, sport, port, rng.range(80 * US, 200 * US), rng);
                        tcp.probe(cx, t, open);
                        t = t.plus_nanos(rng.range(2 * MS, 6 * MS));
                    }
                }
            }
            Attack::RogueWrites => {
                let mut m = modbus::Modbus::new(rng, (0, 20));
                let mut tcp = Tcp::new(lap, m340, ephemeral_port(rng, false), 502, 150 * US, rng);
                let mut t = tcp.connect(cx, now);
                t = m.op(Op::Read, &mut tcp, cx, t.plus_nanos(MS), rng);
                for i in 0..12u16 {
                    t = t.plus_nanos(rng.range(500 * MS, 2 * SEC));
                    t = modbus::raw_exchange(
                        &mut m,
                        &mut tcp,
                        cx,
                        t,
                        rng,
                        |req, resp, tid, unit| {
                            if i == 11 {
                                // The last write misses the register map.
                                modbus::write_single(req, tid, unit, 9000, 1);
                                modbus::exception(resp, tid, unit, 6, 2);
                            } else if i % 3 == 0 {
                                let vals = [0xffff, 0, 0xffff, 0];
                                modbus::write_multiple_req(req, tid, unit, 0, &vals);
                                modbus::write_multiple_resp(resp, tid, unit, 0, 4);
                            } else {
                                modbus::write_single(req, tid, unit, 40 + i, 9999);
                                resp.extend_from_slice(req);
                            }
                        },
                    );
                }
                tcp.close(cx, t.plus_nanos(50 * MS));
            }
            Attack::PlcStop => {
                let mut d = s7::S7::new(rng, s7::TSAP_PG);
                session(
                    cx,
                    now,
                    lap,
                    plc_s7,
                    &mut d,
                    &[Op::Diagnostic, Op::Control],
                    700 * MS,
                    rng,
                );
            }
            Attack::ProgramDownload => {
                let ews = cx.host(p.idx("ews01"));
                let mut d = s7::S7::new(rng, s7::TSAP_PG);
                session(
                    cx,
                    now,
                    ews,
                    plc_s7,
                    &mut d,
                    &[Op::Identify, Op::Program],
                    900 * MS,
                    rng,
                );
            }
            Attack::ArpSpoof => {
                // Tell the PLC and the HMI that the gateway is at the laptop's MAC.
                let gw = cx.gateway_of(&lap);
                let hmi = cx.host(p.line_device(1, Role::Hmi, "tp1"));
                let mut t = now;
                while t < now
                    .plus_nanos(duration(Attack::ArpSpoof, AttackTiming::Daytime) - 2 * SEC)
                {
                    for victim in [plc_s7, hmi] {
                        let lie = ArpSpec::reply(lap.mac, gw.ip, victim.mac, victim.ip);
                        cx.arp(t, lap.vlan, &lie);
                    }
                    t = t.plus_nanos(rng.range(1900 * MS, 2100 * MS));
                }
            }
            Attack::VolumeSpike => {
                // Done by the SCADA poller of line 1's M340 (a burst schedule).
            }
            Attack::DgaDns => {
                let pc = cx.host(p.idx("pc-03"));
                let dc = cx.host(p.idx("dc01"));
                let mut t = now;
                for _ in 0..40 {
                    let mut name = String::with_capacity(24);
                    for _ in 0..rng.range(12, 18) {
                        let c = rng.below(36) as u8;
                        name.push(if c < 26 {
                            (b'a' + c) as char
                        } else {
                            (b'0' + c - 26) as char
                        });
                    }
                    const TLDS: [&str; 4] = [".com", ".net", ".info", ".top"];
                    let tld = TLDS[rng.below(4) as usize];
                    name.push_str(tld);
                    resolve_via(cx, t, &pc, &dc, &name, None, &mut self.buf, rng);
                    t = t.plus_nanos(rng.range(500 * MS, 1500 * MS));
                }
            }
            Attack::InternetFromHmi => {
                let hmi = cx.host(p.line_device(1, Role::Hmi, "gp3"));
                let dns = cx.external(PUBLIC_DNS, 57);
                let peer = cx.external(HMI_PEER, 52);
                cx.arp_exchange(now, &hmi, &cx.gateway_of(&hmi), 300 * US);
                let name = "update.remote-support.example.net";
                let t = super::background::lookup(
                    cx,
                    now.plus_nanos(MS),
                    &hmi,
                    &dns,
                    name,
                    Some(HMI_PEER),
                    &mut self.buf,
                    rng,
                )
                .plus_nanos(25 * MS);
                let mut tcp = Tcp::new(hmi, peer, ephemeral_port(rng, true), 443, 12 * MS, rng);
                let mut t = tcp.connect(cx, t);
                self.buf.clear();
                web::client_hello(&mut self.buf, name, rng);
                let mut resp = Vec::with_capacity(4096);
                web::server_flight(&mut resp, rng, 3100);
                t = tcp.exchange(cx, t, &self.buf, &resp, 5 * MS, 40 * US);
                self.buf.clear();
                web::client_finish(&mut self.buf, rng);
                web::app_data(&mut self.buf, rng, 700);
                resp.clear();
                web::app_data(&mut resp, rng, 12_000);
                t = tcp.exchange(cx, t.plus_nanos(MS), &self.buf, &resp, 30 * MS, 40 * US);
                tcp.close(cx, t.plus_nanos(2 * SEC));
            }
            Attack::ZoneViolation => {
                let pc = cx.host(p.idx("pc-02"));
                let mut d = modbus::Modbus::new(rng, (0, 20));
                session(
                    cx,
                    now,
                    pc,
                    m340,
                    &mut d,
                    &[Op::Read, Op::Read, Op::Read],
                    SEC,
                    rng,
                );
            }
        }
        None
    }
}
