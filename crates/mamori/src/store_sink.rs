//! Feeding the store from the packet path: run records and flow aggregates.

use std::sync::Arc;

use mamori_pipeline::RunOutcome;
use mamori_pipeline::collector::{ConsumerError, EventConsumer};
use mamori_pipeline::event::Event;
use mamori_store::{
    ConnSummary, NewRun, RunFinish, RunId, RunInput, RunStatus, SqliteStore, Store, StoreError,
    StoreWriter, WriterConfig, unix_nanos_now,
};

/// Passes finished connections to the store's writer thread.
pub(crate) struct StoreSink {
    writer: Option<StoreWriter>,
    run: RunId,
}

impl StoreSink {
    pub(crate) fn new(store: Arc<SqliteStore>, run: RunId) -> Result<Self, StoreError> {
        let writer = StoreWriter::spawn(store, WriterConfig::default())?;
        Ok(StoreSink {
            writer: Some(writer),
            run,
        })
    }
}

fn consumer_error(e: StoreError) -> ConsumerError {
    ConsumerError {
        what: "store",
        message: e.to_string(),
    }
}

impl EventConsumer for StoreSink {
    fn consume(&mut self, event: &Event) -> Result<(), ConsumerError> {
        let (Event::Conn(c), Some(writer)) = (event, &self.writer) else {
            return Ok(());
        };
        let (Some(orig_h), Some(resp_h)) = (c.orig.addr, c.resp.addr) else {
            return Ok(());
        };
        let service = (!c.services.is_empty()).then(|| {
            let mut s = String::new();
            c.services.write_joined(&mut s);
            s
        });
        writer
            .send(ConnSummary {
                ts: c.ts.0,
                orig_h,
                resp_h,
                proto: c.proto,
                resp_p: c.resp.port,
                service,
                vlan: c.vlan,
                orig_pkts: c.orig.pkts,
                resp_pkts: c.resp.pkts,
                orig_bytes: c.orig.bytes,
                resp_bytes: c.resp.bytes,
                orig_ip_bytes: c.orig.ip_bytes,
                resp_ip_bytes: c.resp.ip_bytes,
                duration_nanos: c.last_ts.nanos_since(c.ts),
                run_id: self.run,
            })
            .map_err(consumer_error)
    }

    fn finish(&mut self) -> Result<(), ConsumerError> {
        match self.writer.take() {
            Some(w) => w.finish().map(|_| ()).map_err(consumer_error),
            None => Ok(()),
        }
    }
}

/// Records the start of a run.
pub(crate) fn start_run(
    store: &SqliteStore,
    command: &str,
    inputs: &[String],
    threads: usize,
) -> Result<RunId, StoreError> {
    store.start_run(&NewRun {
        command: command.to_string(),
        started_at: unix_nanos_now(),
        inputs: inputs.to_vec(),
        threads: threads as u32,
        version: env!("CARGO_PKG_VERSION").to_string(),
    })
}

/// Records how a file run ended.
pub(crate) fn finish_run(
    store: &SqliteStore,
    run: RunId,
    outcome: Option<&RunOutcome>,
    inputs: &[String],
) -> Result<(), StoreError> {
    let finish = match outcome {
        Some(o) => RunFinish {
            finished_at: unix_nanos_now(),
            inputs: o
                .files
                .iter()
                .map(|f| RunInput {
                    path: f.path.display().to_string(),
                    packets: f.packets,
                    bytes: f.bytes,
                    error: f.error.clone(),
                })
                .collect(),
            packets: o.stats.packets,
            bytes: o.stats.wire_bytes,
            flows: o.stats.flows.created,
            duplicates: o.stats.duplicates,
            decode_errors: o.stats.decode_errors,
            evictions: o.stats.flows.evicted,
            elapsed_secs: o.elapsed.as_secs_f64(),
            status: if o.damaged() {
                RunStatus::DamagedInput
            } else {
                RunStatus::Ok
            },
        },
        None => RunFinish {
            finished_at: unix_nanos_now(),
            inputs: inputs.iter().map(RunInput::unread).collect(),
            packets: 0,
            bytes: 0,
            flows: 0,
            duplicates: 0,
            decode_errors: 0,
            evictions: 0,
            elapsed_secs: 0.0,
            status: RunStatus::Failed,
        },
    };
    store.finish_run(run, &finish)
}

/// Records how a live capture ended.
pub(crate) fn finish_live_run(
    store: &SqliteStore,
    run: RunId,
    outcome: Option<&mamori_pipeline::live::LiveOutcome>,
    source: &[String],
) -> Result<(), StoreError> {
    let finish = RunFinish {
        finished_at: unix_nanos_now(),
        inputs: source
            .iter()
            .map(|s| RunInput {
                path: s.clone(),
                packets: outcome.map_or(0, |o| o.stats.packets),
                bytes: outcome.map_or(0, |o| o.stats.wire_bytes),
                error: None,
            })
            .collect(),
        packets: outcome.map_or(0, |o| o.stats.packets),
        bytes: outcome.map_or(0, |o| o.stats.wire_bytes),
        flows: outcome.map_or(0, |o| o.stats.flows.created),
        duplicates: outcome.map_or(0, |o| o.stats.duplicates),
        decode_errors: outcome.map_or(0, |o| o.stats.decode_errors),
        evictions: outcome.map_or(0, |o| o.stats.flows.evicted),
        elapsed_secs: outcome.map_or(0.0, |o| o.elapsed.as_secs_f64()),
        status: if outcome.is_some() {
            RunStatus::Ok
        } else {
            RunStatus::Failed
        },
    };
    store.finish_run(run, &finish)
}
