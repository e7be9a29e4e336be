//! Office PCs: boot in the morning (DHCP, gratuitous ARP, NetBIOS registration, the
//! Windows connectivity check over HTTP), browse a fixed set of internet sites over
//! TLS during office hours, look at historian reports, renew the lease, shut down.

use std::net::Ipv4Addr;

use mamori_wire::Timestamp;
use mamori_wire::build::ArpSpec;

use super::Process;
use crate::clock;
use crate::net::{Ctx, Host, MS, SEC, Tcp, US, ephemeral_port};
use crate::plant::DOMAIN;
use crate::proto::{dhcp, nbns, web};
use crate::rng::Rng;

/// The internet resolver the office DNS server forwards to.
pub(crate) const FORWARDER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 53);

/// Sites office PCs visit (name, address, uses plain HTTP).
pub(crate) const SITES: [(&str, Ipv4Addr, bool); 8] = [
    (
        "login.microsoftonline.com",
        Ipv4Addr::new(198, 51, 100, 20),
        false,
    ),
    (
        "outlook.office365.com",
        Ipv4Addr::new(198, 51, 100, 21),
        false,
    ),
    (
        "teams.microsoft.com",
        Ipv4Addr::new(198, 51, 100, 22),
        false,
    ),
    (
        "ctldl.windowsupdate.com",
        Ipv4Addr::new(198, 51, 100, 30),
        true,
    ),
    ("www.google.com", Ipv4Addr::new(203, 0, 113, 31), false),
    ("www.yahoo.co.jp", Ipv4Addr::new(203, 0, 113, 40), false),
    ("www.jma.go.jp", Ipv4Addr::new(203, 0, 113, 41), false),
    (
        "supplier-portal.example.com",
        Ipv4Addr::new(203, 0, 113, 60),
        false,
    ),
];

/// The Windows network connectivity check.
const NCSI: (&str, Ipv4Addr) = ("www.msftconnecttest.com", Ipv4Addr::new(198, 51, 100, 10));

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Off,
    On,
}

/// One office PC.
pub(crate) struct OfficePc {
    dev: usize,
    dc: usize,
    hist: usize,
    index: usize,
    state: State,
    planned_boot: Timestamp,
    order: Vec<usize>,
    next_site: usize,
    renew_at: Timestamp,
    shutdown_at: Timestamp,
    reports_done: u8,
    buf: Vec<u8>,
    resp: Vec<u8>,
    rng: Rng,
}

impl OfficePc {
    pub(crate) fn new(dev: usize, dc: usize, hist: usize, index: usize, rng: Rng) -> Self {
        // Every PC visits the same sites in its own fixed order, so the set of
        // sites seen in a day does not depend on the seed.
        let order: Vec<usize> = (0..SITES.len())
            .map(|i| (i + 3 * index) % SITES.len())
            .collect();
        OfficePc {
            dev,
            dc,
            hist,
            index,
            state: State::Off,
            planned_boot: Timestamp::MAX,
            order,
            next_site: 0,
            renew_at: Timestamp::MAX,
            shutdown_at: Timestamp::MAX,
            reports_done: 0,
            buf: Vec::with_capacity(512),
            resp: Vec::with_capacity(4096),
            rng,
        }
    }

    /// When this PC boots on the day of `t`.
    pub(crate) fn boot_time(&mut self, t: Timestamp) -> Timestamp {
        let minute = 7 * 60 + 50 + (self.index as i64 * 8) % 50;
        clock::at(t, 0, minute).plus_nanos(self.rng.range(-120, 120) * SEC)
    }

    fn next_boot(&mut self, now: Timestamp) -> Timestamp {
        let mut day = now;
        for _ in 0..8 {
            let b = self.boot_time(day);
            if b > now && clock::is_workday(b) {
                return b;
            }
            day = clock::midnight(day).plus_secs(clock::DAY + 60);
        }
        Timestamp::MAX
    }

