//! RFC 8259 JSON text to a [`Json`] tree, refusing anything a second parser could read
//! differently.

use std::borrow::Cow;

use crate::number::Decimal;
use crate::value::Json;

/// Deepest nesting of arrays and objects accepted (serde_json's default recursion limit).
pub const MAX_DEPTH: usize = 128;

/// Why a text is not acceptable JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// Not JSON: a syntax error, invalid UTF-8, an unpaired surrogate, a number out of the
    /// `f64` range, nesting beyond [`MAX_DEPTH`] or trailing data. The text says what and
    /// where.
    #[error("not valid JSON: {0}")]
    Syntax(String),
    /// An object repeats a member name.
    #[error(
        "duplicate JSON member name {}: a document whose meaning depends on which duplicate wins is refused",
        ascii_literal(.0)
    )]
    DuplicateMember(String),
}

/// `name` as a JSON string literal in printable ASCII (everything else `\uXXXX`-escaped), so
/// an error message cannot carry controls or look-alike characters from the document.
fn ascii_literal(name: &str) -> String {
    let mut json = String::new();
    crate::write::write_string(&mut json, name);
    let mut ascii = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() && c != '\x7f' {
            ascii.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                ascii.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    ascii
}

/// Parses `bytes` as one JSON value (surrounding whitespace allowed). The tree borrows the
/// strings of `bytes` that need no unescaping.
pub fn parse(bytes: &[u8]) -> Result<Json<'_>, JsonError> {
    let mut parser = Parser {
        bytes,
        pos: 0,
        items: Vec::new(),
        members: Vec::new(),
    };
    parser.skip_whitespace();
    let value = parser.value(0)?;
    parser.skip_whitespace();
    if parser.pos != bytes.len() {
        return Err(parser.syntax("trailing characters after the JSON value"));
    }
    Ok(value)
}

/// A syntax error at byte `pos` of `bytes`, with its line and column (1-based; the column
/// counts bytes).
fn syntax_error(bytes: &[u8], pos: usize, what: &str) -> JsonError {
    let before = &bytes[..pos.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before.len()
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1)
        + 1;
    JsonError::Syntax(format!("{what} at line {line} column {column}"))
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Elements of the arrays being parsed, innermost last: each array is moved out into a
    /// Vec of its exact size when it closes, instead of growing its own Vec.
    items: Vec<Json<'a>>,
    /// Members of the objects being parsed, likewise.
    members: Vec<(Cow<'a, str>, Json<'a>)>,
}

