//! `pcre` options: from PCRE syntax to the `regex` crate's.
//!
//! Suricata hands `pcre:"/pattern/flags"` to PCRE; we run it with [`regex::bytes`]
//! (Unicode off, so `.` and classes work on bytes). Most of PCRE's syntax is the
//! same; [`translate`] rewrites what differs and refuses what `regex` cannot do, so
//! the rule is skipped with a precise reason instead of matching something else:
//!
//! - refused: backreferences (`\1`, `\k<..>`, `(?P=..)`), look-around (`(?=`, `(?!`,
//!   `(?<=`, `(?<!`), atomic groups and possessive quantifiers, recursion and
//!   subroutines, conditionals, callouts, backtracking verbs (`(*..)`), `\G`, `\K`,
//!   Unicode properties, and the HTTP-buffer flags (`U I P Q H D M C K S Y V W Z`);
//! - rewritten: `\h \H \v \V \R \e \cX \Z`, octal `\0nn`, one-digit `\xH`, `\Q..\E`,
//!   `\<` and `\>` (literal in PCRE, word boundaries in `regex`), `(?#..)` comments,
//!   `(?'name'..)`, a `{` that does not start a quantifier (literal in PCRE), `[`, `&`,
//!   `~` and doubled `-` inside a class (set operators in `regex`), `\b` inside a
//!   class (backspace);
//! - flags: `i s m x` become inline flags, `G` is `(?U)`, `A` anchors the pattern,
//!   `E` is how `regex` treats `$` anyway, `R` makes the match relative to the previous
//!   content (the caller keeps that), `B` and `O` are accepted and ignored.
//!
//! Known difference: without `m`, PCRE's `$` also matches before a final newline;
//! `regex`'s matches only at the very end.

/// A translated pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translated {
    /// The pattern in `regex` syntax, flags inline.
    pub pattern: String,
    /// The `R` flag: search from the end of the previous match.
    pub relative: bool,
}

/// Translates the unquoted `pcre` value (`/pattern/flags`). `Err` says what is not
/// supported or malformed.
pub fn translate(value: &str) -> Result<Translated, String> {
    let body = value.strip_prefix('/').ok_or("pcre must start with `/`")?;
    let end = body.rfind('/').ok_or("pcre has no closing `/`")?;
    let (pat, flags) = (&body[..end], &body[end + 1..]);
    let mut inline = String::new();
    let (mut relative, mut anchored, mut extended) = (false, false, false);
    for f in flags.chars() {
        match f {
            'i' | 's' | 'm' => inline.push(f),
            'x' => {
                inline.push('x');
                extended = true;
            }
            'G' => inline.push('U'),
            'A' => anchored = true,
            'R' => relative = true,
            'E' | 'B' | 'O' => {}
            'U' | 'I' | 'P' | 'Q' | 'H' | 'D' | 'M' | 'C' | 'K' | 'S' | 'Y' | 'V' | 'W' | 'Z' => {
                return Err(format!("flag {f} (HTTP buffer)"));
            }
            _ => return Err(format!("unknown flag `{f}`")),
        }
    }
    let mut out = String::with_capacity(pat.len() + 16);
    if !inline.is_empty() {
        out.push_str("(?");
        out.push_str(&inline);
        out.push(')');
    }
    if anchored {
        out.push_str("^(?:");
    }
    rewrite(pat, &mut out)?;
    if anchored {
        if extended {
            out.push('\n');
        }
        out.push(')');
    }
    Ok(Translated {
        pattern: out,
        relative,
    })
}

