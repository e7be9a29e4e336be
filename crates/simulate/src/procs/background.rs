//! Background chatter every network has: ARP cache refreshes, LLDP from switches,
//! name lookups of the OT servers and monitoring pings.

use mamori_wire::Timestamp;
use mamori_wire::build::{EthernetSpec, L4};
use mamori_wire::decode::ethertype;

use super::Process;
use crate::net::{Ctx, Host, MS, SEC, US};
use crate::proto::{dns, lldp};
use crate::rng::Rng;

/// Whom a device keeps in its ARP cache.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Neighbour {
    /// Another device on the same subnet.
    Device(usize),
    /// The default gateway.
    Gateway,
}

/// Re-resolves a device's neighbours one at a time, every few minutes.
pub(crate) struct ArpRefresh {
    dev: usize,
    neighbours: Vec<Neighbour>,
    next: usize,
    period: i64,
    rng: Rng,
}

impl ArpRefresh {
    pub(crate) fn new(dev: usize, neighbours: Vec<Neighbour>, period: i64, rng: Rng) -> Self {
        ArpRefresh {
            dev,
            neighbours,
            next: 0,
            period,
            rng,
        }
    }
}

impl Process for ArpRefresh {
    fn wake(&mut self, now: Timestamp, cx: &mut Ctx<'_, '_>) -> Option<Timestamp> {
        if self.neighbours.is_empty() {
            return None;
        }
        let me = cx.host(self.dev);
        let target = match self.neighbours[self.next % self.neighbours.len()] {
            Neighbour::Device(d) => cx.host(d),
            Neighbour::Gateway => cx.gateway_of(&me),
        };
        self.next += 1;
        cx.arp_exchange(now, &me, &target, self.rng.range(80 * US, 900 * US));
        let per = self.period / self.neighbours.len() as i64;
        Some(now.plus_nanos(self.rng.jitter(per.max(SEC), 0.2)))
    }
}

/// LLDP advertisements of one switch every 30 seconds.
pub(crate) struct Lldp {
    dev: usize,
    ports: Vec<String>,
    desc: String,
    buf: Vec<u8>,
    rng: Rng,
}

impl Lldp {
    pub(crate) fn new(dev: usize, ports: Vec<String>, desc: String, rng: Rng) -> Self {
        Lldp {
            dev,
            ports,
            desc,
            buf: Vec::with_capacity(200),
            rng,
        }
    }
}

impl Process for Lldp {
    fn wake(&mut self, now: Timestamp, cx: &mut Ctx<'_, '_>) -> Option<Timestamp> {
        let d = &cx.plant.devices[self.dev];
        let (mac, ip, vlan, name) = (d.mac, d.ip, d.vlan, d.name.clone());
        let router = d.name == "core-sw";
        for (i, port) in self.ports.iter().enumerate() {
            self.buf.clear();
            // Each port has its own MAC, one above the chassis address.
            let mut port_mac = mac;
            port_mac.0[5] = port_mac.0[5].wrapping_add(1 + i as u8);
            lldp::lldpdu(
                &mut self.buf,
                &lldp::Advert {
                    chassis: mac,
                    port,
                    port_desc: port,
                    system_name: &name,
                    system_desc: &self.desc,
                    caps: if router { 0x0014 } else { 0x0004 },
                    mgmt: ip,
                    ttl: 120,
                },
            );
            let eth = EthernetSpec {
                src: port_mac,
                dst: lldp::MULTICAST,
                vlan: if router { None } else { Some(vlan) },
            };
            cx.raw(
                now.plus_nanos(i as i64 * 150 * US),
                &eth,
                ethertype::LLDP,
                &self.buf,
            );
        }
        Some(now.plus_nanos(30 * SEC + self.rng.range(0, 20 * MS)))
    }
}

/// A host resolving plant names through a DNS server, round-robin through `names`.
pub(crate) struct DnsLookups {
    client: usize,
    server: usize,
    names: Vec<(String, std::net::Ipv4Addr)>,
    next: usize,
    period: i64,
    buf: Vec<u8>,
    rng: Rng,
}

impl DnsLookups {
    pub(crate) fn new(
        client: usize,
        server: usize,
        names: Vec<(String, std::net::Ipv4Addr)>,
        period: i64,
        rng: Rng,
    ) -> Self {
        DnsLookups {
            client,
            server,
            names,
            next: 0,
            period,
            buf: Vec::with_capacity(128),
            rng,
        }
    }
}

impl Process for DnsLookups {
    fn wake(&mut self, now: Timestamp, cx: &mut Ctx<'_, '_>) -> Option<Timestamp> {
        if self.names.is_empty() {
            return None;
        }
        let c = cx.host(self.client);
        let s = cx.host(self.server);
        let (name, addr) = self.names[self.next % self.names.len()].clone();
        self.next += 1;
        lookup(
            cx,
            now,
            &c,
            &s,
            &name,
            Some(addr),
            &mut self.buf,
            &mut self.rng,
        );
        Some(now.plus_nanos(self.rng.jitter(self.period, 0.3)))
    }
}

/// One DNS query from `c` to `s` and its answer; returns the answer's time.
#[allow(clippy::too_many_arguments)]
pub(crate) fn lookup(
    cx: &mut Ctx<'_, '_>,
    now: Timestamp,
    c: &Host,
    s: &Host,
    name: &str,
    addr: Option<std::net::Ipv4Addr>,
    buf: &mut Vec<u8>,
    rng: &mut Rng,
) -> Timestamp {
    let id = rng.u16();
    let port = 49152 + rng.below(16000) as u16;
    buf.clear();
    dns::query(buf, id, name, dns::TYPE_A);
    cx.udp(now, c, port, s, 53, buf);
    buf.clear();
    dns::answer(buf, id, name, addr, 3600);
    let t = now.plus_nanos(rng.range(200 * US, 2 * MS));
    cx.udp(t, s, 53, c, port, buf);
    t
}

/// ICMP echo from a monitoring server to a list of devices.
pub(crate) struct Pinger {
    src: usize,
    targets: Vec<usize>,
    period: i64,
    ident: u16,
    seq: u16,
    rng: Rng,
}

impl Pinger {
    pub(crate) fn new(src: usize, targets: Vec<usize>, period: i64, mut rng: Rng) -> Self {
        Pinger {
            src,
            targets,
            period,
            ident: rng.u16(),
            seq: 0,
            rng,
        }
    }
}

impl Process for Pinger {
    fn wake(&mut self, now: Timestamp, cx: &mut Ctx<'_, '_>) -> Option<Timestamp> {
        let s = cx.host(self.src);
        let mut t = now;
        let mut body = [0u8; 36];
        for (i, &d) in self.targets.iter().enumerate() {
            let h = cx.host(d);
            self.seq = self.seq.wrapping_add(1);
            body[..2].copy_from_slice(&self.ident.to_be_bytes());
            body[2..4].copy_from_slice(&self.seq.to_be_bytes());
            for (j, b) in body[4..].iter_mut().enumerate() {
                *b = b'a' + (j % 23) as u8;
            }
            cx.ip(
                t,
                &s,
                &h,
                &L4::Icmp {
                    icmp_type: 8,
                    code: 0,
                    body: &body,
                },
            );
            let r = t.plus_nanos(self.rng.range(150 * US, 900 * US));
            cx.ip(
                r,
                &h,
                &s,
                &L4::Icmp {
                    icmp_type: 0,
                    code: 0,
                    body: &body,
                },
            );
            t = t.plus_nanos(5 * MS + i as i64 * US);
        }
        Some(now.plus_nanos(self.rng.jitter(self.period, 0.02)))
    }
}
