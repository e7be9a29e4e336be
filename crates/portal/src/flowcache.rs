//! Flow summaries, cached until the store's flows change.
//!
//! The overview, traffic page, map and diff sum `flow_hourly` over whole
//! periods; with months of hourly rows that is a few hundred milliseconds of
//! SQL. Flows only change when a run writes them, so a summary stays valid
//! while the list of runs is the same and none of them is still running (then
//! summaries live for [`RUNNING_TTL`] only). The key is the filter; at most
//! [`CAPACITY`] summaries are kept, the oldest dropped first.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use mamori_store::{FlowBucket, FlowEdge, FlowFilter, PortalStore, RunStatus, StoreError};

/// How long a summary is trusted while a run is still writing.
pub(crate) const RUNNING_TTL: Duration = Duration::from_secs(15);
/// Summaries kept.
pub(crate) const CAPACITY: usize = 32;

/// What the flows look like from the run list: run count, newest run id, the
/// newest finish time, and whether one is running.
type Version = (usize, i64, i64, bool);

#[derive(Clone)]
enum Entry {
    Edges(Arc<Vec<FlowEdge>>),
    Buckets(Arc<Vec<FlowBucket>>),
}

type Key = (
    bool,
    Option<i64>,
    Option<i64>,
    Option<std::net::IpAddr>,
    Option<u32>,
);

/// The cache.
#[derive(Default)]
pub(crate) struct FlowCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    version: Option<(Version, Instant)>,
    entries: VecDeque<(Key, Entry)>,
}

fn version(store: &dyn PortalStore) -> Result<Version, StoreError> {
    let runs = store.runs()?;
    Ok((
        runs.len(),
        runs.iter().map(|r| r.id.0).max().unwrap_or(0),
        runs.iter().filter_map(|r| r.finished_at).max().unwrap_or(0),
        runs.iter().any(|r| r.status == RunStatus::Running),
    ))
}

impl FlowCache {
    fn lookup(&self, store: &dyn PortalStore, key: &Key) -> Result<Option<Entry>, StoreError> {
        let v = version(store)?;
        let mut g = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let fresh = match g.version {
            Some((old, at)) => old == v && !(v.3 && at.elapsed() > RUNNING_TTL),
            None => false,
        };
        if !fresh {
            g.entries.clear();
            g.version = Some((v, Instant::now()));
            return Ok(None);
        }
        Ok(g.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, e)| e.clone()))
    }

    fn insert(&self, key: Key, e: Entry) {
        let mut g = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if g.entries.len() >= CAPACITY {
            g.entries.pop_front();
        }
        g.entries.push_back((key, e));
    }

    /// [`PortalStore::flow_edges`], cached.
    pub(crate) fn edges(
        &self,
        store: &dyn PortalStore,
        f: &FlowFilter,
    ) -> Result<Arc<Vec<FlowEdge>>, StoreError> {
        let key = (true, f.from, f.to, f.host, f.limit);
        if let Some(Entry::Edges(e)) = self.lookup(store, &key)? {
            return Ok(e);
        }
        let e = Arc::new(store.flow_edges(f)?);
        self.insert(key, Entry::Edges(e.clone()));
        Ok(e)
    }

    /// [`PortalStore::flow_buckets`], cached.
    pub(crate) fn buckets(
        &self,
        store: &dyn PortalStore,
        f: &FlowFilter,
    ) -> Result<Arc<Vec<FlowBucket>>, StoreError> {
        let key = (false, f.from, f.to, f.host, f.limit);
        if let Some(Entry::Buckets(b)) = self.lookup(store, &key)? {
            return Ok(b);
        }
        let b = Arc::new(store.flow_buckets(f)?);
        self.insert(key, Entry::Buckets(b.clone()));
        Ok(b)
    }
}
