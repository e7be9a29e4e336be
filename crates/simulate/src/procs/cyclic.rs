//! UDP traffic on a fixed cycle: EtherNet/IP implicit I/O, CC-Link IE Field Basic
//! link scans, FINS polling and BACnet reads.

use mamori_wire::Timestamp;

use super::Process;
use crate::clock;
use crate::net::{Ctx, MS, SEC, US};
use crate::proto::{bacnet, cclink, enip, fins};
use crate::rng::Rng;

/// Class-1 I/O between a scanner (PLC) and an adapter, both directions every RPI.
pub(crate) struct EnipIo {
    scanner: usize,
    adapter: usize,
    rpi: i64,
    seq_ot: u32,
    seq_to: u32,
    conn_ot: u32,
    conn_to: u32,
    buf: Vec<u8>,
    data: [u8; 8],
    rng: Rng,
}

impl EnipIo {
    pub(crate) fn new(scanner: usize, adapter: usize, rpi: i64, mut rng: Rng) -> Self {
        EnipIo {
            scanner,
            adapter,
            rpi,
            seq_ot: rng.u32(),
            seq_to: rng.u32(),
            conn_ot: rng.u32(),
            conn_to: rng.u32(),
            buf: Vec::with_capacity(64),
            data: [0; 8],
            rng,
        }
    }
}

impl Process for EnipIo {
    fn wake(&mut self, now: Timestamp, cx: &mut Ctx<'_, '_>) -> Option<Timestamp> {
        let s = cx.host(self.scanner);
        let a = cx.host(self.adapter);
        self.seq_ot = self.seq_ot.wrapping_add(1);
        self.seq_to = self.seq_to.wrapping_add(1);
        if self.rng.chance(0.05) {
            let i = self.rng.below(8) as usize;
            self.data[i] ^= 1 << self.rng.below(8);
        }
        self.buf.clear();
        enip::io_packet(
            &mut self.buf,
            self.conn_ot,
            self.seq_ot,
            true,
            &self.data[..4],
        );
        cx.udp(now, &s, 2222, &a, 2222, &self.buf);
        self.buf.clear();
        enip::io_packet(&mut self.buf, self.conn_to, self.seq_to, false, &self.data);
        let t = now.plus_nanos(self.rng.range(200 * US, 2 * MS));
        cx.udp(t, &a, 2222, &s, 2222, &self.buf);
        Some(now.plus_nanos(self.rpi))
    }
}

/// CC-Link IE Field Basic: master request (subnet broadcast) and slave response.
pub(crate) struct Cclink {
    master: usize,
    slave: usize,
    period: i64,
    seq: u16,
    buf: Vec<u8>,
    rww: [u8; 64],
    ry: [u8; 8],
    rwr: [u8; 64],
    rx: [u8; 8],
    rng: Rng,
}

impl Cclink {
    pub(crate) fn new(master: usize, slave: usize, period: i64, mut rng: Rng) -> Self {
        let mut rwr = [0u8; 64];
        rng.fill(&mut rwr[..16]);
        Cclink {
            master,
            slave,
            period,
            seq: rng.u16(),
            buf: Vec::with_capacity(160),
            rww: [0; 64],
            ry: [0; 8],
            rwr,
            rx: [0; 8],
            rng,
        }
    }
}

impl Process for Cclink {
    fn wake(&mut self, now: Timestamp, cx: &mut Ctx<'_, '_>) -> Option<Timestamp> {
        let m = cx.host(self.master);
        let s = cx.host(self.slave);
        self.seq = self.seq.wrapping_add(1);
        if self.rng.chance(0.1) {
            self.ry[self.rng.below(4) as usize] ^= 1 << self.rng.below(8);
            self.rx[self.rng.below(4) as usize] ^= 1 << self.rng.below(8);
            let i = self.rng.below(8) as usize * 2;
            self.rwr[i] = self.rwr[i].wrapping_add(1);
        }
        self.buf.clear();
        let clock_ms = (now.0 / MS) as u64;
        cclink::request(
            &mut self.buf,
            m.ip,
            s.ip,
            self.seq,
            clock_ms,
            &self.rww,
            &self.ry,
        );
        cx.udp_broadcast(
            now,
            &m,
            cclink::MASTER_PORT,
            m.broadcast(),
            cclink::SLAVE_PORT,
            &self.buf,
        );
        self.buf.clear();
        cclink::response(&mut self.buf, s.ip, self.seq, &self.rwr, &self.rx);
        let t = now.plus_nanos(self.rng.range(300 * US, 3 * MS));
        cx.udp(
            t,
            &s,
            cclink::SLAVE_PORT,
            &m,
            cclink::MASTER_PORT,
            &self.buf,
        );
        Some(now.plus_nanos(self.period))
    }
}

/// An HMI polling an Omron controller over FINS/UDP, with operator writes and an
/// hourly status read.
pub(crate) struct FinsPoll {
    client: usize,
    server: usize,
    period: i64,
    sid: u8,
    buf: Vec<u8>,
    level: u16,
    next_write: Timestamp,
    next_status: Timestamp,
    started: bool,
    rng: Rng,
}

