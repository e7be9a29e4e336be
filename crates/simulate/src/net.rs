//! From "host A sends B these bytes" to frames in the capture file.
//!
//! [`Emitter`] owns the capture writer. Processes hand it frames stamped with any
//! time at or after the scheduler's current time; it keeps them in a small reorder
//! heap and writes them out in time order once the scheduler has moved past them.
//! Frame buffers come from a pool, so the steady state allocates nothing.
//!
//! [`Host`] says how a node appears on the wire; [`Ctx::ip`] picks the layer-2
//! addresses the way a SPAN port on the core switch sees them: a plant sender's own
//! MAC and VLAN, the receiver's MAC when both share a subnet and the router's MAC
//! when the packet is routed; packets from the internet arrive from the router.
//! [`Tcp`] keeps the sequence numbers of one connection.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr};

use mamori_wire::Timestamp;
use mamori_wire::build::{self, EthernetSpec, L4};
use mamori_wire::capture::writer::{CaptureWriter, WriteFormat};
use mamori_wire::decode::{MacAddr, TcpFlags};

use crate::plant::Plant;
use crate::rng::Rng;

/// Nanoseconds per microsecond, millisecond, second.
pub(crate) const US: i64 = 1_000;
pub(crate) const MS: i64 = 1_000_000;
pub(crate) const SEC: i64 = 1_000_000_000;

/// TCP maximum segment size used by every simulated stack.
pub(crate) const MSS: usize = 1460;

/// Writes frames in time order.
pub(crate) struct Emitter<'w> {
    writer: CaptureWriter<BufWriter<Box<dyn Write + 'w>>>,
    pending: BinaryHeap<Reverse<(i64, u64, u32)>>,
    bufs: Vec<Vec<u8>>,
    free: Vec<u32>,
    seq: u64,
    start: Timestamp,
    end: Timestamp,
    per_packet_overhead: u64,
    limit: Option<u64>,
    /// Frames written.
    pub(crate) packets: u64,
    /// Bytes written to the file so far (headers included).
    pub(crate) file_bytes: u64,
}

impl<'w> Emitter<'w> {
    pub(crate) fn new(
        out: Box<dyn Write + 'w>,
        format: WriteFormat,
        start: Timestamp,
        end: Timestamp,
        limit: Option<u64>,
    ) -> io::Result<Self> {
        let writer = CaptureWriter::new(
            BufWriter::with_capacity(1 << 20, out),
            format,
            mamori_wire::LinkType::ETHERNET,
        )?;
        let (header, per_packet_overhead) = match format {
            WriteFormat::PcapNg => (60, 32),
            _ => (24, 16),
        };
        Ok(Emitter {
            writer,
            pending: BinaryHeap::new(),
            bufs: Vec::new(),
            free: Vec::new(),
            seq: 0,
            start,
            end,
            per_packet_overhead,
            limit,
            packets: 0,
            file_bytes: header,
        })
    }

    /// Queues one frame built by `build` at `ts`. Frames outside the simulated
    /// window are not built at all.
    pub(crate) fn frame(&mut self, ts: Timestamp, build: impl FnOnce(&mut Vec<u8>)) {
        if ts < self.start || ts >= self.end {
            return;
        }
        let idx = match self.free.pop() {
            Some(i) => i,
            None => {
                self.bufs.push(Vec::with_capacity(256));
                (self.bufs.len() - 1) as u32
            }
        };
        let buf = &mut self.bufs[idx as usize];
        buf.clear();
        build(buf);
        self.seq += 1;
        self.pending.push(Reverse((ts.0, self.seq, idx)));
    }

