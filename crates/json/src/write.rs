//! Writing JSON strings and integers exactly as serde_json does, so text hashed after
//! re-serialization matches what serde_json-based producers hash (other numbers:
//! [`crate::number`]).

use std::fmt::Write as _;

/// Appends `s` as a JSON string: `"` and `\` escaped, `\b \f \n \r \t` for those controls,
/// `\u00xx` (lowercase hex) for the other controls below U+0020; everything else raw UTF-8.
pub fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    // Runs that need no escaping are copied whole.
    while let Some(run) = bytes[start..]
        .iter()
        .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
    {
        let at = start + run;
        out.push_str(&s[start..at]);
        let b = bytes[at];
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ => {
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
        start = at + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Appends `n` in decimal.
pub fn write_u64(out: &mut String, n: u64) {
    // Writing to a String cannot fail.
    let _ = write!(out, "{n}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn string_text(s: &str) -> String {
        let mut out = String::new();
        write_string(&mut out, s);
        out
    }

    #[test]
    fn strings_escape_like_serde_json() {
        let all_controls: String = (0u8..0x20).map(char::from).collect();
        for s in [
            "",
            "plain",
            "q\"b\\s/",
            "é\u{1F600}",
            "\u{7f}\u{2028}",
            &all_controls,
        ] {
            assert_eq!(string_text(s), serde_json::Value::from(s).to_string());
        }
    }

    proptest! {
        #[test]
        fn any_string_escapes_like_serde_json(s in any::<String>()) {
            prop_assert_eq!(string_text(&s), serde_json::Value::from(s.as_str()).to_string());
        }
    }
}
