//! Serde helpers for the ledger's JSON: times as epoch seconds (like `ts` in every
//! mamori log), MAC addresses as `aa:bb:cc:dd:ee:ff`, service sets as name lists.

/// Nanoseconds since the epoch as float seconds (microsecond precision).
pub(crate) mod secs {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(ns: &i64, s: S) -> Result<S::Ok, S::Error> {
        // Whole microseconds, so the text is short and reads back exactly.
        let micros = ns.div_euclid(1_000);
        s.serialize_f64(micros as f64 / 1e6)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let secs = f64::deserialize(d)?;
        Ok(((secs * 1e6).round() as i64).saturating_mul(1_000))
    }
}

/// Parses `aa:bb:cc:dd:ee:ff` (or with `-`).
pub(crate) fn parse_mac(s: &str) -> Option<mamori_wire::decode::MacAddr> {
    let mut out = [0u8; 6];
    let mut parts = s.split([':', '-']);
    for slot in &mut out {
        *slot = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts
        .next()
        .is_none()
        .then_some(mamori_wire::decode::MacAddr(out))
}

/// `Option<MacAddr>` as a string or null.
pub(crate) mod mac_opt {
    use mamori_wire::decode::MacAddr;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(m: &Option<MacAddr>, s: S) -> Result<S::Ok, S::Error> {
        match m {
            Some(m) => s.collect_str(m),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<MacAddr>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        match s {
            None => Ok(None),
            Some(s) => super::parse_mac(&s)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("bad MAC {s:?}"))),
        }
    }
}

/// A `ServiceSet`'s bits as the service names.
pub(crate) mod services {
    use mamori_flow::ServiceSet;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(bits: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(ServiceSet(*bits).names())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        let mut set = ServiceSet::default();
        for n in &names {
            set.insert_name(n);
        }
        Ok(set.0)
    }
}
