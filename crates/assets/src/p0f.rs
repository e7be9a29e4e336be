//! A p0f-style passive TCP fingerprint matcher.
//!
//! An OS answers and opens connections with its own defaults: initial TTL, window
//! size, MSS, window scale, the order of its TCP options and small quirks of the IP
//! and TCP headers. p0f v3 writes those as
//! `ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass` and keeps a database of them
//! (`p0f.fp`). This module reads that format at run time ([`P0fDb::parse`]) — from
//! `/etc/p0f/p0f.fp` when p0f is installed (the file is LGPL, so it is never embedded)
//! and from mamori's own `data/mamori.fp` — and matches the SYN or SYN+ACK fields the
//! pipeline copies into a `TcpSynEvent`.
//!
//! From the packet: the initial TTL is the observed TTL rounded up to 32, 64, 128 or
//! 255 (the distance is the difference); the option layout, MSS, window scale and the
//! quirks (`df id+ id- ecn flow seq- ack+ ack- uptr+ urgf+ pushf+ ts1- ts2+ opt+ exws
//! bad`) come from the raw headers; `pclass` is whether the SYN carried a payload.
//!
//! Matching follows p0f's rules: the option layout, MSS, window, scale, IP version,
//! options length and payload class must agree; the signature's TTL must be at least
//! the observed one and within 35 hops of it. A match whose quirks agree is exact; one
//! that differs only in `df`, `id+` or `id-` (which middleboxes and stack versions
//! change) is fuzzy. Specific labels win over generic ones, exact over fuzzy, earlier
//! signatures over later ones (so a file loaded first takes precedence).

use mamori_pipeline::event::TcpSynEvent;

/// Farthest a signature's TTL may be above the observed one.
const MAX_DIST: u8 = 35;

const Q_DF: u32 = 1;
const Q_ID_PLUS: u32 = 1 << 1;
const Q_ID_MINUS: u32 = 1 << 2;
const Q_ECN: u32 = 1 << 3;
const Q_ZERO_PLUS: u32 = 1 << 4;
const Q_FLOW: u32 = 1 << 5;
const Q_SEQ_MINUS: u32 = 1 << 6;
const Q_ACK_PLUS: u32 = 1 << 7;
const Q_ACK_MINUS: u32 = 1 << 8;
const Q_UPTR_PLUS: u32 = 1 << 9;
const Q_URGF_PLUS: u32 = 1 << 10;
const Q_PUSHF_PLUS: u32 = 1 << 11;
const Q_TS1_MINUS: u32 = 1 << 12;
const Q_TS2_PLUS: u32 = 1 << 13;
const Q_OPT_PLUS: u32 = 1 << 14;
const Q_EXWS: u32 = 1 << 15;
const Q_BAD: u32 = 1 << 16;
/// Quirks a fuzzy match may disagree on.
const Q_FUZZY: u32 = Q_DF | Q_ID_PLUS | Q_ID_MINUS;

const QUIRKS: [(&str, u32); 17] = [
    ("df", Q_DF),
    ("id+", Q_ID_PLUS),
    ("id-", Q_ID_MINUS),
    ("ecn", Q_ECN),
    ("0+", Q_ZERO_PLUS),
    ("flow", Q_FLOW),
    ("seq-", Q_SEQ_MINUS),
    ("ack+", Q_ACK_PLUS),
    ("ack-", Q_ACK_MINUS),
    ("uptr+", Q_UPTR_PLUS),
    ("urgf+", Q_URGF_PLUS),
    ("pushf+", Q_PUSHF_PLUS),
    ("ts1-", Q_TS1_MINUS),
    ("ts2+", Q_TS2_PLUS),
    ("opt+", Q_OPT_PLUS),
    ("exws", Q_EXWS),
    ("bad", Q_BAD),
];

/// One TCP option in a layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    Eol(u8),
    Nop,
    Mss,
    Ws,
    Sok,
    Sack,
    Ts,
    Other(u8),
}

/// How a signature constrains the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WSize {
    Any,
    Exact(u16),
    Mss(u16),
    Mtu(u16),
    Mod(u16),
}

/// One signature with its label.
#[derive(Debug, Clone)]
struct Sig {
    ver: Option<u8>,
    ittl: u8,
    olen: u8,
    mss: Option<u16>,
    wsize: WSize,
    scale: Option<u8>,
    olayout: Vec<Opt>,
    quirks: u32,
    pclass: Option<bool>,
    label: usize,
}

