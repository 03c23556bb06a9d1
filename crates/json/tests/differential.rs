//! nucleus-json against serde_json on generated documents and on corrupted ones: whatever we
//! accept, serde_json accepts with the same meaning, and whatever serde_json accepts, we accept
//! unless it repeats a member name.

use nucleus_json::{Json, JsonError, parse};
use proptest::prelude::*;
use serde_json::Value;

/// Our tree as serde_json's, through our `Serialize` (numbers become the nearest `f64`).
fn to_value(json: &Json<'_>) -> Value {
    serde_json::to_value(json).unwrap()
}

fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Whether `text` repeats a member name somewhere (serde_json accepts that; we do not).
fn repeats_a_member(err: &JsonError) -> bool {
    matches!(err, JsonError::DuplicateMember(_))
}

proptest! {
    #[test]
    fn serde_json_output_reads_back_the_same(value in any_value(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&value).unwrap()
        } else {
            serde_json::to_string(&value).unwrap()
        };
        let ours = parse(text.as_bytes()).unwrap();
        prop_assert_eq!(to_value(&ours), value);
    }

    #[test]
    fn corrupted_documents_are_judged_alike(
        value in any_value(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
    ) {
        let mut bytes = serde_json::to_vec(&value).unwrap();
        for (at, byte, op) in edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 => bytes.insert(i, byte),
                1 if i < bytes.len() => { bytes.remove(i); }
                _ if i < bytes.len() => bytes[i] = byte,
                _ => bytes.push(byte),
            }
        }
        let theirs = serde_json::from_slice::<Value>(&bytes);
        match parse(&bytes) {
            Ok(ours) => {
                let theirs = theirs.map_err(|e| TestCaseError::fail(format!(
                    "we accepted what serde_json refuses ({e}): {:?}",
                    String::from_utf8_lossy(&bytes)
                )))?;
                prop_assert_eq!(to_value(&ours), theirs);
            }
            Err(err) => prop_assert!(
                theirs.is_err() || repeats_a_member(&err),
                "we refused what serde_json accepts ({}): {:?}",
                err,
                String::from_utf8_lossy(&bytes)
            ),
        }
    }
}
