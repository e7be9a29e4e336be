//! Model names for the codes OT devices report instead of names.
//!
//! SLMP's Read Type Name (command 0x0101) returns a MELSEC CPU's model name and a
//! 16-bit model code; CC-Link IE Field Basic's cyclic response carries only vendor
//! and model codes. The ledger keeps every code as an attribute (`model_code`,
//! `vendor_code`) and names the model where the code is one Mitsubishi publishes:
//! the table below holds the codes listed in the MELSEC Communication Protocol
//! Reference Manual (SH-080008, "Model name and model code list": the iQ-R CPUs,
//! and the manual's Q02HCPU and Q02UCPU examples). Codes not in it keep a clean hex
//! form (`model code 0x4E31`).

/// MELSEC CPU model codes (SLMP Read Type Name) and their model names.
const MELSEC_MODELS: [(u16, &str); 18] = [
    (0x0041, "Q02HCPU"),
    (0x0263, "Q02UCPU"),
    (0x4800, "R04CPU"),
    (0x4801, "R08CPU"),
    (0x4802, "R16CPU"),
    (0x4803, "R32CPU"),
    (0x4804, "R120CPU"),
    (0x4805, "R04ENCPU"),
    (0x4806, "R08ENCPU"),
    (0x4807, "R16ENCPU"),
    (0x4808, "R32ENCPU"),
    (0x4809, "R120ENCPU"),
    (0x4841, "R08PCPU"),
    (0x4842, "R16PCPU"),
    (0x4843, "R32PCPU"),
    (0x4891, "R08SFCPU"),
    (0x4892, "R16SFCPU"),
    (0x4893, "R32SFCPU"),
];

/// The MELSEC CPU of a Read Type Name model code.
pub fn melsec_model(code: u16) -> Option<&'static str> {
    MELSEC_MODELS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name)
}

/// A code as the ledger shows it: `0x` and upper-case hex without leading zeros.
pub fn clean_code(code: u64) -> String {
    format!("0x{code:04X}")
}

/// Parses a hex code as the dissectors write it (`0x00004e31`).
pub fn parse_code(text: &str) -> Option<u64> {
    let t = text.trim();
    let hex = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X"))?;
    if hex.is_empty() || hex.len() > 16 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

/// What a model fact says: the model name to show (if any) and the raw code (if any).
///
/// - `R04ENCPU (model code 0x4805)` (SLMP): the name as sent, code `0x4805`; a
///   blank name is replaced by the table's.
/// - `model code 0x00004e31` (CC-Link IE Field Basic): the table's name for SLMP
///   only, else `model code 0x4E31`.
/// - anything else: itself, no code.
pub fn split_model(protocol: &str, value: &str) -> (Option<String>, Option<String>) {
    let v = value.trim();
    let (name, code) = match v.rsplit_once("(model code ") {
        Some((name, rest)) => (name.trim(), rest.strip_suffix(')').and_then(parse_code)),
        None => match v.strip_prefix("model code ") {
            Some(rest) => ("", parse_code(rest)),
            None => return (Some(v.to_string()).filter(|s| !s.is_empty()), None),
        },
    };
    let Some(code) = code else {
        return (Some(v.to_string()).filter(|s| !s.is_empty()), None);
    };
    let known = (protocol == "slmp")
        .then(|| u16::try_from(code).ok().and_then(melsec_model))
        .flatten();
    let shown = if !name.is_empty() {
        name.to_string()
    } else if let Some(k) = known {
        k.to_string()
    } else {
        format!("model code {}", clean_code(code))
    };
    (Some(shown), Some(clean_code(code)))
}

/// Whether a vendor fact is a bare code (`8`, `vendor code 0x0001`), not a name.
pub fn vendor_code(value: &str) -> Option<String> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(v.to_string());
    }
    v.strip_prefix("vendor code ")
        .and_then(parse_code)
        .map(clean_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slmp_names_stay_and_codes_are_kept() {
        assert_eq!(
            split_model("slmp", "R04ENCPU (model code 0x4805)"),
            (Some("R04ENCPU".into()), Some("0x4805".into()))
        );
        // A blank name (spaces only) is named from the manual's table.
        assert_eq!(
            split_model("slmp", " (model code 0x4801)"),
            (Some("R08CPU".into()), Some("0x4801".into()))
        );
        // Unknown code, no name: a clean form.
        assert_eq!(
            split_model("slmp", "(model code 0x0ABC)"),
            (Some("model code 0x0ABC".into()), Some("0x0ABC".into()))
        );
    }

    #[test]
    fn cclink_codes_get_a_clean_form_not_an_slmp_name() {
        assert_eq!(
            split_model("cclink-ief-basic", "model code 0x00004e31"),
            (Some("model code 0x4E31".into()), Some("0x4E31".into()))
        );
        // The SLMP table does not name other protocols' codes.
        assert_eq!(
            split_model("cclink-ief-basic", "model code 0x00004805"),
            (Some("model code 0x4805".into()), Some("0x4805".into()))
        );
        assert_eq!(
            split_model("s7comm", "6ES7 315-2EH14-0AB0"),
            (Some("6ES7 315-2EH14-0AB0".into()), None)
        );
    }

    #[test]
    fn vendor_codes_are_told_from_names() {
        assert_eq!(vendor_code("8"), Some("8".into()));
        assert_eq!(vendor_code("vendor code 0x0001"), Some("0x0001".into()));
        assert_eq!(vendor_code("Delta Controls (8)"), None);
        assert_eq!(vendor_code("3M"), None);
        assert_eq!(vendor_code(""), None);
    }
}
