//! The engineering workstation: three short sessions a day (one per shift) in which
//! an engineer browses the line's devices (PROFINET DCP, EtherNet/IP ListIdentity),
//! reads identification and diagnostics, and looks at a few values.

use mamori_wire::Timestamp;
use mamori_wire::build::EthernetSpec;
use mamori_wire::decode::ethertype;

use super::Process;
use super::poll::session;
use crate::clock;
use crate::net::{Ctx, Host, MS, SEC, US};
use crate::plant::{Role, zone_line};
use crate::proto::{Op, dcp, enip, fins, modbus, s7, slmp};
use crate::rng::Rng;

/// Local times of the sessions (hour, minute).
pub(crate) const SESSIONS: [(i64, i64); 3] = [(8, 5), (13, 30), (21, 15)];

/// The engineering workstation's sessions.
pub(crate) struct Ews {
    ews: usize,
    lines: u32,
    next: Option<(Timestamp, usize)>,
    buf: Vec<u8>,
    resp: Vec<u8>,
    rng: Rng,
}

impl Ews {
    pub(crate) fn new(ews: usize, lines: u32, rng: Rng) -> Self {
        Ews {
            ews,
            lines,
            next: None,
            buf: Vec::with_capacity(256),
            resp: Vec::with_capacity(256),
            rng,
        }
    }

    /// The first session strictly after `now`, with its index in [`SESSIONS`].
    fn plan(&mut self, now: Timestamp) -> (Timestamp, usize) {
        let mut day = now;
        loop {
            for (i, &(h, m)) in SESSIONS.iter().enumerate() {
                let t = clock::at(day, h, m).plus_nanos(self.rng.range(-240, 240) * SEC);
                if t > now {
                    return (t, i);
                }
            }
            day = clock::midnight(day).plus_secs(clock::DAY + 60);
        }
    }

