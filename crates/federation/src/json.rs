//! JSON for SPIFFE bundles, JWT-SVIDs and the trust registry: `nucleus-json`'s strict tree
//! (the one the bundle verifier uses), owning its text.
//!
//! serde_json keeps the last of two members with the same name, so `{"a":9,"a":1}` reads
//! as `{"a":1}`. Bundles and JWT headers/claims are security inputs, so a document whose
//! meaning depends on which duplicate wins is refused outright (spec §6.3 of the bundle
//! spec explains why). Numbers keep their integer/other distinction so a sequence of
//! `1.0`, `-1` or `2^64` can be told apart from a proper `u64`.

pub use nucleus_json::JsonError;

/// A parsed JSON value whose objects have unique member names, in document order.
pub type Json = nucleus_json::Json<'static>;

/// Parses `bytes`, refusing duplicate member names at any depth.
pub fn parse(bytes: &[u8]) -> Result<Json, JsonError> {
    nucleus_json::parse(bytes).map(nucleus_json::Json::into_owned)
}

/// Converts to a `serde_json::Value` (to read a subtree with serde), through nucleus-json's
/// `Serialize`: a number that is not a 64-bit integer becomes the nearest `f64`.
pub fn to_value(json: &Json) -> serde_json::Value {
    // Cannot fail: member names are strings and every number passed the grammar and the
    // f64 range when it was parsed.
    serde_json::to_value(json).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trees_own_their_text() {
        let json = {
            let bytes = br#"{"kid":"k1","keys":[{"x":"abc"}]}"#.to_vec();
            parse(&bytes).unwrap()
        };
        assert_eq!(json.get("kid").and_then(Json::as_str), Some("k1"));
        assert_eq!(
            parse(br#"{"a":1,"a":2}"#),
            Err(JsonError::DuplicateMember("a".into()))
        );
    }

    #[test]
    fn to_value_reads_as_serde_json_does() {
        let text = r#"{"n":18446744073709551615,"neg":-1,"f":2.50,"big":18446744073709551616,"s":"x\n","a":[null,true,{}]}"#;
        assert_eq!(
            to_value(&parse(text.as_bytes()).unwrap()),
            serde_json::from_str::<serde_json::Value>(text).unwrap()
        );
    }
}
