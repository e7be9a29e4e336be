//! Manufacturer from the MAC address: the IEEE registries, and whether the address
//! is one the manufacturer assigned at all.
//!
//! The built-in table (`data/oui.tsv`) is generated from the IEEE Registration
//! Authority's public registries — MA-L (24-bit OUI), MA-M (28-bit), MA-S (36-bit)
//! and the older IAB (36-bit) — by the generator in `tests/generate.rs` (see the
//! file's banner for the source date). It lists each vendor name once, followed by
//! its prefixes, and is parsed on first use into three sorted arrays, one per prefix
//! length; a lookup is at most three binary searches, longest prefix first, so an
//! MA-S block inside an MA-L the IEEE kept for itself names the block's owner.
//!
//! Wireshark's `manuf` file is GPL, so it is never embedded: [`OuiTable::load_manuf`]
//! reads one at run time (`/usr/share/wireshark/manuf` where present) and consults it
//! after the IEEE table, for blocks registered since the table was generated.
//!
//! An address with the locally-administered bit set was not assigned by a
//! manufacturer: it is randomised (phones, laptops on Wi-Fi) or set by software (a
//! virtual machine, a container, a redundancy protocol); [`MacKind`] says which,
//! where a well-known software prefix tells.

use std::sync::OnceLock;

use mamori_wire::decode::MacAddr;

/// The generated IEEE table (see the module docs and the file's banner).
const IEEE_TSV: &str = include_str!("../data/oui.tsv");

/// What kind of address a MAC is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MacKind {
    /// Universally administered: the first three octets are a manufacturer's.
    Universal,
    /// Locally administered by well-known software (virtual machines, containers).
    LocalSoftware,
    /// Locally administered, no known scheme: most likely randomised.
    LocalRandom,
    /// A group (multicast or broadcast) address: never a device.
    Group,
}

impl MacKind {
    /// Classifies an address.
    pub fn of(mac: MacAddr) -> MacKind {
        let o = mac.0;
        if mac.is_multicast() {
            MacKind::Group
        } else if !mac.is_local() {
            MacKind::Universal
        } else if matches!(
            o,
            [0x52, 0x54, 0x00, ..] | [0x02, 0x42, ..] | [0x0a, 0x00, 0x27, ..]
        ) {
            // QEMU/KVM, Docker bridges, VirtualBox host-only adapters.
            MacKind::LocalSoftware
        } else {
            MacKind::LocalRandom
        }
    }
}

