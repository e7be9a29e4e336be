//! The few X.509 fields a monitor needs, read from DER by hand (RFC 5280 §4.1).
//!
//! ```text
//! Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }
//! tbsCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber INTEGER,
//!     signature AlgorithmIdentifier, issuer Name, validity SEQUENCE { notBefore Time,
//!     notAfter Time }, subject Name, ... }
//! Name ::= SEQUENCE OF SET OF SEQUENCE { type OBJECT IDENTIFIER, value ANY }
//! ```
//!
//! Only definite lengths of up to 4 bytes are accepted; every length is checked
//! against what is left. A name keeps at most [`MAX_ATTRIBUTES`] attributes, each
//! value at most [`MAX_VALUE`] characters. Nothing is verified: this reads what a
//! server claims, it does not trust it.

use std::fmt;

/// Attributes kept per name.
pub const MAX_ATTRIBUTES: usize = 16;
/// Characters kept per attribute value.
pub const MAX_VALUE: usize = 256;

/// Attribute types (the OID's content bytes).
pub mod attribute {
    /// 2.5.4.3 commonName.
    pub const COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
    /// 2.5.4.10 organizationName.
    pub const ORGANIZATION: &[u8] = &[0x55, 0x04, 0x0a];
    /// 2.5.4.11 organizationalUnitName.
    pub const ORGANIZATIONAL_UNIT: &[u8] = &[0x55, 0x04, 0x0b];
    /// 2.5.4.6 countryName.
    pub const COUNTRY: &[u8] = &[0x55, 0x04, 0x06];
    /// 2.5.4.7 localityName.
    pub const LOCALITY: &[u8] = &[0x55, 0x04, 0x07];
    /// 2.5.4.8 stateOrProvinceName.
    pub const STATE: &[u8] = &[0x55, 0x04, 0x08];
    /// 1.2.840.113549.1.9.1 emailAddress.
    pub const EMAIL: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01];
}

/// The short name RFC 4514 (and Zeek) print for an attribute type.
fn short_name(oid: &[u8]) -> Option<&'static str> {
    use attribute::*;
    Some(match oid {
        COMMON_NAME => "CN",
        ORGANIZATION => "O",
        ORGANIZATIONAL_UNIT => "OU",
        COUNTRY => "C",
        LOCALITY => "L",
        STATE => "ST",
        EMAIL => "emailAddress",
        _ => return None,
    })
}

/// One DER element: (tag, content, rest).
fn der(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None; // indefinite or absurd
        }
        let (bytes, rest) = rest.split_at_checked(n)?;
        (
            bytes.iter().fold(0usize, |a, &x| a << 8 | usize::from(x)),
            rest,
        )
    };
    let (content, rest) = rest.split_at_checked(len)?;
    Some((tag, content, rest))
}

/// One DER element that must have `tag`: (content, rest).
fn expect(b: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, content, rest) = der(b)?;
    (t == tag).then_some((content, rest))
}

/// A distinguished name: its attributes in DER order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Name {
    /// (attribute type OID bytes, value) pairs, in DER order.
    pub attributes: Vec<(Vec<u8>, String)>,
}

impl Name {
    fn parse(content: &[u8]) -> Option<Name> {
        let mut name = Name::default();
        let mut rdns = content;
        while !rdns.is_empty() {
            let (set, rest) = expect(rdns, 0x31)?;
            rdns = rest;
            let mut atvs = set;
            while !atvs.is_empty() {
                let (atv, rest) = expect(atvs, 0x30)?;
                atvs = rest;
                let (oid, value) = expect(atv, 0x06)?;
                let (tag, value, _) = der(value)?;
                if name.attributes.len() < MAX_ATTRIBUTES {
                    name.attributes.push((oid.to_vec(), string(tag, value)));
                }
            }
        }
        Some(name)
    }

    /// The first value of attribute `oid` (see [`attribute`]).
    pub fn get(&self, oid: &[u8]) -> Option<String> {
        self.attributes
            .iter()
            .find(|(o, _)| o == oid)
            .map(|(_, v)| v.clone())
    }
}

