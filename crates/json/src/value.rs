//! The parsed tree.

use std::borrow::Cow;

use crate::number::{Decimal, NumberError};
use crate::write;

/// A parsed JSON value. Objects keep their members in document order, and their names are
/// unique. Numbers keep the distinction serde_json makes: integers that fit 64 bits stay
/// exact, everything else is an `f64`.
///
/// Strings and member names borrow from the parsed text when they contain no escapes, so
/// parsing copies only what the caller keeps; [`Json::into_owned`] detaches a tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A non-negative integer that fits in 64 bits.
    Unsigned(u64),
    /// A negative integer that fits in 64 bits.
    Negative(i64),
    /// Any other number (a fraction or an exponent, `-0`, or an integer beyond 64 bits),
    /// exactly as written; within the `f64` range.
    Number(Cow<'a, str>),
    /// A string.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Json<'a>>),
    /// An object; member names are unique.
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// The same value, owning all its text.
    pub fn into_owned(self) -> Json<'static> {
        match self {
            Json::Null => Json::Null,
            Json::Bool(b) => Json::Bool(b),
            Json::Unsigned(n) => Json::Unsigned(n),
            Json::Negative(n) => Json::Negative(n),
            Json::Number(t) => Json::Number(Cow::Owned(t.into_owned())),
            Json::String(s) => Json::String(Cow::Owned(s.into_owned())),
            Json::Array(items) => Json::Array(items.into_iter().map(Json::into_owned).collect()),
            Json::Object(members) => Json::Object(
                members
                    .into_iter()
                    .map(|(name, value)| (Cow::Owned(name.into_owned()), value.into_owned()))
                    .collect(),
            ),
        }
    }

    /// The member `name` of an object, if this is an object that has it.
    pub fn get(&self, name: &str) -> Option<&Json<'a>> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string content, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// A short name of the JSON type, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Unsigned(_) => "a non-negative integer",
            Json::Negative(_) => "a negative integer",
            Json::Number(_) => "a non-integer number (or one beyond 64 bits)",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }

    /// Compact JSON with object members sorted by name (byte order) at every level, and
    /// numbers in serde_json's form: what serde_json writes for a `serde_json::Value` (without
    /// its `preserve_order` feature) read from the same text. Two documents that differ only
    /// in member order, whitespace or number spelling (`1.50`, `15e-1`) give the same text.
    /// A number whose form would depend on `f64` rounding is refused ([`NumberError`]).
    pub fn to_canonical_string(&self) -> Result<String, NumberError> {
        let mut out = String::new();
        self.write_compact(&mut out, Form::Canonical)?;
        Ok(out)
    }

    /// Compact JSON with object members sorted by name (byte order) at every level and
    /// numbers as written. For documents whose numbers are all 64-bit integers (what the
    /// trust registry admits) this is [`Json::to_canonical_string`], and it cannot fail.
    pub fn to_sorted_string(&self) -> String {
        let mut out = String::new();
        // Numbers as written cannot fail.
        let _ = self.write_compact(&mut out, Form::Sorted);
        out
    }

    /// Compact JSON with object members in document order and numbers as written.
    pub fn to_compact_string(&self) -> String {
        let mut out = String::new();
        // Numbers as written cannot fail.
        let _ = self.write_compact(&mut out, Form::AsRead);
        out
    }

    fn write_compact(&self, out: &mut String, form: Form) -> Result<(), NumberError> {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Unsigned(n) => write::write_u64(out, *n),
            Json::Negative(n) => {
                out.push('-');
                write::write_u64(out, n.unsigned_abs());
            }
            Json::Number(text) if form == Form::Canonical => {
                Decimal::of(text).write_canonical(out, text)?
            }
            Json::Number(text) => out.push_str(text),
            Json::String(s) => write::write_string(out, s),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_compact(out, form)?;
                }
                out.push(']');
            }
            Json::Object(members) => {
                let mut order: Vec<&(Cow<'_, str>, Json<'_>)> = members.iter().collect();
                if form != Form::AsRead {
                    order.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                }
                out.push('{');
                for (i, (name, value)) in order.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write::write_string(out, name);
                    out.push(':');
                    value.write_compact(out, form)?;
                }
                out.push('}');
            }
        }
        Ok(())
    }
}

/// How [`Json::write_compact`] orders members and writes non-integer numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Sorted members, numbers as serde_json writes them.
    Canonical,
    /// Sorted members, numbers as written.
    Sorted,
    /// Document order, numbers as written.
    AsRead,
}

#[cfg(test)]
mod tests {
    use crate::parse;

    #[test]
    fn the_three_forms_differ_only_in_order_and_numbers() {
        let doc = parse(br#"{"b":[2.50,-3],"a":{"d":"x\n","c":1e3}}"#).unwrap();
        assert_eq!(
            doc.to_compact_string(),
            r#"{"b":[2.50,-3],"a":{"d":"x\n","c":1e3}}"#
        );
        assert_eq!(
            doc.to_sorted_string(),
            r#"{"a":{"c":1e3,"d":"x\n"},"b":[2.50,-3]}"#
        );
        assert_eq!(
            doc.to_canonical_string().unwrap(),
            r#"{"a":{"c":1000.0,"d":"x\n"},"b":[2.5,-3]}"#
        );
        let long = parse(br#"{"x":0.30000000000000004}"#).unwrap();
        assert_eq!(long.to_sorted_string(), r#"{"x":0.30000000000000004}"#);
        assert!(long.to_canonical_string().is_err());
    }
}