fn mac_u64(mac: MacAddr) -> u64 {
    mac.0.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

/// A vendor table: prefixes of 24, 28 and 36 bits, each sorted for binary search.
#[derive(Debug, Default)]
pub struct OuiTable {
    /// `(prefix, vendor)` by prefix length: index 0 = 36 bits, 1 = 28, 2 = 24.
    tables: [Vec<(u64, Box<str>)>; 3],
    /// Where the names came from, for the attribute's source.
    source: &'static str,
}

const BITS: [u32; 3] = [36, 28, 24];

impl OuiTable {
    /// The built-in IEEE table (parsed once, shared).
    pub fn ieee() -> &'static OuiTable {
        static TABLE: OnceLock<OuiTable> = OnceLock::new();
        TABLE.get_or_init(|| OuiTable::parse_tsv(IEEE_TSV, "ieee-oui"))
    }

    /// The date of the IEEE data the built-in table was generated from.
    pub fn ieee_source_date() -> &'static str {
        IEEE_TSV
            .lines()
            .find_map(|l| l.strip_prefix("# source-date: "))
            .unwrap_or("unknown")
    }

    /// Parses the generated format: `vendor<TAB>hex hex hex`, `#` comments; a prefix
    /// of 6 hex digits is 24 bits, 7 is 28, 9 is 36. Bad lines are skipped.
    pub fn parse_tsv(text: &str, source: &'static str) -> OuiTable {
        let mut t = OuiTable {
            source,
            ..OuiTable::default()
        };
        for line in text.lines() {
            if line.starts_with('#') {
                continue;
            }
            let Some((vendor, prefixes)) = line.split_once('\t') else {
                continue;
            };
            let name: Box<str> = vendor.into();
            for p in prefixes.split(' ') {
                let Ok(v) = u64::from_str_radix(p, 16) else {
                    continue;
                };
                let slot = match p.len() {
                    9 => 0,
                    7 => 1,
                    6 => 2,
                    _ => continue,
                };
                t.tables[slot].push((v, name.clone()));
            }
        }
        t.sort();
        t
    }

    /// Parses Wireshark's `manuf` format (`00:00:0C<TAB>short<TAB>long`, optionally
    /// `/28` or `/36` after the address); the long name is used where present.
    /// Prefixes of other lengths are skipped.
    pub fn load_manuf(text: &str) -> OuiTable {
        let mut t = OuiTable {
            source: "manuf",
            ..OuiTable::default()
        };
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let mut cols = line.split('\t');
            let (Some(addr), Some(short)) = (cols.next(), cols.next()) else {
                continue;
            };
            let name = cols
                .next()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .unwrap_or(short.trim());
            let (hex, bits) = match addr.split_once('/') {
                Some((a, b)) => (a, b.trim().parse::<u32>().unwrap_or(0)),
                None => (addr, 24),
            };
            let Some(slot) = BITS.iter().position(|b| *b == bits) else {
                continue;
            };
            // The hex digits, separators skipped, without allocating (the file has
            // some 50,000 lines and is read once per process).
            let (mut v, mut n) = (0u64, 0u32);
            for d in hex.chars().filter_map(|c| c.to_digit(16)) {
                n += 1;
                if n > 12 {
                    break;
                }
                v = (v << 4) | u64::from(d);
            }
            if !(6..=12).contains(&n) {
                continue;
            }
            let v = v << (4 * (12 - n));
            t.tables[slot].push((v >> (48 - bits), name.into()));
        }
        t.sort();
        t
    }

    fn sort(&mut self) {
        for table in &mut self.tables {
            table.sort_by_key(|e| e.0);
            table.dedup_by_key(|e| e.0);
        }
    }

    /// The registered vendor of `mac`'s longest matching prefix.
    pub fn lookup(&self, mac: MacAddr) -> Option<&str> {
        let v = mac_u64(mac);
        self.tables.iter().zip(BITS).find_map(|(table, bits)| {
            let key = v >> (48 - bits);
            table
                .binary_search_by_key(&key, |e| e.0)
                .ok()
                .and_then(|i| table.get(i))
                .map(|e| &*e.1)
        })
    }

    /// How many prefixes of each length (36, 28, 24 bits).
    pub fn counts(&self) -> [usize; 3] {
        [
            self.tables[0].len(),
            self.tables[1].len(),
            self.tables[2].len(),
        ]
    }

    /// Where the names came from (`ieee-oui` or `manuf`).
    pub fn source(&self) -> &'static str {
        self.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(s: &str) -> MacAddr {
        let mut o = [0u8; 6];
        for (slot, part) in o.iter_mut().zip(s.split(':')) {
            *slot = u8::from_str_radix(part, 16).unwrap_or(0);
        }
        MacAddr(o)
    }

    #[test]
    fn ieee_table_resolves_all_three_block_sizes() {
        let t = OuiTable::ieee();
        let [s, m, l] = t.counts();
        assert!(l > 30_000 && m > 4_000 && s > 9_000, "{:?}", t.counts());
        assert_eq!(
            t.lookup(mac("00:00:0c:12:34:56")),
            Some("Cisco Systems, Inc")
        );
        // Siemens, Rockwell: OUIs seen on plant floors.
        assert!(
            t.lookup(mac("00:1b:1b:00:00:01"))
                .is_some_and(|v| v.contains("Siemens"))
        );
        assert!(
            t.lookup(mac("00:00:bc:00:00:01"))
                .is_some_and(|v| v.contains("Rockwell"))
        );
        // An MA-M and an MA-S block inside IEEE-held MA-Ls name their owners, not the IEEE.
        let ma_m = t.lookup(mac("74:1a:e0:90:00:01"));
        assert!(
            ma_m.is_some_and(|v| !v.contains("IEEE Registration")),
            "{ma_m:?}"
        );
        // A name with a comma, quoted in the IEEE's CSV, is read whole (a BACnet
        // controller's OUI; its vendor once showed as the BACnet vendor id `8`).
        assert_eq!(
            t.lookup(mac("00:40:ae:07:08:c7")),
            Some("DELTA CONTROLS, INC.")
        );
        let ma_s = t.lookup(mac("70:b3:d5:f2:f0:01"));
        assert_eq!(ma_s, Some("TELEPLATFORMS"));
        assert_ne!(OuiTable::ieee_source_date(), "unknown");
    }

    #[test]
    fn manuf_format_is_read_with_its_block_sizes() {
        let t = OuiTable::load_manuf(
            "# comment\n00:00:0C\tCisco\tCisco Systems, Inc\n00:1B:C5:00:10:00/36\tOpenRBco\tOpenRB.com, Direct SIA\nAA:BB:CC:D0:00:00/28\tShort\n00:11/16\tbad\n",
        );
        assert_eq!(t.counts(), [1, 1, 1]);
        assert_eq!(
            t.lookup(mac("00:00:0c:00:00:01")),
            Some("Cisco Systems, Inc")
        );
        assert_eq!(
            t.lookup(mac("00:1b:c5:00:1f:ff")),
            Some("OpenRB.com, Direct SIA")
        );
        assert_eq!(t.lookup(mac("aa:bb:cc:df:00:00")), Some("Short"));
        assert_eq!(t.lookup(mac("00:1b:c5:00:20:00")), None);
    }

    #[test]
    fn local_and_group_addresses_are_classified() {
        assert_eq!(MacKind::of(mac("00:1b:1b:00:00:01")), MacKind::Universal);
        assert_eq!(
            MacKind::of(mac("52:54:00:12:34:56")),
            MacKind::LocalSoftware
        );
        assert_eq!(
            MacKind::of(mac("02:42:ac:11:00:02")),
            MacKind::LocalSoftware
        );
        assert_eq!(MacKind::of(mac("da:a1:19:00:00:01")), MacKind::LocalRandom);
        assert_eq!(MacKind::of(mac("01:00:5e:00:00:01")), MacKind::Group);
        assert_eq!(MacKind::of(MacAddr::BROADCAST), MacKind::Group);
    }
}