/// A label: what a signature identifies.
#[derive(Debug, Clone)]
struct Label {
    generic: bool,
    /// `win`, `unix`, `other`, or `!` for tools (not an OS).
    class: String,
    name: String,
    flavor: String,
    origin: &'static str,
}

/// The fields p0f derives from a SYN or SYN+ACK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSignature {
    /// 4 or 6.
    pub ver: u8,
    /// Observed TTL.
    pub ttl: u8,
    /// Guessed initial TTL (32, 64, 128 or 255).
    pub ittl: u8,
    /// IP options length.
    pub olen: u8,
    /// MSS option, if present.
    pub mss: Option<u16>,
    /// Window.
    pub window: u16,
    /// Window scale (0 without the option).
    pub scale: u8,
    olayout: Vec<Opt>,
    quirks: u32,
    /// Whether the SYN carried payload.
    pub payload: bool,
    /// SYN+ACK rather than SYN.
    pub syn_ack: bool,
}

impl TcpSignature {
    /// Derives the fields from the pipeline's event.
    pub fn from_event(e: &TcpSynEvent) -> TcpSignature {
        let ver = if e.ip.is_ipv6() { 6 } else { 4 };
        let ittl = match e.ttl {
            0..=32 => 32,
            33..=64 => 64,
            65..=128 => 128,
            _ => 255,
        };
        let mut quirks = 0;
        if e.df {
            quirks |= Q_DF;
            if e.ip_id != 0 && ver == 4 {
                quirks |= Q_ID_PLUS;
            }
        } else if e.ip_id == 0 && ver == 4 {
            quirks |= Q_ID_MINUS;
        }
        // ECN: IP ECN bits, or ECE/CWR on the SYN.
        if e.ecn & 3 != 0 || e.flags & 0xc0 != 0 {
            quirks |= Q_ECN;
        }
        if e.flow_label != 0 {
            quirks |= Q_FLOW;
        }
        if e.seq == 0 {
            quirks |= Q_SEQ_MINUS;
        }
        let ack_flag = e.flags & 0x10 != 0;
        if e.ack != 0 && !ack_flag {
            quirks |= Q_ACK_PLUS;
        }
        if e.ack == 0 && ack_flag {
            quirks |= Q_ACK_MINUS;
        }
        let urg_flag = e.flags & 0x20 != 0;
        if e.urgent != 0 && !urg_flag {
            quirks |= Q_UPTR_PLUS;
        }
        if urg_flag {
            quirks |= Q_URGF_PLUS;
        }
        if e.flags & 0x08 != 0 {
            quirks |= Q_PUSHF_PLUS;
        }
        let (olayout, mss, scale, opt_quirks) = parse_options(e.options(), e.syn_ack);
        TcpSignature {
            ver,
            ttl: e.ttl,
            ittl,
            olen: e.ip_opt_len,
            mss,
            window: e.window,
            scale: scale.unwrap_or(0),
            olayout,
            quirks: quirks | opt_quirks,
            payload: e.payload_len > 0,
            syn_ack: e.syn_ack,
        }
    }
}

impl std::fmt::Display for TcpSignature {
    /// p0f's notation: `4:64+2:0:1460:64240,7:mss,sok,ts,nop,ws:df,id+:0`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}+{}:{}:",
            self.ver,
            self.ittl,
            self.ittl.saturating_sub(self.ttl),
            self.olen
        )?;
        match self.mss {
            Some(m) => write!(f, "{m}")?,
            None => f.write_str("*")?,
        }
        write!(f, ":{},{}:", self.window, self.scale)?;
        for (i, o) in self.olayout.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match o {
                Opt::Eol(n) => write!(f, "eol+{n}")?,
                Opt::Nop => f.write_str("nop")?,
                Opt::Mss => f.write_str("mss")?,
                Opt::Ws => f.write_str("ws")?,
                Opt::Sok => f.write_str("sok")?,
                Opt::Sack => f.write_str("sack")?,
                Opt::Ts => f.write_str("ts")?,
                Opt::Other(k) => write!(f, "?{k}")?,
            }
        }
        f.write_str(":")?;
        let mut first = true;
        for (name, bit) in QUIRKS {
            if self.quirks & bit != 0 {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        write!(f, ":{}", if self.payload { "+" } else { "0" })
    }
}