    /// Writes every queued frame stamped at or before `now`.
    pub(crate) fn flush_until(&mut self, now: Timestamp) -> io::Result<()> {
        while let Some(Reverse((ts, _, idx))) = self.pending.peek().copied() {
            if ts > now.0 {
                break;
            }
            self.pending.pop();
            let buf = &self.bufs[idx as usize];
            self.writer.write_packet(Timestamp(ts), buf)?;
            self.packets += 1;
            self.file_bytes += self.per_packet_overhead + ((buf.len() as u64 + 3) & !3);
            self.free.push(idx);
        }
        Ok(())
    }

    /// Whether the byte limit has been reached.
    pub(crate) fn full(&self) -> bool {
        self.limit.is_some_and(|l| self.file_bytes >= l)
    }

    /// Writes everything still queued and flushes the file.
    pub(crate) fn finish(mut self) -> io::Result<(u64, u64)> {
        self.flush_until(Timestamp::MAX)?;
        let mut inner = self.writer.finish()?;
        inner.flush()?;
        Ok((self.packets, self.file_bytes))
    }
}

/// How one node appears on the wire.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Host {
    /// Its MAC (for internet hosts: unused, the router's MAC appears instead).
    pub(crate) mac: MacAddr,
    /// Its address.
    pub(crate) ip: Ipv4Addr,
    /// VLAN of its access port.
    pub(crate) vlan: Option<u16>,
    /// Initial TTL of its stack (already decremented for internet hosts).
    pub(crate) ttl: u8,
    /// Subnet network address and mask.
    pub(crate) net: u32,
    pub(crate) mask: u32,
    /// Whether it lies outside the plant.
    pub(crate) external: bool,
    /// Slot of its IP identification counter in [`Ctx`].
    pub(crate) slot: usize,
}

impl Host {
    /// Whether `other` is on the same subnet (so frames go straight to its MAC).
    pub(crate) fn same_subnet(&self, other: &Host) -> bool {
        !self.external && !other.external && u32::from(other.ip) & self.mask == self.net
    }

    /// The subnet's broadcast address.
    pub(crate) fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.net | !self.mask)
    }
}

/// Simulation-wide state shared by all processes.
pub(crate) struct Ctx<'p, 'w> {
    pub(crate) plant: &'p Plant,
    pub(crate) out: Emitter<'w>,
    ip_ids: Vec<u16>,
    /// A random stream for things that belong to no process (IP ids of internet hosts).
    rng: Rng,
}

impl<'p, 'w> Ctx<'p, 'w> {
    pub(crate) fn new(plant: &'p Plant, out: Emitter<'w>, seed: u64) -> Self {
        let mut rng = Rng::derive(seed, "ip-ids", 0);
        let ip_ids = (0..plant.devices.len() + 64).map(|_| rng.u16()).collect();
        Ctx {
            plant,
            out,
            ip_ids,
            rng,
        }
    }

    /// The [`Host`] of plant device `idx`.
    pub(crate) fn host(&self, idx: usize) -> Host {
        let d = &self.plant.devices[idx];
        let z = &self.plant.zones[d.zone];
        let mask = u32::MAX << (32 - u32::from(z.prefix));
        Host {
            mac: d.mac,
            ip: d.ip,
            vlan: Some(d.vlan),
            ttl: d.ttl,
            net: u32::from(z.network) & mask,
            mask,
            external: false,
            slot: idx,
        }
    }

    /// A node that is not in the plant's device list but sits in zone `zone`
    /// (a visitor such as a rogue laptop). `slot` picks its IP id counter (0..64).
    pub(crate) fn visitor(
        &self,
        mac: MacAddr,
        ip: Ipv4Addr,
        zone: usize,
        ttl: u8,
        slot: usize,
    ) -> Host {
        let z = &self.plant.zones[zone];
        let mask = u32::MAX << (32 - u32::from(z.prefix));
        Host {
            mac,
            ip,
            vlan: Some(z.vlan),
            ttl,
            net: u32::from(z.network) & mask,
            mask,
            external: false,
            slot: self.plant.devices.len() + slot.min(63),
        }
    }