impl fmt::Display for Name {
    /// RFC 4514 order (last attribute first), `CN=host,O=Org`, commas in values escaped;
    /// attribute types without a short name as dotted OIDs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (oid, value)) in self.attributes.iter().rev().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match short_name(oid) {
                Some(n) => f.write_str(n)?,
                None => write_oid(f, oid)?,
            }
            f.write_str("=")?;
            for c in value.chars() {
                if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';') {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// Dotted form of an OID's content bytes.
fn write_oid(f: &mut fmt::Formatter<'_>, oid: &[u8]) -> fmt::Result {
    let mut arcs = Vec::new();
    let mut v: u64 = 0;
    for &b in oid {
        v = (v << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            arcs.push(v);
            v = 0;
        }
        if arcs.len() > 32 || v > u64::MAX >> 8 {
            break;
        }
    }
    let Some((&first, rest)) = arcs.split_first() else {
        return Ok(());
    };
    let (a, b) = match first {
        0..40 => (0, first),
        40..80 => (1, first - 40),
        _ => (2, first - 80),
    };
    write!(f, "{a}.{b}")?;
    for arc in rest {
        write!(f, ".{arc}")?;
    }
    Ok(())
}

/// A directory string as text: BMPString as UTF-16, UniversalString as UTF-32, the
/// rest as UTF-8 (lossy); at most [`MAX_VALUE`] characters.
fn string(tag: u8, value: &[u8]) -> String {
    let s: String = match tag {
        0x1e => char::decode_utf16(
            value
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]])),
        )
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect(),
        0x1c => value
            .chunks_exact(4)
            .map(|c| {
                char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                    .unwrap_or(char::REPLACEMENT_CHARACTER)
            })
            .collect(),
        _ => String::from_utf8_lossy(value).into_owned(),
    };
    if s.chars().count() > MAX_VALUE {
        s.chars().take(MAX_VALUE).collect()
    } else {
        s
    }
}

/// UTCTime (`YYMMDDHHMM[SS]Z`) or GeneralizedTime (`YYYYMMDDHHMM[SS][.f]Z`) as seconds
/// since the epoch; `None` when malformed.
fn time(tag: u8, v: &[u8]) -> Option<i64> {
    let num = |s: &[u8]| -> Option<i64> {
        s.iter().try_fold(0i64, |a, &d| {
            d.is_ascii_digit().then(|| a * 10 + i64::from(d - b'0'))
        })
    };
    let (year, rest) = match tag {
        0x17 => {
            let yy = num(v.get(..2)?)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, v.get(2..)?)
        }
        0x18 => (num(v.get(..4)?)?, v.get(4..)?),
        _ => return None,
    };
    let month = num(rest.get(..2)?)?;
    let day = num(rest.get(2..4)?)?;
    let hour = num(rest.get(4..6)?)?;
    let minute = num(rest.get(6..8)?)?;
    let second = match rest.get(8..10).map(num) {
        Some(Some(s)) => s,
        _ => 0,
    };
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// What is read from a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Certificate {
    /// Subject.
    pub subject: Name,
    /// Issuer.
    pub issuer: Name,
    /// notBefore, seconds since the epoch.
    pub not_before: Option<i64>,
    /// notAfter, seconds since the epoch.
    pub not_after: Option<i64>,
}

impl Certificate {
    /// Reads a DER certificate; `None` when its structure up to the subject is broken.
    pub fn parse(der_bytes: &[u8]) -> Option<Certificate> {
        let (cert, _) = expect(der_bytes, 0x30)?;
        let (tbs, _) = expect(cert, 0x30)?;
        let (tag, _, mut rest) = der(tbs)?;
        if tag == 0xa0 {
            // [0] version: the serial number follows.
            let (serial, after) = expect(rest, 0x02)?;
            let _ = serial;
            rest = after;
        } else if tag != 0x02 {
            return None;
        }
        let (_, rest) = expect(rest, 0x30)?; // signature algorithm
        let (issuer, rest) = expect(rest, 0x30)?;
        let (validity, rest) = expect(rest, 0x30)?;
        let (subject, _) = expect(rest, 0x30)?;
        let (t1, v1, after) = der(validity)?;
        let (t2, v2, _) = der(after)?;
        Some(Certificate {
            subject: Name::parse(subject)?,
            issuer: Name::parse(issuer)?,
            not_before: time(t1, v1),
            not_after: time(t2, v2),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_convert() {
        assert_eq!(time(0x17, b"700101000000Z"), Some(0));
        assert_eq!(time(0x17, b"240229123456Z"), Some(1_709_210_096));
        assert_eq!(time(0x18, b"20491231235959Z"), Some(2_524_607_999));
        assert_eq!(time(0x17, b"4912312359Z"), Some(2_524_607_940));
        assert_eq!(time(0x17, b"241301000000Z"), None);
        assert_eq!(time(0x17, b"24"), None);
    }

    #[test]
    fn strings_decode() {
        assert_eq!(string(0x1e, &[0x30, 0x55, 0x00, 0x41]), "さA");
        assert_eq!(string(0x1c, &[0, 0, 0, 0x42]), "B");
        assert_eq!(string(0x0c, "工場".as_bytes()), "工場");
        assert_eq!(string(0x13, &[b'x'; 400]).len(), MAX_VALUE);
    }

    #[test]
    fn der_lengths_are_checked() {
        assert_eq!(
            der(&[0x30, 0x82, 0x00, 0x01, 0xff]),
            Some((0x30, &[0xff][..], &[][..]))
        );
        assert_eq!(der(&[0x30, 0x82, 0x00, 0x02, 0xff]), None);
        assert_eq!(der(&[0x30, 0x80, 0x00]), None);
        assert_eq!(der(&[0x30, 0x85, 1, 1, 1, 1, 1]), None);
    }
}
