//! Asset labels by address, cached for a few seconds.
//!
//! The map, the traffic rankings, the diff and an asset's peers turn addresses
//! from `flow_hourly` into asset names. Reading every asset's label columns for
//! each of those pages would cost tens of milliseconds with 10,000 assets, so the
//! portal keeps one copy for [`TTL`] and shares it between requests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use mamori_store::{AssetLabel, PortalStore, StoreError};

use crate::layout::asset_name;

/// How long a copy is used.
pub(crate) const TTL: Duration = Duration::from_secs(10);

/// Every asset's label and the index by IP address.
#[derive(Debug, Default)]
pub(crate) struct Labels {
    /// The labels, by key.
    pub list: Vec<AssetLabel>,
    /// IP text to index into `list`.
    pub by_ip: HashMap<String, usize>,
}

impl Labels {
    /// The asset that has `ip`.
    pub(crate) fn of_ip(&self, ip: &str) -> Option<&AssetLabel> {
        self.by_ip.get(ip).and_then(|&i| self.list.get(i))
    }

    /// The display name of `ip`: its asset's name, or the address.
    pub(crate) fn name_of_ip(&self, ip: &str) -> String {
        self.of_ip(ip).map_or_else(
            || ip.to_string(),
            |a| asset_name(a.hostname.as_deref(), &a.ips, &a.key),
        )
    }
}

/// The shared cache.
#[derive(Debug, Default)]
pub(crate) struct LabelCache {
    inner: Mutex<Option<(Instant, Arc<Labels>)>>,
}

impl LabelCache {
    /// The labels, read again when the copy is older than [`TTL`].
    pub(crate) fn get(&self, store: &dyn PortalStore) -> Result<Arc<Labels>, StoreError> {
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((at, labels)) = guard.as_ref()
            && at.elapsed() < TTL
        {
            return Ok(labels.clone());
        }
        let list = store.asset_labels()?;
        let mut by_ip = HashMap::with_capacity(list.len());
        for (i, a) in list.iter().enumerate() {
            for ip in &a.ips {
                // The newest asset with an address wins (ledger order is by key).
                by_ip.insert(ip.clone(), i);
            }
        }
        let labels = Arc::new(Labels { list, by_ip });
        *guard = Some((Instant::now(), labels.clone()));
        Ok(labels)
    }
}
