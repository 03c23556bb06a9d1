//! Typed decoding of a [`Json`] tree, with the path of the offending value in every error.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use crate::parse::{JsonError, parse};
use crate::value::Json;

/// Where a value sits in the document, rendered as `edges[3].kid` (the document itself is
/// `the document`). Built on the stack while decoding; only rendered for an error.
#[derive(Debug, Clone, Copy)]
pub enum Path<'a> {
    /// The whole document.
    Root,
    /// A member of the object at the parent path.
    Member(&'a Path<'a>, &'a str),
    /// An element of the array at the parent path.
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    /// The path of member `name` under this one.
    pub fn member<'a>(&'a self, name: &'a str) -> Path<'a> {
        Path::Member(self, name)
    }

    /// The path of element `index` under this one.
    pub fn index(&self, index: usize) -> Path<'_> {
        Path::Index(self, index)
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, top: bool) -> fmt::Result {
        match self {
            Path::Root if top => f.write_str("the document"),
            Path::Root => Ok(()),
            Path::Member(parent, name) => {
                parent.write(f, false)?;
                if !matches!(parent, Path::Root) {
                    f.write_str(".")?;
                }
                f.write_str(name)
            }
            Path::Index(parent, index) => {
                parent.write(f, false)?;
                write!(f, "[{index}]")
            }
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, true)
    }
}

