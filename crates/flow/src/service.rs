//! The application protocols a flow carried, as a small bit set.
//!
//! Dissectors mark what they recognised; `conn.jsonl` writes the names, comma-separated,
//! in the order of [`NAMES`]. IT names follow Zeek (`ssl` for TLS); OT names follow
//! `ot.jsonl`'s `protocol` field.

/// Service names, by bit index. Append only: the index is the bit.
pub const NAMES: &[&str] = &[
    "dns",
    "dhcp",
    "http",
    "ssl",
    "ntp",
    "netbios-ns",
    "browser",
    "ssdp",
    "mdns",
    "llmnr",
    "dhcpv6",
    "smb",
    "snmp",
    "modbus",
    "s7comm",
    "s7comm-plus",
    "enip",
    "cip",
    "dnp3",
    "bacnet",
    "iec104",
    "opcua",
    "profinet-dcp",
    "cclink-ief-basic",
    "cclink-ie",
    "slmp",
    "fins",
];

/// A set of services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ServiceSet(pub u64);

impl ServiceSet {
    /// Adds the service with this name; unknown names are ignored and reported as `false`.
    pub fn insert_name(&mut self, name: &str) -> bool {
        match NAMES.iter().position(|n| *n == name) {
            Some(i) => {
                self.0 |= 1 << i;
                true
            }
            None => false,
        }
    }

    /// Whether no service was recognised.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The names in the set, in [`NAMES`] order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        NAMES
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, n)| *n)
    }

    /// Writes the names comma-separated into `out`.
    pub fn write_joined(self, out: &mut String) {
        for (i, name) in self.names().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_table_order() {
        let mut s = ServiceSet::default();
        assert!(s.insert_name("modbus"));
        assert!(s.insert_name("dns"));
        assert!(!s.insert_name("gopher"));
        let mut out = String::new();
        s.write_joined(&mut out);
        assert_eq!(out, "dns,modbus");
        assert!(NAMES.len() <= 64);
    }
}
