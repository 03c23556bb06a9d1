//! Fuzzes `Policy::parse_bytes`: never panics, and a parsed policy renders to text that
//! parses back to the same policy.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nucleus_lineage::policy::Policy;

fuzz_target!(|data: &[u8]| {
    if let Ok(policy) = Policy::parse_bytes(data) {
        let again = Policy::parse(&policy.to_text()).expect("rendered policy must parse");
        assert_eq!(again, policy);
    }
});
