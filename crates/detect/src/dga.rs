//! Does a domain name look machine-generated?
//!
//! Domain generation algorithms draw labels from a uniform alphabet, so their
//! letters are close to equiprobable (high Shannon entropy), vowels are rare (a
//! uniform draw from `a-z0-9` is about 14 % vowels, English-like names 35-40 %) and
//! digits are mixed in. [`score`] looks at the longest label below the public suffix
//! (the last label; for two-letter country codes the last two when the second-level
//! label is short, as in `co.jp`) and calls it generated when it is long enough, its
//! entropy reaches the threshold, and either vowels are rare (under 30 %) or digits common (10 % or more).

/// What [`score`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct DgaScore {
    /// The label examined.
    pub label: String,
    /// Its Shannon entropy in bits per character.
    pub entropy: f64,
    /// Share of vowels among letters and digits.
    pub vowel_ratio: f64,
    /// Share of digits.
    pub digit_ratio: f64,
    /// The verdict.
    pub generated: bool,
}

/// Shannon entropy of the bytes of `s`, bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut n = 0u32;
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = f64::from(n);
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// The registrable-looking labels of a name: everything but the public suffix.
fn labels(name: &str) -> Vec<&str> {
    let parts: Vec<&str> = name
        .trim_end_matches('.')
        .split('.')
        .filter(|p| !p.is_empty())
        .collect();
    let suffix = match parts.as_slice() {
        [.., sld, tld] if tld.len() == 2 && sld.len() <= 3 => 2,
        [_, ..] => 1,
        [] => 0,
    };
    let keep = parts.len().saturating_sub(suffix);
    parts.into_iter().take(keep).collect()
}

/// Suffixes that never reach the public DNS: a generated-looking name under them is
/// a device or host naming scheme (`plc-1-m340.plant.local`), not a DGA domain,
/// which must be registrable to be of use to malware.
const SITE_SUFFIXES: [&str; 8] = [
    "local",
    "lan",
    "internal",
    "intranet",
    "localdomain",
    "home",
    "corp",
    "arpa",
];

fn site_local(name: &str) -> bool {
    let last = name.trim_end_matches('.').rsplit('.').next().unwrap_or("");
    SITE_SUFFIXES.contains(&last)
}

/// A label made of short hyphen-separated words (`plc-1-m340`, `hmi-2-tp1`) is a
/// naming scheme; generated labels are one run of characters.
fn short_words(label: &str) -> bool {
    label.contains('-') && label.split('-').all(|w| w.len() <= 6)
}

/// Scores `name` against an entropy threshold and a minimum label length.
pub fn score(name: &str, threshold: f64, min_len: usize) -> DgaScore {
    let lower = name.to_ascii_lowercase();
    let label = labels(&lower)
        .into_iter()
        .max_by_key(|l| l.len())
        .unwrap_or("")
        .to_string();
    let alnum = label
        .bytes()
        .filter(u8::is_ascii_alphanumeric)
        .count()
        .max(1) as f64;
    let vowels = label.bytes().filter(|b| b"aeiouy".contains(b)).count() as f64;
    let digits = label.bytes().filter(u8::is_ascii_digit).count() as f64;
    let e = entropy(&label);
    let vowel_ratio = vowels / alnum;
    let digit_ratio = digits / alnum;
    let generated = label.len() >= min_len
        && e >= threshold
        && (vowel_ratio < 0.3 || digit_ratio >= 0.1)
        && !site_local(&lower)
        && !short_words(&label);
    DgaScore {
        label,
        entropy: e,
        vowel_ratio,
        digit_ratio,
        generated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_are_not_generated() {
        for n in [
            "login.microsoftonline.com",
            "outlook.office365.com",
            "teams.microsoft.com",
            "ctldl.windowsupdate.com",
            "www.google.com",
            "www.yahoo.co.jp",
            "www.jma.go.jp",
            "supplier-portal.example.com",
            "www.msftconnecttest.com",
            "update.remote-support.example.net",
            "plc-1-s7.plant.local",
            "plc-1-m340.plant.local",
            "hmi-2-tp1.line2.example.com",
            "rtu-water.plant.local",
            "_ldap._tcp.dc._msdcs.plant.local",
            "wpad",
            "",
        ] {
            let s = score(n, 3.0, 10);
            assert!(!s.generated, "{n}: {s:?}");
        }
    }

    #[test]
    fn random_labels_are_generated() {
        for n in [
            "x7k2qj9vmzr4t.com",
            "qwz8rt5kplm2xv.net",
            "k3j9x2m7q8w4z1.info",
            "zxcvbnmqwrtpsdf.top",
        ] {
            let s = score(n, 3.0, 10);
            assert!(s.generated, "{n}: {s:?}");
        }
    }

    #[test]
    fn most_uniform_random_labels_are_caught() {
        // Labels drawn like a DGA (and the simulator's incident): 12-18 characters
        // uniformly from a-z0-9, by a small LCG.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: u64| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) % n
        };
        let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let mut caught = 0;
        for _ in 0..1000 {
            let len = 12 + next(7) as usize;
            let label: String = (0..len)
                .map(|_| char::from(alphabet[next(36) as usize]))
                .collect();
            if score(&format!("{label}.com"), 3.0, 10).generated {
                caught += 1;
            }
        }
        assert!(caught >= 950, "caught {caught} of 1000");
    }

    #[test]
    fn entropy_bounds() {
        assert_eq!(entropy(""), 0.0);
        assert_eq!(entropy("aaaa"), 0.0);
        assert!((entropy("abcd") - 2.0).abs() < 1e-9);
    }
}
