//! Operating systems: names normalised from what each protocol says, guesses from
//! DHCP and HTTP user agents, and their end of support.
//!
//! Every source gives an [`OsGuess`]: a name, a confidence (0-100) and the protocol.
//! The ledger keeps the best guess of each source and shows the most confident one.
//! Names are normalised to the names of the end-of-support table (`data/eol.txt`,
//! generated into `eol_table.rs`), so `Windows 5.1` from a CIFS browser announcement,
//! `Windows NT 5.1` from a user agent and `Windows XP` from a TCP fingerprint all
//! become `Windows XP`. Where a source can narrow an OS only to a family (DHCP's
//! `MSFT 5.0` without option 121 is Windows 2000, XP or Server 2003), the name is the
//! family's, and the family's end-of-support date is its latest member's.
//!
//! Confidences: CIFS browser and LLDP name the OS outright (85); a DHCP option 55
//! fingerprint of our table (65) or the vendor class alone (55); an exact TCP
//! fingerprint (70, generic signatures 55, fuzzy matches 40); a user agent (50: it is
//! the browser's claim, and a proxy's).

use crate::eol_table::{EOL, EOL_KEYS};

/// One source's idea of a device's OS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsGuess {
    /// The OS name (normalised where the table knows it).
    pub name: String,
    /// Confidence, 0-100.
    pub confidence: u8,
}

/// End of support of an OS name: `(ISO date, day number, reference)`.
pub fn end_of_support(name: &str) -> Option<(&'static str, i64, &'static str)> {
    let key = name.trim().to_ascii_lowercase();
    let i = EOL_KEYS
        .binary_search_by(|(k, _)| k.cmp(&key.as_str()))
        .ok()?;
    let (_, idx) = EOL_KEYS.get(i)?;
    EOL.get(*idx)
        .map(|(_, date, days, reference)| (*date, *days, *reference))
}

/// Every OS the end-of-support table knows: `(name, ISO date, reference)`.
pub fn eol_table() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    EOL.iter().map(|(n, d, _, r)| (*n, *d, *r))
}

/// Windows NT version numbers to the product names of the table (client and server
/// share a kernel version, hence the pairs).
fn windows_nt(version: &str) -> Option<&'static str> {
    let mut it = version.split('.');
    let major: u32 = it.next()?.trim().parse().ok()?;
    let minor: u32 = it
        .next()
        .and_then(|m| m.trim().split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    Some(match (major, minor) {
        (4, 0) => "Windows NT 4.0",
        (4, 10 | 90) => "Windows 98/ME",
        (5, 0) => "Windows 2000",
        (5, 1) => "Windows XP",
        (5, 2) => "Windows Server 2003",
        (6, 0) => "Windows Vista or Server 2008",
        (6, 1) => "Windows 7 or Server 2008 R2",
        (6, 2) => "Windows 8 or Server 2012",
        (6, 3) => "Windows 8.1 or Server 2012 R2",
        (10, 0) => "Windows 10 or later",
        _ => return None,
    })
}

/// Normalises an OS name a protocol stated (`Windows 5.1`, `Windows NT 6.1`,
/// `Ubuntu 18.04.6 LTS`): the table's name where one matches, else the text tidied.
pub fn normalize(raw: &str) -> String {
    let s = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let lower = s.to_ascii_lowercase();
    if let Some((name, ..)) = EOL_KEYS
        .iter()
        .find(|(k, _)| *k == lower)
        .and_then(|(_, i)| EOL.get(*i))
    {
        return (*name).to_string();
    }
    for prefix in ["windows nt ", "windows "] {
        if let Some(v) = lower.strip_prefix(prefix)
            && v.starts_with(|c: char| c.is_ascii_digit())
            && v.contains('.')
            && let Some(name) = windows_nt(v)
        {
            return name.to_string();
        }
    }
    // Distribution versions: keep major(.minor) for Ubuntu, major for the others.
    for (prefix, name, parts) in [
        ("ubuntu ", "Ubuntu", 2),
        ("centos linux ", "CentOS", 1),
        ("centos ", "CentOS", 1),
        ("debian ", "Debian", 1),
        ("red hat enterprise linux ", "Red Hat Enterprise Linux", 1),
    ] {
        if let Some(v) = lower.strip_prefix(prefix) {
            let ver: Vec<&str> = v
                .split(|c: char| !c.is_ascii_digit() && c != '.')
                .next()
                .unwrap_or("")
                .split('.')
                .filter(|p| !p.is_empty())
                .take(parts)
                .collect();
            if !ver.is_empty() {
                return format!("{name} {}", ver.join("."));
            }
        }
    }
    s
}