/// Walks the options: layout, MSS, scale and option quirks.
fn parse_options(b: &[u8], syn_ack: bool) -> (Vec<Opt>, Option<u16>, Option<u8>, u32) {
    let mut layout = Vec::new();
    let (mut mss, mut scale, mut quirks) = (None, None, 0);
    let mut i = 0;
    while let Some(&kind) = b.get(i) {
        match kind {
            0 => {
                let rest = b.get(i + 1..).unwrap_or(&[]);
                if rest.iter().any(|&x| x != 0) {
                    quirks |= Q_OPT_PLUS;
                }
                layout.push(Opt::Eol(u8::try_from(rest.len()).unwrap_or(u8::MAX)));
                break;
            }
            1 => {
                layout.push(Opt::Nop);
                i += 1;
                continue;
            }
            _ => {}
        }
        let Some(&len) = b.get(i + 1) else {
            quirks |= Q_BAD;
            break;
        };
        let len = usize::from(len);
        let Some(body) = b.get(i + 2..i + len.max(2)).filter(|_| len >= 2) else {
            quirks |= Q_BAD;
            break;
        };
        match (kind, body) {
            (2, [h, l]) => {
                layout.push(Opt::Mss);
                mss = Some(u16::from_be_bytes([*h, *l]));
            }
            (3, [s]) => {
                layout.push(Opt::Ws);
                scale = Some(*s);
                if *s > 14 {
                    quirks |= Q_EXWS;
                }
            }
            (4, []) => layout.push(Opt::Sok),
            (5, _) => layout.push(Opt::Sack),
            (8, [a, b2, c, d, e, f, g, h]) => {
                layout.push(Opt::Ts);
                if u32::from_be_bytes([*a, *b2, *c, *d]) == 0 {
                    quirks |= Q_TS1_MINUS;
                }
                if !syn_ack && u32::from_be_bytes([*e, *f, *g, *h]) != 0 {
                    quirks |= Q_TS2_PLUS;
                }
            }
            (2 | 3 | 4 | 8, _) => {
                quirks |= Q_BAD;
                layout.push(match kind {
                    2 => Opt::Mss,
                    3 => Opt::Ws,
                    4 => Opt::Sok,
                    _ => Opt::Ts,
                });
            }
            (k, _) => layout.push(Opt::Other(k)),
        }
        i += len;
    }
    (layout, mss, scale, quirks)
}

/// What a fingerprint identified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct P0fMatch {
    /// `name flavor`, e.g. `Windows XP`.
    pub os: String,
    /// p0f's class: `win`, `unix`, `other`.
    pub class: String,
    /// A generic signature (a family, not a version).
    pub generic: bool,
    /// Matched only with `df`/`id` quirks differing.
    pub fuzzy: bool,
    /// Hops away (initial TTL minus observed).
    pub distance: u8,
    /// Which database the signature came from (`mamori.fp`, `/etc/p0f/p0f.fp`).
    pub origin: &'static str,
}

/// A line of a p0f file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin} line {line}: {message}")]
pub struct P0fError {
    /// The file.
    pub origin: &'static str,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Signatures for SYNs (`[tcp:request]`) and SYN+ACKs (`[tcp:response]`).
#[derive(Debug, Clone, Default)]
pub struct P0fDb {
    request: Vec<Sig>,
    response: Vec<Sig>,
    labels: Vec<Label>,
}

/// mamori's own signatures (see `data/mamori.fp`).
pub const MAMORI_FP: &str = include_str!("../data/mamori.fp");

impl P0fDb {
    /// A database of mamori's own signatures.
    pub fn builtin() -> P0fDb {
        let mut db = P0fDb::default();
        // The built-in file is tested to parse cleanly.
        let _ = db.parse(MAMORI_FP, "mamori.fp");
        db
    }

