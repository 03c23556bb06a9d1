//! The SHA-256 of a payload carried as canonical base64, without materialising the payload.
//!
//! A bundle's payload can be most of its bytes. Decoding the whole text into one buffer,
//! re-encoding it to prove the text canonical, and then hashing it touches the payload four
//! times and allocates twice its size. Here the text is decoded in fixed slices into one
//! small buffer that is hashed as it goes: one pass, no allocation. The result, and which
//! inputs are accepted, are exactly those of [`b64::decode_canonical`] followed by SHA-256.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use nucleus_lineage::b64::{self, Base64Error};
use sha2::{Digest, Sha256};

/// Base64 characters decoded per step. A multiple of 4, so every step but the last holds
/// whole quanta; small enough that the decoded slice stays in cache for the hash.
const TEXT_STEP: usize = 16 * 1024;

/// SHA-256 of the bytes that `text`, canonical padded standard base64, encodes.
///
/// Accepts exactly what [`b64::decode_canonical`] accepts. Rejected text is handed to that
/// decoder, so the error is the one it reports.
pub fn sha256_of_base64(text: &str) -> Result<[u8; 32], Base64Error> {
    match sha256_in_steps(text.as_bytes()) {
        Some(digest) => Ok(digest),
        None => b64::decode_canonical(text).map(|data| Sha256::digest(&data).into()),
    }
}

/// The digest when `text` is canonical base64, `None` otherwise.
///
/// Why it accepts only canonical text: the strict engine (canonical padding, zero trailing
/// bits, standard alphabet) has exactly one accepted spelling per byte string. Every step
/// but the last is whole quanta without padding, which the engine decodes to exactly the
/// bytes the same characters decode to inside the whole text; padding there would end the
/// text early, so a step holding `=` is refused. The last step is decoded like the end of
/// the whole text, padding and trailing-bit checks included.
fn sha256_in_steps(text: &[u8]) -> Option<[u8; 32]> {
    if text.len() % 4 != 0 {
        return None;
    }
    let mut hasher = Sha256::new();
    let mut decoded = [0u8; TEXT_STEP / 4 * 3];
    let mut steps = text.chunks(TEXT_STEP).peekable();
    while let Some(step) = steps.next() {
        if steps.peek().is_some() && step.contains(&b'=') {
            return None;
        }
        let n = STANDARD.decode_slice(step, &mut decoded).ok()?;
        hasher.update(&decoded[..n]);
    }
    Some(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nucleus_testkit::bytes::pseudo_random;

    /// What the payload hash was before: decode the whole text, then hash.
    fn reference(text: &str) -> Result<[u8; 32], Base64Error> {
        b64::decode_canonical(text).map(|data| Sha256::digest(&data).into())
    }

    /// Decoded lengths around the step boundary and around padding: each gives texts that
    /// end inside, at, or just past a step, with 0, 1 or 2 padding characters.
    fn lengths() -> Vec<usize> {
        let step = TEXT_STEP / 4 * 3;
        let mut out: Vec<usize> = (0..8).collect();
        for k in 1..4 {
            out.extend(k * step - 3..k * step + 4);
        }
        out.push(100_000);
        out
    }

    #[test]
    fn matches_decode_then_hash_on_canonical_text() {
        for (i, len) in lengths().into_iter().enumerate() {
            let data = pseudo_random(len, i as u64);
            let text = b64::encode(&data);
            let expected: [u8; 32] = Sha256::digest(&data).into();
            assert_eq!(sha256_of_base64(&text), Ok(expected), "length {len}");
            assert_eq!(
                sha256_in_steps(text.as_bytes()),
                Some(expected),
                "length {len}"
            );
        }
    }

    #[test]
    fn refuses_what_the_reference_refuses_with_its_error() {
        let mut cases: Vec<String> = vec![
            "A".into(),
            "AA".into(),
            "AA=".into(),
            "AB==".into(),
            "AAB=".into(),
            "AA==AA==".into(),
            " AA=".into(),
            "-_8=".into(),
            "====".into(),
        ];
        for len in lengths() {
            let text = b64::encode(&pseudo_random(len, 7));
            if text.is_empty() {
                continue;
            }
            // Padding ending the first step early, with valid text after it.
            if text.len() > TEXT_STEP {
                let mut early = text.clone();
                early.replace_range(TEXT_STEP - 2..TEXT_STEP, "==");
                cases.push(early);
            }
            // A character outside the alphabet in the first, a middle and the last step.
            for at in [0, text.len() / 2, text.len() - 1] {
                let mut bad = text.clone().into_bytes();
                bad[at] = b'*';
                cases.push(String::from_utf8(bad).unwrap());
            }
            // Non-zero trailing bits and missing padding (when there is padding), a stray
            // newline, a lost character.
            if text.ends_with('=') {
                // The last data character before padding carries the trailing bits; both
                // '+' and '/' set some of them.
                let mut trailing = text.clone().into_bytes();
                let pos = text.trim_end_matches('=').len() - 1;
                trailing[pos] = if trailing[pos] == b'/' { b'+' } else { b'/' };
                cases.push(String::from_utf8(trailing).unwrap());
                cases.push(text.trim_end_matches('=').to_owned());
            }
            cases.push(format!("{text}\n"));
            cases.push(text[1..].to_owned());
        }
        for case in cases {
            let expected = reference(&case);
            assert!(
                expected.is_err(),
                "case {:?} should be invalid",
                short(&case)
            );
            assert_eq!(sha256_of_base64(&case), expected, "{:?}", short(&case));
            assert_eq!(sha256_in_steps(case.as_bytes()), None, "{:?}", short(&case));
        }
    }

    fn short(s: &str) -> String {
        if s.len() <= 24 {
            s.to_owned()
        } else {
            format!("{}…({} chars)", &s[..24], s.len())
        }
    }
}