/// The OS a DHCP client's vendor class (option 60) and parameter request list
/// (option 55, `"1,15,3,6,..."`) suggest. The option 55 lists are our own small table
/// of common clients' defaults; a list not in it falls back to the vendor class.
pub fn from_dhcp(vendor_class: Option<&str>, param_list: Option<&str>) -> Option<OsGuess> {
    // Option 55 lists as the clients send them (written from the clients' documented
    // defaults and our own captures; not exhaustive).
    const PRL: &[(&str, &str)] = &[
        ("1,15,3,6,44,46,47,31,33,249,43", "Windows XP"),
        ("1,15,3,6,44,46,47,31,33,249,43,252", "Windows XP"),
        ("1,15,3,6,44,46,47,31,33,43", "Windows 2000/XP/Server 2003"),
        (
            "1,15,3,6,44,46,47,31,33,121,249,43,252",
            "Windows Vista or Server 2008",
        ),
        (
            "1,15,3,6,44,46,47,31,33,121,249,43",
            "Windows 7 or Server 2008 R2",
        ),
        (
            "1,15,3,6,44,46,47,31,33,121,249,252,43",
            "Windows 8 or later",
        ),
        (
            "1,3,6,15,31,33,43,44,46,47,119,121,249,252",
            "Windows 10 or later",
        ),
        ("1,121,3,6,15,119,252,95,44,46", "macOS"),
        ("1,121,3,6,15,108,114,119,252,95,44,46", "macOS"),
        ("1,121,3,6,15,119,252", "iOS"),
        ("1,3,6,15,26,28,51,58,59,43", "Android"),
        ("1,3,6,15,26,28,51,58,59,43,114", "Android"),
        (
            "1,28,2,3,15,6,119,12,44,47,26,121,42",
            "Linux (ISC dhclient)",
        ),
        (
            "1,3,6,12,15,28,42,40,41,26,119,121",
            "Linux (systemd-networkd)",
        ),
        ("1,3,6,12,15,28,42", "Linux (BusyBox udhcpc)"),
        ("1,3,6,12,15,17,28,40,41,42", "Linux (BusyBox udhcpc)"),
    ];
    if let Some(p) = param_list {
        let key: String = p.chars().filter(|c| !c.is_whitespace()).collect();
        if let Some((_, name)) = PRL.iter().find(|(k, _)| *k == key) {
            return Some(OsGuess {
                name: (*name).to_string(),
                confidence: 65,
            });
        }
    }
    let v = vendor_class?.trim();
    let prl_has_121 = param_list.is_some_and(|p| p.split(',').any(|c| c.trim() == "121"));
    let name = if v == "MSFT 98" {
        "Windows 98/ME"
    } else if v == "MSFT 5.0" {
        match param_list {
            Some(_) if prl_has_121 => "Windows Vista or later",
            Some(_) => "Windows 2000/XP/Server 2003",
            None => "Windows",
        }
    } else if v.starts_with("MSFT") {
        "Windows"
    } else if v.starts_with("android-dhcp") {
        "Android"
    } else if v.starts_with("dhcpcd") {
        "Linux/BSD (dhcpcd)"
    } else if v.starts_with("udhcp") {
        "Linux (BusyBox udhcpc)"
    } else {
        return None;
    };
    Some(OsGuess {
        name: name.to_string(),
        confidence: 55,
    })
}