    /// Adds the TCP signatures of a p0f.fp-format text; sections other than
    /// `[tcp:request]` and `[tcp:response]` are skipped. Returns the lines that
    /// could not be read (the rest are kept).
    pub fn parse(&mut self, text: &str, origin: &'static str) -> Vec<P0fError> {
        let mut errors = Vec::new();
        let mut section: Option<bool> = None; // Some(false) request, Some(true) response
        let mut label: Option<usize> = None;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
                continue;
            }
            let err = |message: String| P0fError {
                origin,
                line: n + 1,
                message,
            };
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = match name {
                    "tcp:request" => Some(false),
                    "tcp:response" => Some(true),
                    _ => None,
                };
                label = None;
                continue;
            }
            let Some(response) = section else {
                continue;
            };
            let Some((key, value)) = line.split_once('=') else {
                errors.push(err(format!("expected key = value, got {line:?}")));
                continue;
            };
            match key.trim() {
                "label" => match parse_label(value.trim(), origin) {
                    Some(l) => {
                        self.labels.push(l);
                        label = Some(self.labels.len() - 1);
                    }
                    None => {
                        label = None;
                        errors.push(err(format!("bad label {:?}", value.trim())));
                    }
                },
                "sig" => {
                    let Some(l) = label else {
                        errors.push(err("sig before any label".into()));
                        continue;
                    };
                    match parse_sig(value.trim(), l) {
                        Ok(s) if response => self.response.push(s),
                        Ok(s) => self.request.push(s),
                        Err(m) => errors.push(err(m)),
                    }
                }
                _ => {} // sys, classes, ua_os: not used for TCP
            }
        }
        errors
    }

    /// Number of SYN and SYN+ACK signatures.
    pub fn len(&self) -> (usize, usize) {
        (self.request.len(), self.response.len())
    }

    /// Whether there are no signatures.
    pub fn is_empty(&self) -> bool {
        self.request.is_empty() && self.response.is_empty()
    }

    /// The best OS match for a packet's signature (tools, class `!`, are not OSes
    /// and are skipped).
    pub fn matches(&self, t: &TcpSignature) -> Option<P0fMatch> {
        let sigs = if t.syn_ack {
            &self.response
        } else {
            &self.request
        };
        // Rank: exact specific < exact generic < fuzzy specific < fuzzy generic.
        let mut best: Option<(u8, &Sig)> = None;
        for s in sigs {
            let Some(fuzzy) = sig_matches(s, t) else {
                continue;
            };
            let Some(label) = self.labels.get(s.label) else {
                continue;
            };
            if label.class == "!" {
                continue;
            }
            let rank = u8::from(fuzzy) * 2 + u8::from(label.generic);
            if best.is_none_or(|(r, _)| rank < r) {
                best = Some((rank, s));
                if rank == 0 {
                    break;
                }
            }
        }
        let (rank, s) = best?;
        let label = self.labels.get(s.label)?;
        let os = if label.flavor.is_empty() {
            label.name.clone()
        } else {
            format!("{} {}", label.name, label.flavor)
        };
        Some(P0fMatch {
            os,
            class: label.class.clone(),
            generic: label.generic,
            fuzzy: rank >= 2,
            distance: s.ittl.saturating_sub(t.ttl),
            origin: label.origin,
        })
    }
}

/// `Some(fuzzy)` when `s` matches `t`.
fn sig_matches(s: &Sig, t: &TcpSignature) -> Option<bool> {
    if s.olayout != t.olayout
        || s.ver.is_some_and(|v| v != t.ver)
        || s.olen != t.olen
        || s.mss.is_some_and(|m| Some(m) != t.mss)
        || s.scale.is_some_and(|sc| sc != t.scale)
        || s.pclass.is_some_and(|p| p != t.payload)
    {
        return None;
    }
    if t.ttl > s.ittl || s.ittl - t.ttl > MAX_DIST {
        return None;
    }
    let w = u32::from(t.window);
    let ok = match s.wsize {
        WSize::Any => true,
        WSize::Exact(x) => t.window == x,
        WSize::Mss(n) => t.mss.is_some_and(|m| u32::from(m) * u32::from(n) == w),
        WSize::Mtu(n) => t.mss.is_some_and(|m| {
            let mtu = u32::from(m) + if t.ver == 6 { 60 } else { 40 };
            mtu * u32::from(n) == w
        }),
        WSize::Mod(n) => n != 0 && w % u32::from(n) == 0,
    };
    if !ok {
        return None;
    }
    if s.quirks == t.quirks {
        Some(false)
    } else if (s.quirks ^ t.quirks) & !Q_FUZZY == 0 {
        Some(true)
    } else {
        None
    }
}

fn parse_label(v: &str, origin: &'static str) -> Option<Label> {
    let mut it = v.splitn(4, ':');
    let kind = it.next()?;
    let class = it.next()?;
    let name = it.next()?;
    let flavor = it.next().unwrap_or("");
    let generic = match kind {
        "s" => false,
        "g" => true,
        _ => return None,
    };
    if name.is_empty() {
        return None;
    }
    Some(Label {
        generic,
        class: class.to_string(),
        name: name.to_string(),
        flavor: flavor.trim().to_string(),
        origin,
    })
}