    /// An internet host.
    pub(crate) fn external(&self, ip: Ipv4Addr, ttl: u8) -> Host {
        Host {
            mac: self.plant.router_mac,
            ip,
            vlan: None,
            ttl,
            net: u32::from(ip),
            mask: u32::MAX,
            external: true,
            slot: usize::MAX,
        }
    }

    fn next_ip_id(&mut self, h: &Host) -> u16 {
        match self.ip_ids.get_mut(h.slot) {
            Some(id) => {
                *id = id.wrapping_add(1);
                *id
            }
            None => self.rng.u16(),
        }
    }

    /// Ethernet addressing of a packet from `from` to `to` (see the module docs).
    pub(crate) fn l2(&self, from: &Host, to: &Host) -> EthernetSpec {
        if from.external {
            EthernetSpec {
                src: self.plant.router_mac,
                dst: to.mac,
                vlan: to.vlan,
            }
        } else {
            EthernetSpec {
                src: from.mac,
                dst: if from.same_subnet(to) {
                    to.mac
                } else {
                    self.plant.router_mac
                },
                vlan: from.vlan,
            }
        }
    }

    /// Emits an IPv4 packet from `from` to `to`.
    pub(crate) fn ip(&mut self, ts: Timestamp, from: &Host, to: &Host, l4: &L4<'_>) {
        let eth = self.l2(from, to);
        self.ip_with_eth(ts, &eth, from, to.ip, l4);
    }

    /// Emits an IPv4 packet with explicit Ethernet addressing (broadcasts).
    pub(crate) fn ip_with_eth(
        &mut self,
        ts: Timestamp,
        eth: &EthernetSpec,
        from: &Host,
        dst: Ipv4Addr,
        l4: &L4<'_>,
    ) {
        let id = self.next_ip_id(from);
        let (src, ttl) = (from.ip, from.ttl);
        self.out.frame(ts, |buf| {
            build::ip_frame(buf, eth, IpAddr::V4(src), IpAddr::V4(dst), ttl, id, l4);
        });
    }

    /// Emits a UDP datagram.
    pub(crate) fn udp(
        &mut self,
        ts: Timestamp,
        from: &Host,
        sport: u16,
        to: &Host,
        dport: u16,
        payload: &[u8],
    ) {
        self.ip(
            ts,
            from,
            to,
            &L4::Udp {
                src_port: sport,
                dst_port: dport,
                payload,
            },
        );
    }

    /// Emits a UDP broadcast to `dst` (the subnet's or the limited broadcast).
    pub(crate) fn udp_broadcast(
        &mut self,
        ts: Timestamp,
        from: &Host,
        sport: u16,
        dst: Ipv4Addr,
        dport: u16,
        payload: &[u8],
    ) {
        let eth = EthernetSpec {
            src: from.mac,
            dst: MacAddr::BROADCAST,
            vlan: from.vlan,
        };
        self.ip_with_eth(
            ts,
            &eth,
            from,
            dst,
            &L4::Udp {
                src_port: sport,
                dst_port: dport,
                payload,
            },
        );
    }

    /// Emits a frame with any EtherType (LLDP, PROFINET DCP, ...).
    pub(crate) fn raw(&mut self, ts: Timestamp, eth: &EthernetSpec, ether_type: u16, body: &[u8]) {
        self.out.frame(ts, |buf| {
            build::ethernet_frame(buf, eth, ether_type, body);
        });
    }

    /// Emits an ARP packet.
    pub(crate) fn arp(&mut self, ts: Timestamp, vlan: Option<u16>, arp: &build::ArpSpec) {
        self.out.frame(ts, |buf| build::arp_frame(buf, vlan, arp));
    }

    /// `who-has target tell from`, answered by `target` after `delay`.
    pub(crate) fn arp_exchange(&mut self, ts: Timestamp, from: &Host, target: &Host, delay: i64) {
        self.arp(
            ts,
            from.vlan,
            &build::ArpSpec::request(from.mac, from.ip, target.ip),
        );
        self.arp(
            ts.plus_nanos(delay),
            target.vlan,
            &build::ArpSpec::reply(target.mac, target.ip, from.mac, from.ip),
        );
    }