/// The OS an HTTP `User-Agent` names, if any.
pub fn from_user_agent(ua: &str) -> Option<OsGuess> {
    let guess = |name: String| {
        Some(OsGuess {
            name,
            confidence: 50,
        })
    };
    if let Some(i) = ua.find("Windows NT ") {
        let v = ua.get(i + 11..)?;
        let ver: String = v
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        // A browser reports the client: NT 6.1 on a desktop is Windows 7.
        let name = match ver.as_str() {
            "5.1" => "Windows XP",
            "5.2" => "Windows Server 2003",
            "6.0" => "Windows Vista",
            "6.1" => "Windows 7",
            "6.2" => "Windows 8",
            "6.3" => "Windows 8.1",
            "10.0" => "Windows 10 or later",
            _ => "Windows",
        };
        return guess(name.to_string());
    }
    if ua.contains("Windows CE") {
        return guess("Windows CE".to_string());
    }
    if let Some(i) = ua.find("Android ") {
        let ver: String = ua
            .get(i + 8..)?
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        return guess(format!("Android {ver}").trim().to_string());
    }
    if ua.contains("iPhone") || ua.contains("iPad") {
        return guess("iOS".to_string());
    }
    if let Some(i) = ua.find("Mac OS X ") {
        let ver: String = ua
            .get(i + 9..)?
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '_' || *c == '.')
            .map(|c| if c == '_' { '.' } else { c })
            .collect();
        return guess(format!("macOS {ver}").trim().to_string());
    }
    if let Some(i) = ua.find("Ubuntu") {
        let rest = ua.get(i..).unwrap_or("");
        let name: String = rest
            .chars()
            .take_while(|c| *c != ';' && *c != ')')
            .collect();
        return guess(normalize(&name.replace('/', " ")));
    }
    if ua.contains("CrOS") {
        return guess("ChromeOS".to_string());
    }
    if ua.contains("Linux") {
        return guess("Linux".to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_versions_normalise_to_the_table() {
        assert_eq!(normalize("Windows 5.1"), "Windows XP");
        assert_eq!(normalize("windows  nt 6.1"), "Windows 7 or Server 2008 R2");
        assert_eq!(normalize("Windows XP"), "Windows XP");
        assert_eq!(normalize("Ubuntu 18.04.6 LTS"), "Ubuntu 18.04");
        assert_eq!(normalize("CentOS Linux 7 (Core)"), "CentOS 7");
        assert_eq!(normalize("VxWorks 6.9"), "VxWorks 6.9");
    }

    #[test]
    fn end_of_support_dates_and_aliases() {
        assert_eq!(
            end_of_support("Windows XP").map(|e| e.0),
            Some("2014-04-08")
        );
        assert_eq!(
            end_of_support("windows nt 5.1").map(|e| e.0),
            Some("2014-04-08")
        );
        assert_eq!(end_of_support("Windows 7").map(|e| e.0), Some("2020-01-14"));
        assert_eq!(
            end_of_support("Windows 8.1").map(|e| e.0),
            Some("2023-01-10")
        );
        assert_eq!(
            end_of_support("Windows 10").map(|e| e.0),
            Some("2025-10-14")
        );
        assert_eq!(
            end_of_support("Windows 2000/XP/Server 2003").map(|e| e.0),
            Some("2015-07-14")
        );
        assert_eq!(end_of_support("Windows 10 or later"), None);
        assert!(eol_table().all(|(_, _, r)| !r.is_empty()));
    }

    #[test]
    fn dhcp_fingerprints() {
        let xp = from_dhcp(Some("MSFT 5.0"), Some("1,15,3,6,44,46,47,31,33,249,43"));
        assert_eq!(xp.map(|g| g.name), Some("Windows XP".to_string()));
        let old = from_dhcp(Some("MSFT 5.0"), Some("1,3,6,15"));
        assert_eq!(
            old.map(|g| g.name),
            Some("Windows 2000/XP/Server 2003".to_string())
        );
        let vista = from_dhcp(Some("MSFT 5.0"), Some("1,3,6,15,121"));
        assert_eq!(
            vista.map(|g| g.name),
            Some("Windows Vista or later".to_string())
        );
        assert_eq!(from_dhcp(Some("something"), None), None);
    }

    #[test]
    fn user_agents() {
        let ua = |s: &str| from_user_agent(s).map(|g| g.name);
        assert_eq!(
            ua("Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)").as_deref(),
            Some("Windows XP")
        );
        assert_eq!(
            ua("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36").as_deref(),
            Some("Windows 10 or later")
        );
        assert_eq!(
            ua("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)").as_deref(),
            Some("macOS 10.15.7")
        );
        assert_eq!(
            ua("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0)").as_deref(),
            Some("Ubuntu")
        );
        assert_eq!(
            ua("Mozilla/5.0 (Linux; Android 9; SM-G960F)").as_deref(),
            Some("Android 9")
        );
        assert_eq!(ua("curl/8.0"), None);
    }
}
