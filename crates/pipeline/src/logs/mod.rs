//! JSON Lines logs, one file per kind, with Zeek's field names.
//!
//! [`LogWriter`] owns a buffered file per log in the `--logs` directory and writes one
//! JSON object per line. Each log has a record type here (`conn`, `arp`, and later the
//! dissector logs) that borrows from the event it describes, so writing allocates
//! little beyond serde_json's output buffer. Field names and meanings are the contract
//! of `DESIGN.md` §3.

pub mod arp;
pub mod conn;
pub mod dhcp;
pub mod dhcpv6;
pub mod dns;
pub mod http;
pub mod ot;
pub mod tls;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::collector::{ConsumerError, EventConsumer};
use crate::event::Event;

/// The logs mamori writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogKind {
    /// One record per connection.
    Conn,
    /// One record per ARP packet.
    Arp,
    /// One record per OT request.
    Ot,
    /// One record per DNS, mDNS or LLMNR exchange.
    Dns,
    /// One record per DHCP exchange.
    Dhcp,
    /// One record per DHCPv6 transaction.
    Dhcpv6,
    /// One record per HTTP transaction.
    Http,
    /// One record per TLS connection.
    Tls,
}

impl LogKind {
    /// File name inside the log directory.
    pub fn file_name(self) -> &'static str {
        match self {
            LogKind::Conn => "conn.jsonl",
            LogKind::Arp => "arp.jsonl",
            LogKind::Ot => "ot.jsonl",
            LogKind::Dns => "dns.jsonl",
            LogKind::Dhcp => "dhcp.jsonl",
            LogKind::Dhcpv6 => "dhcpv6.jsonl",
            LogKind::Http => "http.jsonl",
            LogKind::Tls => "tls.jsonl",
        }
    }

    /// Every log kind, in file-creation order.
    pub const ALL: [LogKind; 8] = [
        LogKind::Conn,
        LogKind::Arp,
        LogKind::Ot,
        LogKind::Dns,
        LogKind::Dhcp,
        LogKind::Dhcpv6,
        LogKind::Http,
        LogKind::Tls,
    ];
}

/// Writes JSON Lines logs into a directory.
#[derive(Debug)]
pub struct LogWriter {
    dir: PathBuf,
    files: BTreeMap<LogKind, BufWriter<File>>,
    line: Vec<u8>,
    records: u64,
}

/// Log files could not be written.
#[derive(Debug, thiserror::Error)]
#[error("log {path}: {source}")]
pub struct LogError {
    /// The file or directory.
    pub path: PathBuf,
    /// The I/O error.
    pub source: io::Error,
}

impl LogWriter {
    /// Creates the directory if needed and truncates every log in it, so a run's logs
    /// never mix with an earlier run's.
    pub fn create(dir: &Path) -> Result<Self, LogError> {
        fs::create_dir_all(dir).map_err(|source| LogError {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut files = BTreeMap::new();
        for kind in LogKind::ALL {
            let path = dir.join(kind.file_name());
            let file = File::create(&path).map_err(|source| LogError { path, source })?;
            files.insert(kind, BufWriter::with_capacity(256 * 1024, file));
        }
        Ok(LogWriter {
            dir: dir.to_path_buf(),
            files,
            line: Vec::with_capacity(512),
            records: 0,
        })
    }

    /// Records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Appends one record to a log.
    pub fn write<T: Serialize>(&mut self, kind: LogKind, record: &T) -> Result<(), LogError> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, record).map_err(|e| LogError {
            path: self.path(kind),
            source: io::Error::other(e),
        })?;
        self.line.push(b'\n');
        let path = self.path(kind);
        let Some(file) = self.files.get_mut(&kind) else {
            return Err(LogError {
                path,
                source: io::Error::other("log not open"),
            });
        };
        file.write_all(&self.line)
            .map_err(|source| LogError { path, source })?;
        self.records += 1;
        Ok(())
    }

    /// Flushes every file.
    pub fn flush(&mut self) -> Result<(), LogError> {
        for (kind, file) in &mut self.files {
            file.flush().map_err(|source| LogError {
                path: self.dir.join(kind.file_name()),
                source,
            })?;
        }
        Ok(())
    }

    fn path(&self, kind: LogKind) -> PathBuf {
        self.dir.join(kind.file_name())
    }
}

impl EventConsumer for LogWriter {
    fn consume(&mut self, event: &Event) -> Result<(), ConsumerError> {
        let result = match event {
            Event::Conn(c) => self.write(LogKind::Conn, &conn::ConnLog::from(c)),
            Event::Arp(a) => self.write(LogKind::Arp, &arp::ArpLog::from(a)),
            Event::Ot(o) => self.write(LogKind::Ot, &ot::OtLog::from(o.as_ref())),
            Event::Dns(d) => self.write(LogKind::Dns, &dns::DnsLog::from(d.as_ref())),
            Event::Dhcp(d) => self.write(LogKind::Dhcp, &dhcp::DhcpLog::from(d.as_ref())),
            Event::Dhcpv6(d) => self.write(LogKind::Dhcpv6, &dhcpv6::Dhcpv6Log::from(d.as_ref())),
            Event::Http(h) => self.write(LogKind::Http, &http::HttpLog::from(h.as_ref())),
            Event::Tls(t) => self.write(LogKind::Tls, &tls::TlsLog::from(t.as_ref())),
            // Identity facts, SYN fingerprints, layer-2 counts and rule hits feed the
            // ledger and the detectors; they have no log of their own.
            Event::Identity(_) | Event::TcpSyn(_) | Event::L2Second(_) | Event::RuleHit(_) => {
                Ok(())
            }
        };
        result.map_err(|e| ConsumerError {
            what: "log writer",
            message: e.to_string(),
        })
    }

    fn finish(&mut self) -> Result<(), ConsumerError> {
        self.flush().map_err(|e| ConsumerError {
            what: "log writer",
            message: e.to_string(),
        })
    }
}

/// Epoch seconds with microsecond precision, as Zeek writes `ts`.
pub fn zeek_time(ts: mamori_wire::Timestamp) -> f64 {
    ts.secs() as f64 + f64::from(ts.subsec_nanos() / 1000) / 1e6
}

/// A MAC address as `aa:bb:cc:dd:ee:ff`.
pub(crate) fn mac_string(mac: Option<mamori_wire::decode::MacAddr>) -> Option<String> {
    mac.map(|m| m.to_string())
}