impl<'a> Parser<'a> {
    /// A syntax error at the current position.
    fn syntax(&self, what: &str) -> JsonError {
        syntax_error(self.bytes, self.pos, what)
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline(always)]
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect_literal(&mut self, literal: &[u8], value: Json<'a>) -> Result<Json<'a>, JsonError> {
        if self.bytes[self.pos..].starts_with(literal) {
            self.pos += literal.len();
            Ok(value)
        } else {
            Err(self.syntax("expected a JSON value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json<'a>, JsonError> {
        match self.peek() {
            None => Err(self.syntax("unexpected end of input, expected a JSON value")),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Json::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.expect_literal(b"true", Json::Bool(true)),
            Some(b'f') => self.expect_literal(b"false", Json::Bool(false)),
            Some(b'n') => self.expect_literal(b"null", Json::Null),
            Some(_) => Err(self.syntax("expected a JSON value")),
        }
    }

    fn enter(&self, depth: usize) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.syntax(&format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn array(&mut self, depth: usize) -> Result<Json<'a>, JsonError> {
        self.enter(depth)?;
        self.pos += 1; // '['
        let first = self.items.len();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(Vec::new()));
        }
        loop {
            self.skip_whitespace();
            let item = self.value(depth)?;
            self.items.push(item);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(self.items.drain(first..).collect()));
                }
                _ => return Err(self.syntax("expected ',' or ']' in an array")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json<'a>, JsonError> {
        self.enter(depth)?;
        self.pos += 1; // '{'
        let first = self.members.len();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(Vec::new()));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.syntax("expected a member name (a string)"));
            }
            let name = self.string()?;
            if self.members[first..].iter().any(|(k, _)| *k == name) {
                return Err(JsonError::DuplicateMember(name.into_owned()));
            }
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.syntax("expected ':' after a member name"));
            }
            self.pos += 1;
            self.skip_whitespace();
            let value = self.value(depth)?;
            self.members.push((name, value));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(self.members.drain(first..).collect()));
                }
                _ => return Err(self.syntax("expected ',' or '}' in an object")),
            }
        }
    }

    /// A string starting at the opening quote: borrowed from the input when it has no
    /// escapes (one scan, one UTF-8 check), built up otherwise.
    fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        self.pos += 1; // '"'
        let mut owned: Option<String> = None;
        loop {
            let start = self.pos;
            let run = self.bytes[start..]
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .ok_or_else(|| self.syntax_at(self.bytes.len(), "unterminated string"))?;
            self.pos = start + run;
            let text = std::str::from_utf8(&self.bytes[start..self.pos]).map_err(|e| {
                self.syntax_at(start + e.valid_up_to(), "invalid UTF-8 in a string")
            })?;
            match self.bytes[self.pos] {
                b'"' => {
                    self.pos += 1;
                    return Ok(match owned {
                        None => Cow::Borrowed(text),
                        Some(mut out) => {
                            out.push_str(text);
                            Cow::Owned(out)
                        }
                    });
                }
                b'\\' => {
                    self.pos += 1;
                    let out = owned.get_or_insert_with(String::new);
                    out.push_str(text);
                    let c = self.escape()?;
                    out.push(c);
                }
                _ => return Err(self.syntax("control character in a string (must be escaped)")),
            }
        }
    }

    fn syntax_at(&self, pos: usize, what: &str) -> JsonError {
        syntax_error(self.bytes, pos, what)
    }

    /// One escape sequence, after its backslash.
    fn escape(&mut self) -> Result<char, JsonError> {
        let Some(b) = self.peek() else {
            return Err(self.syntax("unterminated string"));
        };
        self.pos += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4()?;
                match unit {
                    0xD800..=0xDBFF => {
                        if !self.bytes[self.pos..].starts_with(b"\\u") {
                            return Err(self.syntax("unpaired UTF-16 surrogate in a \\u escape"));
                        }
                        self.pos += 2;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(self.syntax("unpaired UTF-16 surrogate in a \\u escape"));
                        }
                        let scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                        char::from_u32(scalar).ok_or_else(|| self.syntax("invalid \\u escape"))?
                    }
                    0xDC00..=0xDFFF => {
                        return Err(self.syntax("unpaired UTF-16 surrogate in a \\u escape"));
                    }
                    _ => char::from_u32(unit).ok_or_else(|| self.syntax("invalid \\u escape"))?,
                }
            }
            _ => {
                self.pos -= 1;
                return Err(self.syntax("invalid escape in a string"));
            }
        };
        Ok(c)
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .bytes
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.syntax("truncated \\u escape"))?;
        let mut unit = 0u32;
        for &d in digits {
            let v = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return Err(self.syntax("invalid hex digit in a \\u escape")),
            };
            unit = unit << 4 | u32::from(v);
        }
        self.pos += 4;
        Ok(unit)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    /// A number, classified as serde_json does: an integer literal that fits `u64` (or,
    /// negative, `i64`) is read exactly; `-0`, fractions, exponents and wider integers are
    /// kept as written; a number whose nearest `f64` is infinite is an error.
    fn number(&mut self) -> Result<Json<'a>, JsonError> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let int_start = self.pos;
        match self.digits() {
            0 => return Err(self.syntax("expected a digit")),
            n if n > 1 && self.bytes[int_start] == b'0' => {
                self.pos = int_start + 1;
                return Err(self.syntax("a number must not have a leading zero"));
            }
            _ => {}
        }
        let int_end = self.pos;
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            integer = false;
            if self.digits() == 0 {
                return Err(self.syntax("expected a digit after the decimal point"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            integer = false;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.syntax("expected a digit in the exponent"));
            }
        }
        if integer {
            let magnitude = self.bytes[int_start..int_end]
                .iter()
                .try_fold(0u64, |acc, &d| {
                    acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
                });
            match (negative, magnitude) {
                (false, Some(m)) => return Ok(Json::Unsigned(m)),
                (true, Some(m)) if m > 0 && m <= 1 << 63 => {
                    return Ok(Json::Negative((m as i64).wrapping_neg()));
                }
                _ => {}
            }
        }
        let text = std::str::from_utf8(&self.bytes[start..self.pos])
            .map_err(|_| self.syntax_at(start, "invalid number"))?;
        if Decimal::of(text).overflows_f64() {
            return Err(self.syntax_at(start, "number out of range"));
        }
        Ok(Json::Number(Cow::Borrowed(text)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syntax(text: &str) -> String {
        match parse(text.as_bytes()) {
            Err(JsonError::Syntax(message)) => message,
            other => panic!("{text:?}: expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn duplicate_members_are_refused_at_any_depth() {
        assert_eq!(
            parse(br#"{"a":1,"a":2}"#),
            Err(JsonError::DuplicateMember("a".into()))
        );
        assert_eq!(
            parse(br#"{"x":[{"k":1,"k":1}]}"#),
            Err(JsonError::DuplicateMember("k".into()))
        );
        // Escapes are decoded before names are compared.
        assert_eq!(
            parse(br#"{"a":1,"\u0061":2}"#),
            Err(JsonError::DuplicateMember("a".into()))
        );
        assert!(parse(br#"{"a":{"a":1}}"#).is_ok());
        // The name is shown as printable ASCII.
        let err =
            parse("{\"\u{202e}é\\n\u{7f}\":1,\"\u{202e}é\\n\u{7f}\":2}".as_bytes()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(r#"duplicate JSON member name "\u202e\u00e9\n\u007f": "#),
            "{err}"
        );
    }

    #[test]
    fn numbers_keep_their_kind() {
        assert_eq!(parse(b"18446744073709551615"), Ok(Json::Unsigned(u64::MAX)));
        assert_eq!(
            parse(b"18446744073709551616"),
            Ok(Json::Number("18446744073709551616".into()))
        );
        assert_eq!(parse(b"-1"), Ok(Json::Negative(-1)));
        assert_eq!(parse(b"-9223372036854775808"), Ok(Json::Negative(i64::MIN)));
        for text in ["-9223372036854775809", "1.0", "1E2", "2.5e-3", "-0"] {
            assert_eq!(parse(text.as_bytes()), Ok(Json::Number(text.into())));
        }
    }

    #[test]
    fn numbers_outside_the_grammar_or_range_are_refused() {
        for text in [
            "01", "-", "1.", ".5", "1e", "1e+", "+1", "0x10", "NaN", "Infinity", "1_0",
        ] {
            syntax(text);
        }
        assert!(syntax("1e400").starts_with("number out of range"));
        assert!(syntax("-1e400").starts_with("number out of range"));
        assert_eq!(parse(b"1e-400"), Ok(Json::Number("1e-400".into())));
    }

    #[test]
    fn strings_decode_escapes_and_refuse_what_is_ambiguous() {
        assert_eq!(
            parse(br#""a\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00""#),
            Ok(Json::String("a\"\\/\u{8}\u{c}\n\r\t\u{e9}\u{1F600}".into()))
        );
        assert_eq!(parse("\"ü\"".as_bytes()), Ok(Json::String("ü".into())));
        assert!(syntax(r#""\uD83D""#).starts_with("unpaired UTF-16 surrogate"));
        assert!(syntax(r#""\uDE00""#).starts_with("unpaired UTF-16 surrogate"));
        assert!(syntax(r#""\uD83D\u0041""#).starts_with("unpaired UTF-16 surrogate"));
        assert!(syntax(r#""\x""#).starts_with("invalid escape"));
        assert!(syntax(r#""\u12G4""#).starts_with("invalid hex digit"));
        assert!(syntax("\"a\nb\"").starts_with("control character"));
        assert!(syntax("\"abc").starts_with("unterminated string"));
        assert!(
            matches!(parse(b"\"\xff\""), Err(JsonError::Syntax(m)) if m.starts_with("invalid UTF-8"))
        );
    }

    #[test]
    fn structure_errors_say_where() {
        assert_eq!(
            syntax("{\n  \"a\": 1,\n  \"b\" 2}"),
            "expected ':' after a member name at line 3 column 7"
        );
        assert!(syntax("[1 2]").starts_with("expected ',' or ']'"));
        assert!(syntax("{\"a\":1,}").starts_with("expected a member name"));
        assert!(syntax("[1,]").starts_with("expected a JSON value"));
        assert!(syntax("{} {}").starts_with("trailing characters"));
        assert!(syntax("").starts_with("unexpected end of input"));
        assert!(syntax("tru").starts_with("expected a JSON value"));
        assert!(syntax("<html>").starts_with("expected a JSON value"));
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(ok.as_bytes()).is_ok());
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(syntax(&deep).starts_with("nesting deeper than 128 levels"));
        let deep_objects = "{\"a\":".repeat(MAX_DEPTH + 1) + "1" + &"}".repeat(MAX_DEPTH + 1);
        assert!(syntax(&deep_objects).starts_with("nesting deeper"));
    }

    #[test]
    fn whitespace_is_only_the_four_json_characters() {
        assert_eq!(
            parse(b" \t\r\n[ 1 ,\n2 ] \n"),
            Ok(Json::Array(vec![Json::Unsigned(1), Json::Unsigned(2)]))
        );
        syntax("\u{a0}1");
        syntax("[1,\u{c}2]");
    }
}