impl FinsPoll {
    pub(crate) fn new(client: usize, server: usize, period: i64, mut rng: Rng) -> Self {
        FinsPoll {
            client,
            server,
            period,
            sid: rng.below(256) as u8,
            buf: Vec::with_capacity(96),
            level: 300 + rng.below(100) as u16,
            next_write: Timestamp::MIN,
            next_status: Timestamp::MIN,
            started: false,
            rng,
        }
    }
}

impl Process for FinsPoll {
    fn wake(&mut self, now: Timestamp, cx: &mut Ctx<'_, '_>) -> Option<Timestamp> {
        let c = cx.host(self.client);
        let s = cx.host(self.server);
        if !self.started {
            self.started = true;
            cx.arp_for(now, &c, &s, self.rng.range(100 * US, 400 * US));
            self.next_write = now.plus_nanos(self.rng.range(60, 900) * SEC);
            self.next_status = now.plus_nanos(self.rng.range(10, 120) * SEC);
            return Some(now.plus_nanos(5 * MS));
        }
        let n = fins::Nodes {
            client: c.ip.octets()[3],
            server: s.ip.octets()[3],
        };
        self.sid = self.sid.wrapping_add(1);
        let sid = self.sid;
        self.buf.clear();
        let reply_at = now.plus_nanos(self.rng.range(MS, 6 * MS));
        if now >= self.next_status {
            self.next_status = now.plus_nanos(self.rng.jitter(3600 * SEC, 0.05));
            fins::status_req(&mut self.buf, n, sid);
            cx.udp(now, &c, 9600, &s, 9600, &self.buf);
            self.buf.clear();
            fins::status_resp(&mut self.buf, n, sid);
        } else if now >= self.next_write {
            let activity = clock::production_activity(now).max(0.05);
            let mean = 3600.0 / (4.0 * activity);
            self.next_write =
                now.plus_nanos((self.rng.exp(mean).min(14_400.0) * SEC as f64) as i64 + SEC);
            let v = [self.rng.u16() % 1000, 1];
            fins::write_req(&mut self.buf, n, sid, 200, &v);
            cx.udp(now, &c, 9600, &s, 9600, &self.buf);
            self.buf.clear();
            fins::status_only_resp(&mut self.buf, n, sid, fins::MEMORY_AREA_WRITE);
        } else {
            fins::read_req(&mut self.buf, n, sid, 100, 10);
            cx.udp(now, &c, 9600, &s, 9600, &self.buf);
            self.buf.clear();
            self.level = self
                .level
                .wrapping_add(self.rng.below(5) as u16)
                .wrapping_sub(2);
            let base = self.level;
            fins::read_resp(
                &mut self.buf,
                n,
                sid,
                (0..10u16).map(|i| base.wrapping_add(i * 11)),
            );
        }
        cx.udp(reply_at, &s, 9600, &c, 9600, &self.buf);
        Some(now.plus_nanos(self.rng.jitter(self.period, 0.05)))
    }
}

/// A BMS workstation: Who-Is every 10 minutes, ReadProperty of a few inputs.
pub(crate) struct BacnetPoll {
    client: usize,
    server: usize,
    period: i64,
    invoke: u8,
    next_who_is: Timestamp,
    buf: Vec<u8>,
    value: f32,
    rng: Rng,
}

impl BacnetPoll {
    pub(crate) fn new(client: usize, server: usize, period: i64, mut rng: Rng) -> Self {
        BacnetPoll {
            client,
            server,
            period,
            invoke: rng.below(256) as u8,
            next_who_is: Timestamp::MIN,
            buf: Vec::with_capacity(64),
            value: 21.0 + rng.f64() as f32,
            rng,
        }
    }
}

impl Process for BacnetPoll {
    fn wake(&mut self, now: Timestamp, cx: &mut Ctx<'_, '_>) -> Option<Timestamp> {
        let c = cx.host(self.client);
        let s = cx.host(self.server);
        if now >= self.next_who_is {
            self.next_who_is = now.plus_nanos(self.rng.jitter(600 * SEC, 0.02));
            self.buf.clear();
            bacnet::who_is(&mut self.buf);
            cx.udp_broadcast(now, &c, 47808, c.broadcast(), 47808, &self.buf);
            self.buf.clear();
            bacnet::i_am(&mut self.buf, 1001, 8);
            let t = now.plus_nanos(self.rng.range(2 * MS, 40 * MS));
            cx.udp_broadcast(t, &s, 47808, s.broadcast(), 47808, &self.buf);
            return Some(now.plus_nanos(SEC));
        }
        self.invoke = self.invoke.wrapping_add(1);
        let instance = 1 + self.rng.below(4) as u32;
        self.buf.clear();
        bacnet::read_property_req(&mut self.buf, self.invoke, instance);
        cx.udp(now, &c, 47808, &s, 47808, &self.buf);
        self.value += (self.rng.f64() as f32 - 0.5) * 0.1;
        self.buf.clear();
        bacnet::read_property_ack(
            &mut self.buf,
            self.invoke,
            instance,
            self.value + instance as f32,
        );
        let t = now.plus_nanos(self.rng.range(3 * MS, 25 * MS));
        cx.udp(t, &s, 47808, &c, 47808, &self.buf);
        Some(now.plus_nanos(self.rng.jitter(self.period, 0.05)))
    }
}