    /// ARP for whatever `from` needs to reach `to`: `to` itself on the same subnet,
    /// else the gateway (answered by the core switch).
    pub(crate) fn arp_for(&mut self, ts: Timestamp, from: &Host, to: &Host, delay: i64) {
        if from.external {
            return;
        }
        if from.same_subnet(to) {
            self.arp_exchange(ts, from, to, delay);
        } else {
            let gw = self.gateway_of(from);
            self.arp_exchange(ts, from, &gw, delay);
        }
    }

    /// The core switch as it appears on `h`'s subnet.
    pub(crate) fn gateway_of(&self, h: &Host) -> Host {
        Host {
            mac: self.plant.router_mac,
            ip: Ipv4Addr::from(h.net | 1),
            vlan: h.vlan,
            ttl: 255,
            net: h.net,
            mask: h.mask,
            external: false,
            slot: self.plant.idx("core-sw"),
        }
    }
}

/// One TCP connection's state.
#[derive(Debug, Clone)]
pub(crate) struct Tcp {
    /// The client (active opener).
    pub(crate) c: Host,
    /// The server.
    pub(crate) s: Host,
    pub(crate) cport: u16,
    pub(crate) sport: u16,
    cseq: u32,
    sseq: u32,
    cwin: u16,
    swin: u16,
    /// One-way latency in nanoseconds.
    pub(crate) lat: i64,
}

const SYN_OPTIONS: [u8; 4] = [2, 4, (MSS >> 8) as u8, (MSS & 0xff) as u8];

impl Tcp {
    /// A connection about to be opened, with random initial sequence numbers.
    pub(crate) fn new(c: Host, s: Host, cport: u16, sport: u16, lat: i64, rng: &mut Rng) -> Tcp {
        Tcp {
            c,
            s,
            cport,
            sport,
            cseq: rng.u32(),
            sseq: rng.u32(),
            cwin: 64240,
            swin: if s.external { 65535 } else { 8192 },
            lat,
        }
    }

    fn seg(
        &mut self,
        cx: &mut Ctx<'_, '_>,
        ts: Timestamp,
        from_client: bool,
        flags: u8,
        data: &[u8],
    ) {
        let syn = flags & TcpFlags::SYN != 0;
        let (from, to, sp, dp, seq, ack, win) = if from_client {
            (
                self.c, self.s, self.cport, self.sport, self.cseq, self.sseq, self.cwin,
            )
        } else {
            (
                self.s, self.c, self.sport, self.cport, self.sseq, self.cseq, self.swin,
            )
        };
        let ack = if flags & TcpFlags::ACK != 0 { ack } else { 0 };
        cx.ip(
            ts,
            &from,
            &to,
            &L4::Tcp {
                src_port: sp,
                dst_port: dp,
                seq,
                ack,
                flags,
                window: win,
                options: if syn { &SYN_OPTIONS } else { &[] },
                payload: data,
            },
        );
        let advance = data.len() as u32 + u32::from(syn) + u32::from(flags & TcpFlags::FIN != 0);
        if from_client {
            self.cseq = self.cseq.wrapping_add(advance);
        } else {
            self.sseq = self.sseq.wrapping_add(advance);
        }
    }

    /// SYN, SYN-ACK, ACK starting at `t`; returns the time of the final ACK.
    pub(crate) fn connect(&mut self, cx: &mut Ctx<'_, '_>, t: Timestamp) -> Timestamp {
        self.seg(cx, t, true, TcpFlags::SYN, &[]);
        let t1 = t.plus_nanos(self.lat + 40 * US);
        self.seg(cx, t1, false, TcpFlags::SYN | TcpFlags::ACK, &[]);
        let t2 = t1.plus_nanos(self.lat + 30 * US);
        self.seg(cx, t2, true, TcpFlags::ACK, &[]);
        t2
    }