fn rewrite(pat: &str, out: &mut String) -> Result<(), String> {
    let chars: Vec<char> = pat.chars().collect();
    let mut i = 0;
    let mut in_class = false;
    // Position in the class (0 = just after `[` or `[^`), to keep a leading `]` literal.
    let mut class_pos = 0usize;
    let mut after_quantifier = false;
    let at = |i: usize| chars.get(i).copied();
    while let Some(c) = at(i) {
        let was_quantifier = after_quantifier;
        after_quantifier = false;
        if in_class {
            match c {
                ']' if class_pos > 0 => {
                    in_class = false;
                    out.push(']');
                    i += 1;
                    continue;
                }
                '[' if at(i + 1) == Some(':') => {
                    // POSIX class `[:name:]`, passed through whole.
                    let close =
                        (i + 2..chars.len()).find(|&j| chars[j] == ':' && at(j + 1) == Some(']'));
                    match close {
                        Some(j) => {
                            out.extend(&chars[i..j + 2]);
                            i = j + 2;
                        }
                        None => {
                            out.push_str("\\[");
                            i += 1;
                        }
                    }
                }
                '[' | '&' | '~' => {
                    out.push('\\');
                    out.push(c);
                    i += 1;
                }
                '-' if at(i + 1) == Some('-')
                    || (class_pos > 0 && out.ends_with('-') && !out.ends_with("\\-")) =>
                {
                    out.push_str("\\-");
                    i += 1;
                }
                '\\' => i = escape(&chars, i, true, out)?,
                _ => {
                    out.push(c);
                    i += 1;
                }
            }
            class_pos += 1;
            continue;
        }
        match c {
            '\\' => i = escape(&chars, i, false, out)?,
            '[' => {
                in_class = true;
                class_pos = 0;
                out.push('[');
                i += 1;
                if at(i) == Some('^') {
                    out.push('^');
                    i += 1;
                }
            }
            '(' => i = group(&chars, i, out)?,
            '*' | '+' | '?' => {
                if was_quantifier && c == '+' {
                    return Err("possessive quantifier".into());
                }
                out.push(c);
                i += 1;
                // `x*?` is lazy, not a second quantifier; `x*+` is possessive.
                after_quantifier = c != '?' || !was_quantifier;
            }
            '{' => match quantifier_len(&chars[i..]) {
                Some(n) => {
                    out.extend(&chars[i..i + n]);
                    i += n;
                    after_quantifier = true;
                }
                None => {
                    out.push_str("\\{");
                    i += 1;
                }
            },
            '}' => {
                out.push_str("\\}");
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    if in_class {
        return Err("unterminated character class".into());
    }
    Ok(())
}

/// Length of a `{n}`, `{n,}` or `{n,m}` quantifier at the start of `s`, if it is one.
fn quantifier_len(s: &[char]) -> Option<usize> {
    let close = s.iter().position(|&c| c == '}')?;
    let inner: String = s.get(1..close)?.iter().collect();
    let (a, b) = match inner.split_once(',') {
        Some((a, b)) => (a, Some(b)),
        None => (inner.as_str(), None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    (digits(a) && b.is_none_or(|b| b.is_empty() || digits(b))).then_some(close + 1)
}

/// Rewrites a group opener at `chars[i] == '('`; returns the next index.
fn group(chars: &[char], i: usize, out: &mut String) -> Result<usize, String> {
    let at = |k: usize| chars.get(i + k).copied();
    match (at(1), at(2), at(3)) {
        (Some('*'), _, _) => Err("backtracking verb".into()),
        (Some('?'), Some('='), _) | (Some('?'), Some('!'), _) => Err("look-ahead".into()),
        (Some('?'), Some('<'), Some('=')) | (Some('?'), Some('<'), Some('!')) => {
            Err("look-behind".into())
        }
        (Some('?'), Some('>'), _) => Err("atomic group".into()),
        (Some('?'), Some('|'), _) => Err("branch reset group".into()),
        (Some('?'), Some('('), _) => Err("conditional group".into()),
        (Some('?'), Some('C'), _) => Err("callout".into()),
        (Some('?'), Some('R'), _) | (Some('?'), Some('&'), _) => Err("recursion".into()),
        (Some('?'), Some(d), _)
            if d.is_ascii_digit()
                || d == '+'
                || d == '-' && at(3).is_some_and(|c| c.is_ascii_digit()) =>
        {
            Err("subroutine call".into())
        }
        (Some('?'), Some('P'), Some('=')) => Err("backreference".into()),
        (Some('?'), Some('P'), Some('>')) => Err("subroutine call".into()),
        (Some('?'), Some('#'), _) => {
            let close = chars[i..]
                .iter()
                .position(|&c| c == ')')
                .ok_or("unterminated comment")?;
            Ok(i + close + 1)
        }
        (Some('?'), Some('\''), _) => {
            let close = chars[i + 3..]
                .iter()
                .position(|&c| c == '\'')
                .ok_or("unterminated group name")?;
            out.push_str("(?P<");
            out.extend(&chars[i + 3..i + 3 + close]);
            out.push('>');
            Ok(i + 3 + close + 1)
        }
        _ => {
            out.push('(');
            Ok(i + 1)
        }
    }
}

/// Rewrites the escape at `chars[i] == '\\'`; returns the next index.
fn escape(chars: &[char], i: usize, in_class: bool, out: &mut String) -> Result<usize, String> {
    let Some(&c) = chars.get(i + 1) else {
        return Err("pattern ends with a backslash".into());
    };
    let hex = |out: &mut String, b: u32| out.push_str(&format!("\\x{b:02X}"));
    let class = |out: &mut String, inner: &str, negated: bool| {
        if in_class {
            out.push_str(inner);
        } else {
            out.push('[');
            if negated {
                out.push('^');
            }
            out.push_str(inner);
            out.push(']');
        }
    };
    let next = i + 2;
    match c {
        '1'..='9' => Err("backreference".into()),
        'k' | 'g' => Err("backreference".into()),
        '0' => {
            let mut v = 0u32;
            let mut j = next;
            while j < next + 2 && chars.get(j).is_some_and(|d| ('0'..='7').contains(d)) {
                v = v * 8 + chars[j].to_digit(8).unwrap_or(0);
                j += 1;
            }
            hex(out, v);
            Ok(j)
        }
        'x' => {
            if chars.get(next) == Some(&'{') {
                let close = chars[next..]
                    .iter()
                    .position(|&c| c == '}')
                    .ok_or("unterminated \\x{")?;
                let digits: String = chars[next + 1..next + close].iter().collect();
                let v = u32::from_str_radix(&digits, 16).map_err(|_| "bad \\x{..} escape")?;
                if v > 0xff {
                    return Err("code point above \\xFF".into());
                }
                hex(out, v);
                return Ok(next + close + 1);
            }
            let mut v = 0u32;
            let mut j = next;
            while j < next + 2 && chars.get(j).is_some_and(char::is_ascii_hexdigit) {
                v = v * 16 + chars[j].to_digit(16).unwrap_or(0);
                j += 1;
            }
            hex(out, v);
            Ok(j)
        }
        'Q' => {
            let mut j = next;
            while let Some(&l) = chars.get(j) {
                if l == '\\' && chars.get(j + 1) == Some(&'E') {
                    return Ok(j + 2);
                }
                push_literal(out, l);
                j += 1;
            }
            Ok(j)
        }
        'E' => Ok(next),
        'h' => {
            class(out, "\\t\\x20", false);
            Ok(next)
        }
        'v' => {
            class(out, "\\n\\x0B\\x0C\\r", false);
            Ok(next)
        }
        'H' | 'V' if in_class => Err(format!("\\{c} inside a class")),
        'H' => {
            class(out, "\\t\\x20", true);
            Ok(next)
        }
        'V' => {
            class(out, "\\n\\x0B\\x0C\\r", true);
            Ok(next)
        }
        'R' if !in_class => {
            out.push_str("(?:\\r\\n|\\n|\\x0B|\\x0C|\\r)");
            Ok(next)
        }
        'e' => {
            hex(out, 0x1b);
            Ok(next)
        }
        'a' => {
            hex(out, 0x07);
            Ok(next)
        }
        'b' if in_class => {
            hex(out, 0x08);
            Ok(next)
        }
        'c' => {
            let Some(&x) = chars.get(next).filter(|x| x.is_ascii()) else {
                return Err("bad \\c escape".into());
            };
            hex(out, u32::from(x.to_ascii_uppercase() as u8 ^ 0x40));
            Ok(next + 1)
        }
        'Z' if !in_class => {
            out.push_str("(?:\\n?\\z)");
            Ok(next)
        }
        'A' | 'z' | 'b' | 'B' if !in_class => {
            out.push('\\');
            out.push(c);
            Ok(next)
        }
        'd' | 'D' | 's' | 'S' | 'w' | 'W' | 'n' | 'r' | 't' | 'f' => {
            out.push('\\');
            out.push(c);
            Ok(next)
        }
        c if c.is_ascii_alphanumeric() => Err(format!("escape \\{c}")),
        c => {
            push_literal(out, c);
            Ok(next)
        }
    }
}

/// Pushes `c` as a literal: escaped when it is ASCII punctuation.
fn push_literal(out: &mut String, c: char) {
    // `\<` and `\>` are word boundaries in `regex`: `<` and `>` are never escaped.
    if (c.is_ascii_punctuation() && c != '<' && c != '>') || c == ' ' {
        out.push('\\');
    }
    out.push(c);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &str) -> String {
        translate(v).unwrap().pattern
    }

    #[test]
    fn flags() {
        assert_eq!(t("/abc/i"), "(?i)abc");
        assert_eq!(t("/abc/smi"), "(?smi)abc");
        assert_eq!(t("/a.c/G"), "(?U)a.c");
        assert_eq!(t("/abc/A"), "^(?:abc)");
        assert_eq!(t("/a b # c/xA"), "(?x)^(?:a b # c\n)");
        assert!(translate("/abc/R").unwrap().relative);
        assert!(!translate("/abc/iB").unwrap().relative);
        assert_eq!(translate("/abc/U").unwrap_err(), "flag U (HTTP buffer)");
        assert!(translate("/abc/q").is_err());
        assert!(translate("abc").is_err());
        assert!(translate("/abc").is_err());
    }

    #[test]
    fn refuses_what_regex_cannot_do() {
        for (p, why) in [
            ("/(a)\\1/", "backreference"),
            ("/(?<n>a)\\k<n>/", "backreference"),
            ("/a(?=b)/", "look-ahead"),
            ("/a(?!b)/", "look-ahead"),
            ("/(?<=a)b/", "look-behind"),
            ("/(?<!a)b/", "look-behind"),
            ("/(?>a+)b/", "atomic group"),
            ("/a++b/", "possessive quantifier"),
            ("/a{2}+/", "possessive quantifier"),
            ("/(*UTF)a/", "backtracking verb"),
            ("/(?R)/", "recursion"),
            ("/(?1)/", "subroutine call"),
            ("/\\p{L}/", "escape \\p"),
        ] {
            assert_eq!(translate(p).unwrap_err(), why, "{p}");
        }
    }

    #[test]
    fn rewrites_what_differs() {
        assert_eq!(t(r"/\h+\R/"), r"[\t\x20]+(?:\r\n|\n|\x0B|\x0C|\r)");
        assert_eq!(t(r"/\012\x9\x{41}\e\cA/"), r"\x0A\x09\x41\x1B\x01");
        assert_eq!(t(r"/\Qa.b\E+/"), r"a\.b+");
        assert_eq!(t(r"/a{b}c{2,}d{,3}/"), r"a\{b\}c{2,}d\{,3\}");
        assert_eq!(t(r"/[a[&&~]/"), r"[a\[\&\&\~]");
        assert_eq!(t(r"/[[:alpha:]\b]/"), r"[[:alpha:]\x08]");
        assert_eq!(t(r"/[]a]/"), r"[]a]");
        assert_eq!(t(r"/a(?#note)b/"), "ab");
        assert_eq!(t(r"/(?'x'a)/"), "(?P<x>a)");
        assert_eq!(t(r"/\<a\>/"), "<a>");
        assert_eq!(t(r"/a*?b+?/"), "a*?b+?");
        assert_eq!(t(r"/end\Z/"), r"end(?:\n?\z)");
    }

    #[test]
    fn rewritten_patterns_compile() {
        for p in [
            r"/^GET\s+\/[a-z0-9]{8,}\.php\?id=\d+/i",
            r"/[\x00-\x1f]{3}\xff/s",
            r"/\Qa.b\E+[[:digit:]]{2}/",
            r"/[a-z&&~-]+/",
            r"/\<tag\>/",
            r"/(?P<x>ab)|(?'y'cd)/",
            r"/user\s*=\s*[^\r\n]{64}/smi",
            r"/a{,3}}/",
        ] {
            let tr = translate(p).unwrap();
            regex::bytes::RegexBuilder::new(&tr.pattern)
                .unicode(false)
                .build()
                .unwrap_or_else(|e| panic!("{p} -> {}: {e}", tr.pattern));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        #[test]
        fn translating_any_pattern_never_panics(p in r"[\\()\[\]{}?*+^$|.a-z0-9:<>!=#'&~\- ]{0,40}", flags in "[ismxAGRE]{0,4}") {
            if let Ok(t) = translate(&format!("/{p}/{flags}")) {
                // Whatever we produce either compiles or is refused by `regex` with an error.
                let _ = regex::bytes::RegexBuilder::new(&t.pattern).unicode(false).size_limit(1 << 20).build();
            }
        }
    }
}
