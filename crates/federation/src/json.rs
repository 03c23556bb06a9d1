//! A small JSON tree that refuses duplicate object members.
//!
//! serde_json keeps the last of two members with the same name, so `{"a":9,"a":1}` reads
//! as `{"a":1}`. Bundles and JWT headers/claims are security inputs, so a document whose
//! meaning depends on which duplicate wins is refused outright (spec §6.3 of the bundle
//! spec explains why). Numbers keep their integer/float distinction so a sequence of
//! `1.0`, `-1` or `2^64` can be told apart from a proper `u64`.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A parsed JSON value whose objects have unique member names, in document order.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A non-negative integer that fits in 64 bits.
    Unsigned(u64),
    /// A negative integer that fits in 64 bits.
    Negative(i64),
    /// Any other number: has a fraction or exponent, or does not fit in 64 bits.
    Float(f64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object; member names are unique.
    Object(Vec<(String, Json)>),
}

/// Why a document is not acceptable JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// Not JSON at all (syntax error, not UTF-8, trailing data).
    #[error("not valid JSON: {0}")]
    Syntax(String),
    /// An object repeats a member name.
    #[error(
        "duplicate JSON member name {0:?}: a document whose meaning depends on which duplicate wins is refused"
    )]
    DuplicateMember(String),
}

impl Json {
    /// Parses `bytes`, refusing duplicate member names at any depth.
    pub fn parse(bytes: &[u8]) -> Result<Json, JsonError> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let value = Json::deserialize(&mut de).map_err(classify)?;
        de.end().map_err(classify)?;
        Ok(value)
    }

    /// The member `name` of an object, if this is an object that has it.
    pub fn get(&self, name: &str) -> Option<&Json> {
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
            Json::Float(_) => "a non-integer number (or one beyond 64 bits)",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }

    /// Serialises with object members sorted by name, so two documents that differ only
    /// in member order serialise identically.
    pub fn to_canonical_string(&self) -> String {
        let mut out = String::new();
        self.write_canonical(&mut out);
        out
    }

    fn write_canonical(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Unsigned(n) => out.push_str(&n.to_string()),
            Json::Negative(n) => out.push_str(&n.to_string()),
            Json::Float(f) => out.push_str(&serde_json::Value::from(*f).to_string()),
            Json::String(s) => out.push_str(&serde_json::Value::from(s.as_str()).to_string()),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_canonical(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                let mut sorted: Vec<&(String, Json)> = members.iter().collect();
                sorted.sort_by(|a, b| a.0.cmp(&b.0));
                out.push('{');
                for (i, (k, v)) in sorted.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::from(k.as_str()).to_string());
                    out.push(':');
                    v.write_canonical(out);
                }
                out.push('}');
            }
        }
    }

    /// Converts to a `serde_json::Value` (for re-serialisation).
    pub fn to_value(&self) -> serde_json::Value {
        match self {
            Json::Null => serde_json::Value::Null,
            Json::Bool(b) => serde_json::Value::Bool(*b),
            Json::Unsigned(n) => serde_json::Value::from(*n),
            Json::Negative(n) => serde_json::Value::from(*n),
            Json::Float(f) => serde_json::Value::from(*f),
            Json::String(s) => serde_json::Value::String(s.clone()),
            Json::Array(items) => {
                serde_json::Value::Array(items.iter().map(Json::to_value).collect())
            }
            Json::Object(members) => serde_json::Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

const DUPLICATE_MARKER: &str = "\u{0}duplicate member\u{0}";

fn classify(err: serde_json::Error) -> JsonError {
    let text = err.to_string();
    if let Some(rest) = text.strip_prefix(DUPLICATE_MARKER) {
        // serde_json appends " at line L column C"; the name is everything before it.
        let name = rest.rsplit_once(" at line ").map_or(rest, |(name, _)| name);
        JsonError::DuplicateMember(name.to_string())
    } else {
        JsonError::Syntax(text)
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Unsigned(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json, E> {
        Ok(if v >= 0 {
            Json::Unsigned(v as u64)
        } else {
            Json::Negative(v)
        })
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        Ok(Json::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Json>()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members: Vec<(String, Json)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if members.iter().any(|(k, _)| *k == key) {
                return Err(de::Error::custom(format_args!("{DUPLICATE_MARKER}{key}")));
            }
            let value = map.next_value::<Json>()?;
            members.push((key, value));
        }
        Ok(Json::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_members_are_refused_at_any_depth() {
        assert_eq!(
            Json::parse(br#"{"a":1,"a":2}"#),
            Err(JsonError::DuplicateMember("a".into()))
        );
        assert_eq!(
            Json::parse(br#"{"x":[{"k":1,"k":1}]}"#),
            Err(JsonError::DuplicateMember("k".into()))
        );
        assert!(Json::parse(br#"{"a":{"a":1}}"#).is_ok());
    }

    #[test]
    fn numbers_keep_their_kind() {
        assert_eq!(
            Json::parse(b"18446744073709551615"),
            Ok(Json::Unsigned(u64::MAX))
        );
        assert!(matches!(
            Json::parse(b"18446744073709551616"),
            Ok(Json::Float(_))
        ));
        assert_eq!(Json::parse(b"-1"), Ok(Json::Negative(-1)));
        assert!(matches!(Json::parse(b"1.0"), Ok(Json::Float(_))));
    }

    #[test]
    fn syntax_errors_and_trailing_data_are_refused() {
        assert!(matches!(Json::parse(b"<html>"), Err(JsonError::Syntax(_))));
        assert!(matches!(Json::parse(b"{} {}"), Err(JsonError::Syntax(_))));
        assert!(matches!(
            Json::parse(&[0xff, 0xfe]),
            Err(JsonError::Syntax(_))
        ));
    }

    #[test]
    fn canonical_form_ignores_member_order() {
        let a = Json::parse(br#"{"b":1,"a":"x"}"#).unwrap();
        let b = Json::parse(br#"{"a":"x","b":1}"#).unwrap();
        assert_eq!(a.to_canonical_string(), b.to_canonical_string());
        assert_eq!(a.to_canonical_string(), r#"{"a":"x","b":1}"#);
    }
}
