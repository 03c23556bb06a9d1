//! Untrusted text inside error messages.

use std::fmt::{self, Display, Formatter, Write as _};

/// Text in double quotes with `"`, `\`, tab, CR and LF escaped and every other character
/// outside printable ASCII written as `\u{…}`, so a message can neither be broken up nor
/// carry terminal controls or look-alike characters. For printable ASCII this is what
/// `{:?}` prints; unlike `{:?}` it needs no Unicode tables, which would otherwise be the
/// browser verifier's largest block of data.
#[derive(Debug, Clone, Copy)]
pub struct Quoted<'a>(pub &'a str);

impl Display for Quoted<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\t' => f.write_str("\\t")?,
                '\r' => f.write_str("\\r")?,
                '\n' => f.write_str("\\n")?,
                ' '..='~' => f.write_char(c)?,
                _ => write!(f, "\\u{{{:x}}}", u32::from(c))?,
            }
        }
        f.write_char('"')
    }
}

/// A list of [`Quoted`] texts in brackets: `["a", "b"]`, as `{:?}` prints a `Vec<String>`.
#[derive(Debug, Clone, Copy)]
pub struct QuotedList<'a>(pub &'a [String]);

impl Display for QuotedList<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_char('[')?;
        for (i, text) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            Quoted(text).fmt(f)?;
        }
        f.write_char(']')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_ascii_reads_as_debug_does() {
        for text in [
            "kid-1",
            "a \"quoted\" \\ path",
            "tab\there\r\n",
            "",
            "~!@#$%^&*()",
        ] {
            assert_eq!(Quoted(text).to_string(), format!("{text:?}"));
        }
        let list = vec!["w1".to_string(), "w\"2".to_string()];
        assert_eq!(QuotedList(&list).to_string(), format!("{list:?}"));
        assert_eq!(QuotedList(&[]).to_string(), "[]");
    }

    #[test]
    fn everything_else_is_escaped() {
        assert_eq!(Quoted("\u{1b}[31mred").to_string(), "\"\\u{1b}[31mred\"");
        assert_eq!(Quoted("é\u{202e}").to_string(), "\"\\u{e9}\\u{202e}\"");
        assert_eq!(Quoted("\0").to_string(), "\"\\u{0}\"");
    }
}
