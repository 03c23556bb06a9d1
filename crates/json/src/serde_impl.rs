//! `serde::Serialize` for [`Json`] (feature `serde`), so a value built as a [`Json`] tree can be
//! embedded in serde-serialized output without a second description of its shape.

use serde::ser::{Error as _, Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::value::Json;

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(b) => serializer.serialize_bool(*b),
            Json::Unsigned(n) => serializer.serialize_u64(*n),
            Json::Negative(n) => serializer.serialize_i64(*n),
            // Kept as written; serde's data model has only f64 for it.
            Json::Number(text) => serializer.serialize_f64(text.parse().map_err(S::Error::custom)?),
            Json::String(s) => serializer.serialize_str(s),
            Json::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (name, value) in members {
                    map.serialize_entry(name, value)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::parse;

    #[test]
    fn serializes_as_the_same_document() {
        let text = r#"{"b":[1,-2,2.5,"x\n",null,true],"a":{}}"#;
        let value = parse(text.as_bytes()).unwrap();
        assert_eq!(serde_json::to_string(&value).unwrap(), text);
    }
}