    fn dhcp_msg<'a>(
        &self,
        me: &Host,
        kind: u8,
        xid: u32,
        renew: bool,
        dc: Ipv4Addr,
        hostname: &'a str,
    ) -> dhcp::Msg<'a> {
        let gw = Ipv4Addr::from(me.net | 1);
        let from_client = matches!(kind, dhcp::DISCOVER | dhcp::REQUEST);
        dhcp::Msg {
            kind,
            xid,
            secs: 0,
            broadcast: !renew,
            client_mac: me.mac,
            ciaddr: if renew { me.ip } else { Ipv4Addr::UNSPECIFIED },
            yiaddr: if from_client {
                Ipv4Addr::UNSPECIFIED
            } else {
                me.ip
            },
            requested: if from_client && !renew {
                Some(me.ip)
            } else {
                None
            },
            hostname: if from_client { hostname } else { "" },
            server: if from_client && (renew || kind == dhcp::DISCOVER) {
                None
            } else {
                Some(dc)
            },
            router: gw,
            dns: dc,
            lease_secs: 8 * 3600,
            domain: DOMAIN,
        }
    }

    fn boot(&mut self, now: Timestamp, cx: &mut Ctx<'_, '_>) -> Timestamp {
        let me = cx.host(self.dev);
        let dc = cx.host(self.dc);
        let name = cx.plant.devices[self.dev].name.to_uppercase();
        let xid = self.rng.u32();
        let unbound = Host {
            ip: Ipv4Addr::UNSPECIFIED,
            ..me
        };
        let mut t = now;
        for kind in [dhcp::DISCOVER, dhcp::OFFER, dhcp::REQUEST, dhcp::ACK] {
            self.buf.clear();
            let m = self.dhcp_msg(&me, kind, xid, false, dc.ip, &name);
            dhcp::message(&mut self.buf, &m);
            if matches!(kind, dhcp::DISCOVER | dhcp::REQUEST) {
                cx.udp_broadcast(t, &unbound, 68, Ipv4Addr::BROADCAST, 67, &self.buf);
            } else {
                cx.udp_broadcast(t, &dc, 67, Ipv4Addr::BROADCAST, 68, &self.buf);
            }
            t = t.plus_nanos(self.rng.range(MS, 30 * MS));
        }
        // Duplicate address probe, then announcement.
        for _ in 0..2 {
            cx.arp(t, me.vlan, &ArpSpec::gratuitous(me.mac, me.ip));
            t = t.plus_nanos(self.rng.range(300 * MS, 900 * MS));
        }
        cx.arp_exchange(
            t,
            &me,
            &cx.gateway_of(&me),
            self.rng.range(100 * US, 500 * US),
        );
        t = t.plus_nanos(5 * MS);
        for _ in 0..3 {
            self.buf.clear();
            nbns::registration(&mut self.buf, self.rng.u16(), &name, me.ip);
            cx.udp_broadcast(t, &me, 137, me.broadcast(), 137, &self.buf);
            t = t.plus_nanos(self.rng.range(700 * MS, 800 * MS));
        }
        // Connectivity check.
        let site = cx.external(NCSI.1, 52);
        t = self.resolve(cx, t, &me, NCSI.0, Some(NCSI.1));
        self.resp.clear();
        web::http_ok(&mut self.resp, "text/plain", b"Microsoft Connect Test");
        let mut req = Vec::with_capacity(128);
        web::http_get(&mut req, NCSI.0, "/connecttest.txt", "Microsoft NCSI");
        t = self.http(cx, t.plus_nanos(2 * MS), &me, &site, &req);
        // A name query for the domain controller, answered by it.
        self.buf.clear();
        let id = self.rng.u16();
        nbns::query(&mut self.buf, id, "DC01");
        cx.udp_broadcast(t, &me, 137, me.broadcast(), 137, &self.buf);
        self.buf.clear();
        nbns::positive_response(&mut self.buf, id, "DC01", dc.ip);
        cx.udp(t.plus_nanos(400 * US), &dc, 137, &me, 137, &self.buf);
        t
    }

    /// DNS lookup through the office DNS server, which forwards some queries.
    fn resolve(
        &mut self,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        me: &Host,
        name: &str,
        addr: Option<Ipv4Addr>,
    ) -> Timestamp {
        resolve_via(
            cx,
            t,
            me,
            &cx.host(self.dc),
            name,
            addr,
            &mut self.buf,
            &mut self.rng,
        )
    }

    fn http(
        &mut self,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        me: &Host,
        site: &Host,
        req: &[u8],
    ) -> Timestamp {
        let port = ephemeral_port(&mut self.rng, true);
        let lat = self.rng.range(4 * MS, 15 * MS);
        let mut tcp = Tcp::new(*me, *site, port, 80, lat, &mut self.rng);
        let t = tcp.connect(cx, t);
        let t = tcp.exchange(
            cx,
            t,
            req,
            &self.resp,
            self.rng.range(2 * MS, 20 * MS),
            40 * US,
        );
        tcp.close(cx, t.plus_nanos(MS))
    }

    fn tls(
        &mut self,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        me: &Host,
        site: &Host,
        sni: &str,
    ) -> Timestamp {
        let port = ephemeral_port(&mut self.rng, true);
        let lat = if site.external {
            self.rng.range(4 * MS, 20 * MS)
        } else {
            self.rng.range(100 * US, 400 * US)
        };
        let mut tcp = Tcp::new(*me, *site, port, 443, lat, &mut self.rng);
        let mut t = tcp.connect(cx, t);
        self.buf.clear();
        web::client_hello(&mut self.buf, sni, &mut self.rng);
        self.resp.clear();
        let enc = self.rng.range(2400, 4200) as usize;
        web::server_flight(&mut self.resp, &mut self.rng, enc);
        t = tcp.exchange(
            cx,
            t,
            &self.buf,
            &self.resp,
            self.rng.range(MS, 8 * MS),
            20 * US,
        );
        self.buf.clear();
        web::client_finish(&mut self.buf, &mut self.rng);
        let n = self.rng.range(300, 900) as usize;
        web::app_data(&mut self.buf, &mut self.rng, n);
        self.resp.clear();
        for _ in 0..self.rng.range(1, 4) {
            let n = self.rng.range(600, 9000) as usize;
            web::app_data(&mut self.resp, &mut self.rng, n);
        }
        t = tcp.exchange(
            cx,
            t.plus_nanos(MS),
            &self.buf,
            &self.resp,
            self.rng.range(5 * MS, 60 * MS),
            40 * US,
        );
        tcp.close(cx, t.plus_nanos(self.rng.range(100 * MS, 2 * SEC)))
    }

    fn browse(&mut self, now: Timestamp, cx: &mut Ctx<'_, '_>) {
        let me = cx.host(self.dev);
        let (name, addr, plain) = SITES[self.order[self.next_site % SITES.len()]];
        self.next_site += 1;
        let site = cx.external(addr, 52);
        let t = self.resolve(cx, now, &me, name, Some(addr));
        if plain {
            let mut req = Vec::with_capacity(200);
            web::http_get(
                &mut req,
                name,
                "/msdownload/update/v3/static/trustedr/en/disallowedcertstl.cab",
                "Microsoft-CryptoAPI/10.0",
            );
            self.resp.clear();
            let mut body = vec![0u8; self.rng.range(2000, 6000) as usize];
            self.rng.fill(&mut body);
            web::http_ok(&mut self.resp, "application/vnd.ms-cab-compressed", &body);
            self.http(cx, t.plus_nanos(MS), &me, &site, &req);
        } else {
            self.tls(cx, t.plus_nanos(MS), &me, &site, name);
        }
    }
}

