//! Content strings: decoding `"GET |20 2f|"` into bytes, and searching for them.
//!
//! A content value is a quoted string in which `|..|` holds hexadecimal bytes (spaces
//! allowed between them) and a backslash makes the next character literal (`\"`, `\\`,
//! `\;`, `\:`, `\|`). Searching is either exact (a prebuilt [`memchr::memmem::Finder`])
//! or ASCII case-insensitive (`nocase`): the first byte in either case is found with
//! `memchr2`, then the rest compared, which is fast enough because the matcher only
//! verifies rules the prefilter already picked.

use memchr::memmem::Finder;

/// Decodes the inside of a content string (quotes already removed). `Err` holds the
/// byte offset of the problem inside `text` and a message.
pub fn decode(text: &str) -> Result<Vec<u8>, (usize, String)> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => {
                let Some(&next) = b.get(i + 1) else {
                    return Err((i, "backslash at the end of the content".into()));
                };
                out.push(next);
                i += 2;
            }
            b'|' => {
                let start = i;
                i += 1;
                let mut hi: Option<u8> = None;
                loop {
                    let Some(&h) = b.get(i) else {
                        return Err((start, "unterminated `|` hex block".into()));
                    };
                    i += 1;
                    match h {
                        b'|' => break,
                        b' ' | b'\t' => {
                            if hi.is_some() {
                                return Err((i - 1, "space inside a hex byte".into()));
                            }
                        }
                        _ => {
                            let Some(v) = (h as char).to_digit(16) else {
                                return Err((i - 1, format!("`{}` is not a hex digit", h as char)));
                            };
                            let v = v as u8;
                            match hi.take() {
                                None => hi = Some(v),
                                Some(h) => out.push(h << 4 | v),
                            }
                        }
                    }
                }
                if hi.is_some() {
                    return Err((start, "odd number of hex digits".into()));
                }
            }
            b'"' => return Err((i, "unescaped `\"` inside the content".into())),
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// A compiled search for one content.
#[derive(Debug, Clone)]
pub(crate) enum Searcher {
    /// Exact bytes.
    Exact(Box<Finder<'static>>),
    /// ASCII case-insensitive: the pattern lower-cased.
    NoCase(Box<[u8]>),
}

impl Searcher {
    pub(crate) fn new(pattern: &[u8], nocase: bool) -> Self {
        if nocase && pattern.iter().any(u8::is_ascii_alphabetic) {
            Searcher::NoCase(pattern.to_ascii_lowercase().into_boxed_slice())
        } else {
            Searcher::Exact(Box::new(Finder::new(pattern).into_owned()))
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Searcher::Exact(f) => f.needle().len(),
            Searcher::NoCase(p) => p.len(),
        }
    }

    /// First match in `hay`, as an offset into `hay`.
    pub(crate) fn find(&self, hay: &[u8]) -> Option<usize> {
        match self {
            Searcher::Exact(f) => f.find(hay),
            Searcher::NoCase(p) => find_nocase(hay, p),
        }
    }
}

/// First ASCII case-insensitive match of `needle` (lower case) in `hay`.
fn find_nocase(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let last_start = hay.len().checked_sub(needle.len())?;
    let upper = first.to_ascii_uppercase();
    let mut from = 0;
    while from <= last_start {
        let window = hay.get(from..=last_start)?;
        let at = from + memchr::memchr2(first, upper, window)?;
        let tail = hay.get(at + 1..at + needle.len())?;
        if tail.eq_ignore_ascii_case(rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_hex_and_escapes() {
        assert_eq!(decode("GET |20 2F|x").unwrap(), b"GET  /x");
        assert_eq!(decode("|00|a|FF|").unwrap(), [0, b'a', 0xff]);
        assert_eq!(decode("|0a0D|").unwrap(), [0x0a, 0x0d]);
        assert_eq!(decode(r#"a\"b\;c\\d\:"#).unwrap(), br#"a"b;c\d:"#);
        assert_eq!(decode("").unwrap(), b"");
    }

    #[test]
    fn decode_errors_point_at_the_problem() {
        assert_eq!(decode("ab|0").unwrap_err().0, 2);
        assert_eq!(decode("|0g|").unwrap_err().0, 2);
        assert_eq!(decode("|012|").unwrap_err().0, 0);
        assert_eq!(decode("ab\\").unwrap_err().0, 2);
        assert_eq!(decode("a\"b").unwrap_err().0, 1);
        assert_eq!(decode("|0 1|").unwrap_err().0, 2);
    }

    #[test]
    fn nocase_search() {
        let s = Searcher::new(b"Admin", true);
        assert_eq!(s.find(b"xx aDMIN yy"), Some(3));
        assert_eq!(s.find(b"admi"), None);
        assert_eq!(s.find(b"aaaaadmin"), Some(4));
        let s = Searcher::new(b"Admin", false);
        assert_eq!(s.find(b"xx aDMIN admin Admin"), Some(15));
        // A pattern without letters uses the exact finder even under nocase.
        assert!(matches!(
            Searcher::new(b"|\x00\x01", true),
            Searcher::Exact(_)
        ));
    }
}