fn parse_sig(v: &str, label: usize) -> Result<Sig, String> {
    let f: Vec<&str> = v.split(':').collect();
    let [ver, ittl, olen, mss, win, olayout, quirks, pclass] = f[..] else {
        return Err(format!("want 8 fields, got {}", f.len()));
    };
    let num = |what: &str, s: &str| -> Result<u16, String> {
        s.parse::<u16>().map_err(|_| format!("bad {what} {s:?}"))
    };
    let ver = match ver {
        "*" => None,
        "4" => Some(4),
        "6" => Some(6),
        other => return Err(format!("bad ver {other:?}")),
    };
    // `64`, `64-` (p0f's "bad TTL" marker) or `54+10` (observed+distance).
    let ittl_num = ittl.trim_end_matches('-');
    let ittl = match ittl_num.split_once('+') {
        Some((a, b)) => num("ittl", a)?.saturating_add(num("ittl", b)?),
        None => num("ittl", ittl_num)?,
    };
    let ittl = u8::try_from(ittl).map_err(|_| format!("ittl {ittl} above 255"))?;
    let olen = u8::try_from(num("olen", olen)?).map_err(|_| "olen above 255".to_string())?;
    let mss = match mss {
        "*" => None,
        m => Some(num("mss", m)?),
    };
    let (wsize, scale) = win
        .split_once(',')
        .ok_or_else(|| format!("bad wsize,scale {win:?}"))?;
    let wsize = if wsize == "*" {
        WSize::Any
    } else if let Some(n) = wsize.strip_prefix("mss*") {
        WSize::Mss(num("wsize", n)?)
    } else if let Some(n) = wsize.strip_prefix("mtu*") {
        WSize::Mtu(num("wsize", n)?)
    } else if let Some(n) = wsize.strip_prefix('%') {
        WSize::Mod(num("wsize", n)?)
    } else {
        WSize::Exact(num("wsize", wsize)?)
    };
    let scale = match scale {
        "*" => None,
        s => Some(u8::try_from(num("scale", s)?).map_err(|_| "scale above 255".to_string())?),
    };
    let mut layout = Vec::new();
    for o in olayout.split(',').filter(|o| !o.is_empty()) {
        layout.push(match o {
            "nop" => Opt::Nop,
            "mss" => Opt::Mss,
            "ws" => Opt::Ws,
            "sok" => Opt::Sok,
            "sack" => Opt::Sack,
            "ts" => Opt::Ts,
            other => {
                if let Some(n) = other.strip_prefix("eol+") {
                    Opt::Eol(u8::try_from(num("eol", n)?).map_err(|_| "eol pad".to_string())?)
                } else if let Some(n) = other.strip_prefix('?') {
                    Opt::Other(u8::try_from(num("option", n)?).map_err(|_| "option".to_string())?)
                } else {
                    return Err(format!("bad option {other:?}"));
                }
            }
        });
    }
    let mut q = 0;
    for name in quirks.split(',').filter(|o| !o.is_empty()) {
        let bit = QUIRKS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
            .ok_or_else(|| format!("bad quirk {name:?}"))?;
        q |= bit;
    }
    let pclass = match pclass {
        "*" => None,
        "0" => Some(false),
        "+" => Some(true),
        other => return Err(format!("bad pclass {other:?}")),
    };
    Ok(Sig {
        ver,
        ittl,
        olen,
        mss,
        wsize,
        scale,
        olayout: layout,
        quirks: q,
        pclass,
        label,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_flow::Uid;
    use proptest::prelude::*;

    /// A SYN as the pipeline reports it.
    pub(crate) fn syn(ttl: u8, df: bool, window: u16, opts: &[u8], syn_ack: bool) -> TcpSynEvent {
        let mut options = [0u8; 40];
        options[..opts.len()].copy_from_slice(opts);
        TcpSynEvent {
            ts: 0,
            uid: Uid(1),
            ip: "10.0.0.5".parse().unwrap(),
            mac: None,
            syn_ack,
            ttl,
            df,
            ip_id: 0x1234,
            ip_opt_len: 0,
            ecn: 0,
            flow_label: 0,
            window,
            flags: if syn_ack { 0x12 } else { 0x02 },
            seq: 1,
            ack: u32::from(syn_ack),
            urgent: 0,
            options,
            options_len: opts.len() as u8,
            payload_len: 0,
        }
    }

    #[test]
    fn builtin_file_parses_cleanly() {
        let mut db = P0fDb::default();
        assert_eq!(db.parse(MAMORI_FP, "mamori.fp"), vec![]);
        let (req, resp) = db.len();
        assert!(req > 20 && resp > 10, "{req} {resp}");
    }

    #[test]
    fn windows_xp_syn_and_siemens_syn_ack() {
        let db = P0fDb::builtin();
        // XP: MSS 1460 (02 04 05b4), NOP NOP, SACK permitted (04 02), window 64240.
        let xp =
            TcpSignature::from_event(&syn(128, true, 64240, &[2, 4, 5, 0xb4, 1, 1, 4, 2], false));
        assert_eq!(
            xp.to_string(),
            "4:128+0:0:1460:64240,0:mss,nop,nop,sok:df,id+:0"
        );
        let m = db.matches(&xp).expect("match");
        assert_eq!(
            (m.os.as_str(), m.fuzzy, m.generic),
            ("Windows XP", false, false)
        );
        // S7-1500 SYN+ACK as seen in iti_S7-1511_db3_var1_HMI.pcap: TTL 30, no DF, window 4096, MSS only.
        let s7 = TcpSignature::from_event(&syn(30, false, 4096, &[2, 4, 5, 0xb4], true));
        let m = db.matches(&s7).expect("match");
        assert_eq!(m.os, "Siemens SIMATIC S7 PLC");
        assert_eq!(m.distance, 2);
        // Linux 4.x+: MSS, SACK-permitted, timestamps (ts1 nonzero), NOP, WS 7.
        let linux = TcpSignature::from_event(&syn(
            61,
            true,
            64240,
            &[
                2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0, 1, 3, 3, 7,
            ],
            false,
        ));
        assert_eq!(
            linux.to_string(),
            "4:64+3:0:1460:64240,7:mss,sok,ts,nop,ws:df,id+:0"
        );
        assert_eq!(
            db.matches(&linux).map(|m| m.os),
            Some("Linux 4.x or later".into())
        );
        // Far too far away (TTL 20 under 128 is > 35 hops from 64 too): no match.
        let far =
            TcpSignature::from_event(&syn(20, true, 64240, &[2, 4, 5, 0xb4, 1, 1, 4, 2], false));
        assert!(db.matches(&far).is_none());
    }

    #[test]
    fn fuzzy_when_only_df_differs_and_quirks_in_options() {
        let db = P0fDb::builtin();
        let xp =
            TcpSignature::from_event(&syn(128, false, 64240, &[2, 4, 5, 0xb4, 1, 1, 4, 2], false));
        let m = db.matches(&xp).expect("fuzzy match");
        assert!(m.fuzzy);
        // Truncated option (MSS claims 4 bytes, 2 left): `bad`; EOL with junk: `opt+`.
        let bad = TcpSignature::from_event(&syn(64, true, 1, &[2, 4, 5], false));
        assert!(bad.to_string().contains("bad"), "{bad}");
        let junk = TcpSignature::from_event(&syn(64, true, 1, &[2, 4, 5, 0xb4, 0, 7], false));
        assert!(junk.to_string().contains("eol+1") && junk.to_string().contains("opt+"));
    }

    #[test]
    fn bad_lines_are_reported_with_positions() {
        let mut db = P0fDb::default();
        let errs = db.parse(
            "[tcp:request]\nsig = *:64:0:*:*,*:mss:df:0\nlabel = s:unix:Linux:x\nsig = *:64:0\nsig = *:64:0:*:mss*10,7:mss,zz:df:0\nsig = 4:64:0:1460:%8192,*:mss::*\n[http:request]\nsig = whatever\n",
            "test",
        );
        let lines: Vec<usize> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 4, 5]);
        assert_eq!(db.len(), (1, 0));
    }

    proptest! {
        #[test]
        fn any_options_derive_without_panic(opts in proptest::collection::vec(any::<u8>(), 0..40), ttl: u8, win: u16) {
            let e = syn(ttl, true, win, &opts, false);
            let t = TcpSignature::from_event(&e);
            let _ = t.to_string();
            let _ = P0fDb::builtin().matches(&t);
        }
    }
}
