//! Long-lived polling connections: an HMI or SCADA server reads a PLC every period
//! over one TCP connection opened at the start, writes setpoints as operators work,
//! and runs slower periodic jobs (identification, diagnostics).

use mamori_wire::Timestamp;

use super::Process;
use crate::clock;
use crate::net::{Ctx, MS, SEC, Tcp, US, ephemeral_port};
use crate::proto::{Dialect, Op};
use crate::rng::Rng;

/// A periodic extra job.
pub(crate) struct Job {
    pub(crate) op: Op,
    pub(crate) every: i64,
    pub(crate) next: Timestamp,
}

/// A client polling one server.
pub(crate) struct Poller {
    client: usize,
    server: usize,
    dialect: Box<dyn Dialect>,
    tcp: Option<Tcp>,
    period: i64,
    /// Operator writes per hour at full activity (0: never).
    writes_per_hour: f64,
    next_write: Timestamp,
    jobs: Vec<Job>,
    rng: Rng,
    /// Faster polling between these times (the volume-spike attack).
    burst: Option<(Timestamp, Timestamp, i64)>,
}

impl Poller {
    pub(crate) fn new(
        client: usize,
        server: usize,
        dialect: Box<dyn Dialect>,
        period: i64,
        writes_per_hour: f64,
        rng: Rng,
    ) -> Self {
        Poller {
            client,
            server,
            dialect,
            tcp: None,
            period,
            writes_per_hour,
            next_write: Timestamp::MAX,
            jobs: Vec::new(),
            rng,
            burst: None,
        }
    }

    /// Adds a periodic job, first run `first` after the connection opens.
    pub(crate) fn with_job(mut self, op: Op, every: i64) -> Self {
        self.jobs.push(Job {
            op,
            every,
            next: Timestamp::MAX,
        });
        self
    }

    /// Polls every `period` between `from` and `to` instead.
    pub(crate) fn with_burst(mut self, from: Timestamp, to: Timestamp, period: i64) -> Self {
        self.burst = Some((from, to, period));
        self
    }

    fn schedule_write(&mut self, now: Timestamp) {
        if self.writes_per_hour <= 0.0 {
            return;
        }
        let activity = clock::production_activity(now).max(0.05);
        let mean = 3600.0 / (self.writes_per_hour * activity);
        let secs = self.rng.exp(mean).min(4.0 * 3600.0);
        self.next_write = now.plus_nanos((secs * SEC as f64) as i64 + SEC);
    }
}

impl Process for Poller {
    fn wake(&mut self, now: Timestamp, cx: &mut Ctx<'_, '_>) -> Option<Timestamp> {
        let Some(mut tcp) = self.tcp.take() else {
            let c = cx.host(self.client);
            let s = cx.host(self.server);
            let windows = cx.plant.devices[self.client].ttl == 128;
            let port = ephemeral_port(&mut self.rng, windows);
            let lat = self.rng.range(80 * US, 300 * US);
            let mut tcp = Tcp::new(c, s, port, self.dialect.port(), lat, &mut self.rng);
            cx.arp_for(now, &c, &s, self.rng.range(100 * US, 400 * US));
            let t = tcp.connect(cx, now.plus_nanos(MS));
            let t = self
                .dialect
                .setup(&mut tcp, cx, t.plus_nanos(200 * US), &mut self.rng);
            self.tcp = Some(tcp);
            for (i, j) in self.jobs.iter_mut().enumerate() {
                j.next = t.plus_nanos(self.rng.range(2 * SEC, 30 * SEC) + i as i64 * SEC);
            }
            self.schedule_write(t);
            return Some(t.plus_nanos(self.rng.jitter(self.period, 0.1)));
        };
        let op = if let Some(j) = self.jobs.iter_mut().find(|j| j.next <= now) {
            j.next = now.plus_nanos(self.rng.jitter(j.every, 0.05));
            j.op
        } else if now >= self.next_write {
            Op::Write
        } else {
            Op::Read
        };
        if op == Op::Write {
            self.schedule_write(now);
        }
        self.dialect.op(op, &mut tcp, cx, now, &mut self.rng);
        self.tcp = Some(tcp);
        let period = match self.burst {
            Some((a, b, p)) if now >= a && now < b => p,
            _ => self.period,
        };
        Some(now.plus_nanos(self.rng.jitter(period, 0.03)))
    }
}

/// A short session: connect, run `ops`, close (engineering tools, attackers).
#[allow(clippy::too_many_arguments)]
pub(crate) fn session(
    cx: &mut Ctx<'_, '_>,
    t: Timestamp,
    client: crate::net::Host,
    server: crate::net::Host,
    dialect: &mut dyn Dialect,
    ops: &[Op],
    gap: i64,
    rng: &mut Rng,
) -> Timestamp {
    let windows = client.ttl == 128;
    let port = ephemeral_port(rng, windows);
    let lat = rng.range(80 * US, 300 * US);
    let mut tcp = Tcp::new(client, server, port, dialect.port(), lat, rng);
    let mut t = tcp.connect(cx, t);
    t = dialect.setup(&mut tcp, cx, t.plus_nanos(300 * US), rng);
    for op in ops {
        t = t.plus_nanos(rng.jitter(gap, 0.3));
        t = dialect.op(*op, &mut tcp, cx, t, rng);
    }
    t = dialect.teardown(&mut tcp, cx, t.plus_nanos(rng.range(5 * MS, 50 * MS)), rng);
    tcp.close(cx, t.plus_nanos(rng.range(MS, 20 * MS)))
}