/// Why a document does not decode into the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The text is not acceptable JSON.
    #[error(transparent)]
    Json(#[from] JsonError),
    /// A required member is absent.
    #[error("{path}: required member is missing")]
    Missing {
        /// The missing member's path.
        path: String,
    },
    /// A member the object does not accept.
    #[error("{path}: unknown member")]
    Unknown {
        /// The unknown member's path.
        path: String,
    },
    /// A value of the wrong JSON type.
    #[error("{path}: expected {expected}, found {found}")]
    WrongType {
        /// The value's path.
        path: String,
        /// What the format wants there.
        expected: &'static str,
        /// What the document has ([`Json::kind`]).
        found: &'static str,
    },
    /// A value of the right type that is not allowed (out of range, unknown variant…).
    #[error("{path}: {reason}")]
    Invalid {
        /// The value's path.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl DecodeError {
    /// A [`DecodeError::WrongType`] for `value` at `path`.
    pub fn wrong_type(path: &Path<'_>, expected: &'static str, value: &Json<'_>) -> Self {
        DecodeError::WrongType {
            path: path.to_string(),
            expected,
            found: value.kind(),
        }
    }

    /// A [`DecodeError::Invalid`] at `path`.
    pub fn invalid(path: &Path<'_>, reason: impl Into<String>) -> Self {
        DecodeError::Invalid {
            path: path.to_string(),
            reason: reason.into(),
        }
    }
}

/// A type that can be read from a JSON value.
pub trait FromJson: Sized {
    /// Reads `value`, found at `path`.
    fn from_json(value: Json<'_>, path: &Path<'_>) -> Result<Self, DecodeError>;
}

/// Parses `bytes` and decodes the document as `T`.
pub fn from_slice<T: FromJson>(bytes: &[u8]) -> Result<T, DecodeError> {
    T::from_json(parse(bytes)?, &Path::Root)
}

/// The members of one object, taken one by one by name; what is left at the end is either
/// refused ([`Members::deny_unknown`]) or ignored ([`Members::ignore_rest`]).
pub struct Members<'p, 'a> {
    members: Vec<(Cow<'a, str>, Json<'a>)>,
    path: &'p Path<'p>,
}

impl<'p, 'a> Members<'p, 'a> {
    /// The members of `value`, which must be an object.
    pub fn new(value: Json<'a>, path: &'p Path<'p>) -> Result<Self, DecodeError> {
        match value {
            Json::Object(members) => Ok(Members { members, path }),
            other => Err(DecodeError::wrong_type(path, "an object", &other)),
        }
    }

    fn take(&mut self, name: &str) -> Option<Json<'a>> {
        let at = self.members.iter().position(|(k, _)| k == name)?;
        // `remove`, not `swap_remove`: what is left stays in document order for the error.
        Some(self.members.remove(at).1)
    }

    /// The member `name`, which must be present.
    pub fn required<T: FromJson>(&mut self, name: &str) -> Result<T, DecodeError> {
        let path = self.path.member(name);
        match self.take(name) {
            Some(value) => T::from_json(value, &path),
            None => Err(DecodeError::Missing {
                path: path.to_string(),
            }),
        }
    }

    /// The member `name`; absent and `null` both read as `None`.
    pub fn optional<T: FromJson>(&mut self, name: &str) -> Result<Option<T>, DecodeError> {
        match self.take(name) {
            None | Some(Json::Null) => Ok(None),
            Some(value) => T::from_json(value, &self.path.member(name)).map(Some),
        }
    }

    /// The member `name`, or `T::default()` when it is absent (`null` is not absent).
    pub fn or_default<T: FromJson + Default>(&mut self, name: &str) -> Result<T, DecodeError> {
        match self.take(name) {
            None => Ok(T::default()),
            Some(value) => T::from_json(value, &self.path.member(name)),
        }
    }

    /// Refuses any member that was not taken.
    pub fn deny_unknown(self) -> Result<(), DecodeError> {
        match self.members.first().map(|(k, _)| k) {
            Some(name) => Err(DecodeError::Unknown {
                path: self.path.member(name).to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Accepts and drops any member that was not taken (formats that ignore unknown members).
    /// Never fails; a `Result` so that [`json_object!`](crate::json_object) can treat both
    /// endings alike.
    pub fn ignore_rest(self) -> Result<(), DecodeError> {
        Ok(())
    }
}

/// Implements [`FromJson`] for a struct read from a JSON object, member by member: each field
/// with the named [`Members`] method (`required`, `optional` or `or_default`), under the
/// field's name or the `as` name; then the members not read are refused (`deny_unknown`) or
/// ignored (`ignore_rest`).
///
/// ```
/// use nucleus_json::{from_slice, json_object};
///
/// struct Key {
///     kid: String,
///     use_: Option<String>,
///     size: u64,
/// }
/// json_object!(Key { kid: required, use_ as "use": optional, size: or_default } deny_unknown);
///
/// let key: Key = from_slice(br#"{"kid":"k1","use":"sig"}"#).unwrap();
/// assert_eq!((key.kid.as_str(), key.use_.as_deref(), key.size), ("k1", Some("sig"), 0));
/// let err = from_slice::<Key>(br#"{"kid":"k1","x":1}"#).err().unwrap();
/// assert_eq!(err.to_string(), "x: unknown member");
/// ```
#[macro_export]
macro_rules! json_object {
    ($ty:ident { $($field:ident $(as $name:literal)?: $read:ident),* $(,)? } $rest:ident) => {
        impl $crate::FromJson for $ty {
            fn from_json(
                value: $crate::Json<'_>,
                path: &$crate::Path<'_>,
            ) -> ::core::result::Result<Self, $crate::DecodeError> {
                let mut members = $crate::Members::new(value, path)?;
                let decoded = $ty {
                    $($field: members.$read($crate::json_object!(@name $field $($name)?))?,)*
                };
                members.$rest()?;
                Ok(decoded)
            }
        }
    };
    (@name $field:ident $name:literal) => {
        $name
    };
    (@name $field:ident) => {
        stringify!($field)
    };
}

/// Any value, detached from the parsed text.
impl FromJson for Json<'static> {
    fn from_json(value: Json<'_>, _: &Path<'_>) -> Result<Self, DecodeError> {
        Ok(value.into_owned())
    }
}

impl FromJson for String {
    fn from_json(value: Json<'_>, path: &Path<'_>) -> Result<Self, DecodeError> {
        match value {
            Json::String(s) => Ok(s.into_owned()),
            other => Err(DecodeError::wrong_type(path, "a string", &other)),
        }
    }
}

impl FromJson for bool {
    fn from_json(value: Json<'_>, path: &Path<'_>) -> Result<Self, DecodeError> {
        match value {
            Json::Bool(b) => Ok(b),
            other => Err(DecodeError::wrong_type(path, "a boolean", &other)),
        }
    }
}

impl FromJson for u64 {
    fn from_json(value: Json<'_>, path: &Path<'_>) -> Result<Self, DecodeError> {
        match value {
            Json::Unsigned(n) => Ok(n),
            other => Err(DecodeError::wrong_type(
                path,
                "a non-negative integer",
                &other,
            )),
        }
    }
}

impl FromJson for u32 {
    fn from_json(value: Json<'_>, path: &Path<'_>) -> Result<Self, DecodeError> {
        let n = u64::from_json(value, path)?;
        u32::try_from(n).map_err(|_| DecodeError::invalid(path, format!("{n} is out of range")))
    }
}

impl FromJson for usize {
    fn from_json(value: Json<'_>, path: &Path<'_>) -> Result<Self, DecodeError> {
        let n = u64::from_json(value, path)?;
        usize::try_from(n).map_err(|_| DecodeError::invalid(path, format!("{n} is out of range")))
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(value: Json<'_>, path: &Path<'_>) -> Result<Self, DecodeError> {
        match value {
            Json::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| T::from_json(item, &path.index(i)))
                .collect(),
            other => Err(DecodeError::wrong_type(path, "an array", &other)),
        }
    }
}

/// An object of string values (member names are unique: the parser refuses duplicates).
impl FromJson for BTreeMap<String, String> {
    fn from_json(value: Json<'_>, path: &Path<'_>) -> Result<Self, DecodeError> {
        match value {
            Json::Object(members) => {
                // Inserted one by one: collecting into a map sorts a Vec first, which costs
                // the browser verifier kilobytes of sort code.
                let mut map = BTreeMap::new();
                for (name, value) in members {
                    let text = String::from_json(value, &path.member(&name))?;
                    map.insert(name.into_owned(), text);
                }
                Ok(map)
            }
            other => Err(DecodeError::wrong_type(
                path,
                "an object of string values",
                &other,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Edge {
        kid: String,
        seq: u64,
        note: Option<String>,
        tags: Vec<String>,
    }

    crate::json_object!(Edge { kid: required, seq: required, note: optional, tags: or_default } deny_unknown);

    #[derive(Debug, PartialEq)]
    struct Doc {
        edges: Vec<Edge>,
    }

    crate::json_object!(Doc { edges: required } deny_unknown);

    fn error(text: &str) -> String {
        from_slice::<Doc>(text.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn decodes_required_optional_and_default_members() {
        let doc: Doc = from_slice(
            br#"{"edges":[{"kid":"a","seq":0},{"kid":"b","seq":1,"note":null,"tags":["x"]}]}"#,
        )
        .unwrap();
        assert_eq!(
            doc.edges,
            vec![
                Edge {
                    kid: "a".into(),
                    seq: 0,
                    note: None,
                    tags: vec![]
                },
                Edge {
                    kid: "b".into(),
                    seq: 1,
                    note: None,
                    tags: vec!["x".into()]
                },
            ]
        );
    }

    #[test]
    fn errors_name_the_path_and_the_problem() {
        assert_eq!(
            error(r#"{"edges":[{"kid":"a","seq":0},{"kid":7,"seq":1}]}"#),
            "edges[1].kid: expected a string, found a non-negative integer"
        );
        assert_eq!(
            error(r#"{"edges":[{"kid":"a"}]}"#),
            "edges[0].seq: required member is missing"
        );
        assert_eq!(
            error(r#"{"edges":[{"kid":"a","seq":0,"extra":1,"more":2}]}"#),
            "edges[0].extra: unknown member"
        );
        assert_eq!(
            error(r#"{"edges":[{"kid":"a","seq":-1}]}"#),
            "edges[0].seq: expected a non-negative integer, found a negative integer"
        );
        assert_eq!(
            error(r#"{"edges":[{"kid":"a","seq":1.0}]}"#),
            "edges[0].seq: expected a non-negative integer, found a non-integer number (or one beyond 64 bits)"
        );
        assert_eq!(
            error(r#"{"edges":[{"kid":"a","seq":0,"tags":null}]}"#),
            "edges[0].tags: expected an array, found null"
        );
        assert_eq!(
            error("[]"),
            "the document: expected an object, found an array"
        );
        assert!(
            error(r#"{"edges":[],"edges":[]}"#).starts_with("duplicate JSON member name \"edges\"")
        );
    }

    #[test]
    fn narrow_integers_are_range_checked() {
        let path = Path::Root;
        assert_eq!(
            u32::from_json(Json::Unsigned(u64::from(u32::MAX)), &path),
            Ok(u32::MAX)
        );
        assert_eq!(
            u32::from_json(Json::Unsigned(1 << 32), &path)
                .unwrap_err()
                .to_string(),
            "the document: 4294967296 is out of range"
        );
    }

    #[test]
    fn string_maps_refuse_non_string_values() {
        let path = Path::Root;
        let attrs = Path::Member(&path, "attrs");
        let value = crate::parse(br#"{"a":"1","b":2}"#).unwrap();
        assert_eq!(
            BTreeMap::<String, String>::from_json(value, &attrs)
                .unwrap_err()
                .to_string(),
            "attrs.b: expected a string, found a non-negative integer"
        );
    }
}