/// Lookup from `me` through `dns` (which forwards to the internet resolver when
/// the name is not a plant name). Returns when the answer reaches `me`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn resolve_via(
    cx: &mut Ctx<'_, '_>,
    t: Timestamp,
    me: &Host,
    dns: &Host,
    name: &str,
    addr: Option<Ipv4Addr>,
    buf: &mut Vec<u8>,
    rng: &mut Rng,
) -> Timestamp {
    use crate::proto::dns as d;
    let id = rng.u16();
    let port = ephemeral_port(rng, true);
    buf.clear();
    d::query(buf, id, name, d::TYPE_A);
    cx.udp(t, me, port, dns, 53, buf);
    let mut at = t.plus_nanos(rng.range(150 * US, 600 * US));
    // The connectivity-check name has a short TTL, so it is never in the cache.
    if !name.ends_with(DOMAIN) && (addr.is_none() || name == NCSI.0 || rng.chance(0.5)) {
        let fwd = cx.external(FORWARDER, 55);
        let fid = rng.u16();
        let fport = ephemeral_port(rng, true);
        buf.clear();
        d::query(buf, fid, name, d::TYPE_A);
        cx.udp(at, dns, fport, &fwd, 53, buf);
        at = at.plus_nanos(rng.range(8 * MS, 30 * MS));
        buf.clear();
        d::answer(buf, fid, name, addr, 300);
        cx.udp(at, &fwd, 53, dns, fport, buf);
        at = at.plus_nanos(rng.range(50 * US, 300 * US));
    }
    buf.clear();
    d::answer(buf, id, name, addr, 300);
    cx.udp(at, dns, 53, me, port, buf);
    at
}