    /// A SYN answered by RST (closed port) or SYN-ACK then the scanner's RST
    /// (open port). Returns the time of the last packet.
    pub(crate) fn probe(&mut self, cx: &mut Ctx<'_, '_>, t: Timestamp, open: bool) -> Timestamp {
        self.seg(cx, t, true, TcpFlags::SYN, &[]);
        let t1 = t.plus_nanos(self.lat + 50 * US);
        if open {
            self.seg(cx, t1, false, TcpFlags::SYN | TcpFlags::ACK, &[]);
            let t2 = t1.plus_nanos(self.lat + 20 * US);
            self.seg(cx, t2, true, TcpFlags::RST, &[]);
            t2
        } else {
            self.seg(cx, t1, false, TcpFlags::RST | TcpFlags::ACK, &[]);
            t1
        }
    }

    /// Sends `data` (split into MSS-sized segments 12 µs apart, PSH on the last);
    /// returns the time of the last segment.
    pub(crate) fn send(
        &mut self,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        from_client: bool,
        data: &[u8],
    ) -> Timestamp {
        let mut ts = t;
        let n = data.len().div_ceil(MSS).max(1);
        for (i, chunk) in data.chunks(MSS).enumerate() {
            let flags = if i + 1 == n {
                TcpFlags::PSH | TcpFlags::ACK
            } else {
                TcpFlags::ACK
            };
            self.seg(cx, ts, from_client, flags, chunk);
            if i + 1 < n {
                ts = ts.plus_nanos(12 * US);
            }
        }
        ts
    }

    /// A pure ACK.
    pub(crate) fn ack(&mut self, cx: &mut Ctx<'_, '_>, t: Timestamp, from_client: bool) {
        self.seg(cx, t, from_client, TcpFlags::ACK, &[]);
    }

    /// Request, response after `think` nanoseconds of server time, and the client's
    /// ACK `ack_delay` later. Returns the time of that ACK.
    pub(crate) fn exchange(
        &mut self,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        req: &[u8],
        resp: &[u8],
        think: i64,
        ack_delay: i64,
    ) -> Timestamp {
        let t1 = self.send(cx, t, true, req);
        let t2 = self.send(cx, t1.plus_nanos(self.lat + think), false, resp);
        let t3 = t2.plus_nanos(self.lat + ack_delay);
        self.ack(cx, t3, true);
        t3
    }

    /// Server-initiated request on the same connection (S7 download blocks,
    /// IEC 104 spontaneous data): server sends, client answers after `think`.
    /// Returns the time of the client's answer.
    pub(crate) fn reverse_exchange(
        &mut self,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        req: &[u8],
        resp: &[u8],
        think: i64,
    ) -> Timestamp {
        let t1 = self.send(cx, t, false, req);
        self.send(cx, t1.plus_nanos(self.lat + think), true, resp)
    }

    /// Orderly close started by the client: FIN, FIN, ACK.
    pub(crate) fn close(&mut self, cx: &mut Ctx<'_, '_>, t: Timestamp) -> Timestamp {
        self.seg(cx, t, true, TcpFlags::FIN | TcpFlags::ACK, &[]);
        let t1 = t.plus_nanos(self.lat + 60 * US);
        self.seg(cx, t1, false, TcpFlags::FIN | TcpFlags::ACK, &[]);
        let t2 = t1.plus_nanos(self.lat + 30 * US);
        self.seg(cx, t2, true, TcpFlags::ACK, &[]);
        t2
    }
}

/// A client's ephemeral port, from the range its operating system uses.
pub(crate) fn ephemeral_port(rng: &mut Rng, windows: bool) -> u16 {
    if windows {
        49152 + rng.below(16383) as u16
    } else {
        32768 + rng.below(28231) as u16
    }
}