    fn visit_line(&mut self, cx: &mut Ctx<'_, '_>, t: Timestamp, line: u32) -> Timestamp {
        let p = cx.plant;
        let me = cx.host(self.ews);
        let s7dev = p.line_device(line, Role::Plc, "s7");
        let ab = p.line_device(line, Role::Plc, "ab");
        let aent = p.line_device(line, Role::RemoteIo, "aent");
        let m340 = p.line_device(line, Role::Plc, "m340");
        let iqr = p.line_device(line, Role::Plc, "iqr");
        let nx = p.line_device(line, Role::Plc, "nx");
        let rng = &mut self.rng;

        // PROFINET DCP Identify All on the line VLAN (the EWS's PG interface is
        // trunked into the line VLANs), answered by the S7 CPU.
        let vlan = p.zones[zone_line(line)].vlan;
        let xid = rng.u32();
        self.buf.clear();
        dcp::identify_all(&mut self.buf, xid);
        let eth = EthernetSpec {
            src: me.mac,
            dst: dcp::IDENTIFY_MULTICAST,
            vlan: Some(vlan),
        };
        cx.raw(t, &eth, ethertype::PROFINET, &self.buf);
        let plc = cx.host(s7dev);
        let station = p.devices[s7dev].name.clone();
        self.resp.clear();
        dcp::identify_response(
            &mut self.resp,
            xid,
            &dcp::Identity {
                vendor_text: "S7-300",
                station: &station,
                vendor_id: 0x002a,
                device_id: 0x0101,
                ip: plc.ip,
                gateway: cx.gateway_of(&plc).ip,
            },
        );
        let eth = EthernetSpec {
            src: plc.mac,
            dst: me.mac,
            vlan: Some(vlan),
        };
        cx.raw(
            t.plus_nanos(rng.range(MS, 40 * MS)),
            &eth,
            ethertype::PROFINET,
            &self.resp,
        );
        let mut t = t.plus_nanos(2 * SEC);

        // S7: identification, diagnostics, a look at the data.
        let mut d = s7::S7::new(rng, s7::TSAP_PG);
        t = session(
            cx,
            t,
            me,
            plc,
            &mut d,
            &[Op::Identify, Op::Diagnostic, Op::Read, Op::Read],
            800 * MS,
            rng,
        );
        t = t.plus_nanos(rng.range(3, 10) * SEC);

        // EtherNet/IP: ListIdentity to the controller and the adapter, then a session.
        for dev in [ab, aent] {
            let h = cx.host(dev);
            let ctx = rng.next_u64();
            self.buf.clear();
            enip::list_identity_req(&mut self.buf, ctx);
            let port = 49152 + rng.below(16000) as u16;
            cx.udp(t, &me, port, &h, 44818, &self.buf);
            self.resp.clear();
            let (code, name) = if dev == ab {
                (0x0120, "5069-L320ER/A LOGIX5320ER")
            } else {
                (0x007e, "1734-AENTR/B Ethernet Adapter")
            };
            enip::list_identity_resp(
                &mut self.resp,
                ctx,
                &enip::Identity {
                    vendor: 1,
                    device_type: if dev == ab { 0x0e } else { 0x0c },
                    product_code: code,
                    revision: (33, 11),
                    serial: 0x60c1_0000 | u32::from(h.ip.octets()[3]),
                    name,
                    ip: h.ip,
                },
            );
            cx.udp(
                t.plus_nanos(rng.range(MS, 5 * MS)),
                &h,
                44818,
                &me,
                port,
                &self.resp,
            );
            t = t.plus_nanos(300 * MS);
        }
        let abh = cx.host(ab);
        let mut d = enip::Enip::new(rng, abh.ip, 0x0120, "5069-L320ER/A LOGIX5320ER");
        t = session(
            cx,
            t,
            me,
            abh,
            &mut d,
            &[Op::Identify, Op::Read],
            500 * MS,
            rng,
        );
        t = t.plus_nanos(rng.range(3, 10) * SEC);

        // Modbus device identification.
        let mut d = modbus::Modbus::new(rng, (0, 20));
        t = session(
            cx,
            t,
            me,
            cx.host(m340),
            &mut d,
            &[Op::Identify, Op::Read],
            400 * MS,
            rng,
        );
        t = t.plus_nanos(rng.range(3, 10) * SEC);

        // SLMP type name.
        let mut d = slmp::Slmp::new(rng);
        t = session(
            cx,
            t,
            me,
            cx.host(iqr),
            &mut d,
            &[Op::Identify, Op::Read],
            400 * MS,
            rng,
        );
        t = t.plus_nanos(rng.range(3, 10) * SEC);

        // FINS controller data.
        let nxh: Host = cx.host(nx);
        let n = fins::Nodes {
            client: me.ip.octets()[3],
            server: nxh.ip.octets()[3],
        };
        let sid = rng.below(256) as u8;
        self.buf.clear();
        fins::controller_data_req(&mut self.buf, n, sid);
        cx.udp(t, &me, 9600, &nxh, 9600, &self.buf);
        self.buf.clear();
        fins::controller_data_resp(&mut self.buf, n, sid, "NX1P2-9024DT", "1.50");
        cx.udp(
            t.plus_nanos(rng.range(MS, 6 * MS)),
            &nxh,
            9600,
            &me,
            9600,
            &self.buf,
        );
        t.plus_nanos(500 * US)
    }
}

impl Process for Ews {
    fn wake(&mut self, now: Timestamp, cx: &mut Ctx<'_, '_>) -> Option<Timestamp> {
        let Some((_, idx)) = self.next else {
            let planned = self.plan(now);
            self.next = Some(planned);
            return Some(planned.0);
        };
        let mut t = now;
        for line in 1..=self.lines {
            if self.lines <= 3 || line as usize % SESSIONS.len() == idx {
                t = self
                    .visit_line(cx, t, line)
                    .plus_nanos(self.rng.range(20, 60) * SEC);
            }
        }
        let planned = self.plan(t.max(now.plus_secs(3600)));
        self.next = Some(planned);
        Some(planned.0)
    }
}