impl Process for OfficePc {
    fn wake(&mut self, now: Timestamp, cx: &mut Ctx<'_, '_>) -> Option<Timestamp> {
        match self.state {
            State::Off => {
                if self.planned_boot == Timestamp::MAX {
                    // First call: boot soon if the run starts during office hours.
                    let boot = self.boot_time(now);
                    let minute = clock::secs_of_day(now) / 60;
                    self.planned_boot = if clock::is_workday(now) && now > boot && minute < 17 * 60
                    {
                        now.plus_nanos(self.rng.range(1, 300) * SEC)
                    } else {
                        self.next_boot(now)
                    };
                    return Some(self.planned_boot);
                }
                if now < self.planned_boot {
                    return Some(self.planned_boot);
                }
                self.planned_boot = Timestamp::MIN;
                let t = self.boot(now, cx);
                self.state = State::On;
                self.renew_at = now.plus_secs(4 * 3600);
                self.reports_done = 0;
                self.shutdown_at = clock::at(now, 17, 40 + (self.index as i64 * 7) % 50)
                    .plus_nanos(self.rng.range(-600, 600) * SEC);
                Some(t.plus_nanos(self.rng.range(20, 120) * SEC))
            }
            State::On => {
                if now >= self.shutdown_at {
                    self.state = State::Off;
                    self.planned_boot = self.next_boot(now);
                    return Some(self.planned_boot);
                }
                let me = cx.host(self.dev);
                if now >= self.renew_at {
                    self.renew_at = now.plus_secs(4 * 3600);
                    let dc = cx.host(self.dc);
                    let xid = self.rng.u32();
                    self.buf.clear();
                    let name = cx.plant.devices[self.dev].name.to_uppercase();
                    let m = self.dhcp_msg(&me, dhcp::REQUEST, xid, true, dc.ip, &name);
                    dhcp::message(&mut self.buf, &m);
                    cx.udp(now, &me, 68, &dc, 67, &self.buf);
                    let ack = self.dhcp_msg(&me, dhcp::ACK, xid, true, dc.ip, "");
                    self.buf.clear();
                    dhcp::message(&mut self.buf, &ack);
                    cx.udp(
                        now.plus_nanos(self.rng.range(MS, 10 * MS)),
                        &dc,
                        67,
                        &me,
                        68,
                        &self.buf,
                    );
                    return Some(now.plus_nanos(SEC));
                }
                let minute = clock::secs_of_day(now) / 60;
                if (self.reports_done == 0 && minute >= 9 * 60 + 30)
                    || (self.reports_done == 1 && minute >= 15 * 60)
                {
                    self.reports_done += 1;
                    let hist = cx.host(self.hist);
                    let name = format!("hist01.{DOMAIN}");
                    let t = self.resolve(cx, now, &me, &name, Some(hist.ip));
                    self.tls(cx, t.plus_nanos(MS), &me, &hist, &name);
                    return Some(now.plus_nanos(self.rng.range(30, 90) * SEC));
                }
                self.browse(now, cx);
                let activity = clock::office_activity(now).max(0.1);
                let mean = 240.0 / activity;
                Some(now.plus_nanos((self.rng.exp(mean).clamp(5.0, 3600.0) * SEC as f64) as i64))
            }
        }
    }
}
