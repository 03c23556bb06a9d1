//! The client side of the C2SP tlog-witness protocol (`POST <prefix>/add-checkpoint`),
//! without I/O: request bodies, reading answers, and following 409 size corrections.
//!
//! [`submit`] runs a submission to its outcome with the caller's HTTP POST; underneath, a
//! [`Submission`] is driven step by step:
//!
//! ```text
//! let mut next = Submission::start(old, size);
//! loop {
//!     match next {
//!         Next::Done { outcome, witness_size } => break,
//!         Next::Send(submission) => {
//!             let proof = if submission.needs_proof() { proof_from(submission.old()) } else { [] };
//!             let (status, body) = post(submission.request_body(&proof, note));
//!             next = submission.receive(status, &body)?;
//!         }
//!     }
//! }
//! ```
//!
//! `old` is the size the caller believes the witness last cosigned for this origin; a 409
//! whose body is the witness's size restarts from that size (at most [`MAX_RESENDS`] times),
//! so a caller that lost its record still converges, while a witness ahead of the log is a
//! rollback or fork and is reported as such.

use crate::b64;
use crate::merkle::Hash;
use crate::quoted::Quoted;
use crate::signed_note::{NoteError, NoteSignature};

/// Most bytes of a witness answer that are read.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// How many 409 size corrections are followed before giving up.
pub const MAX_RESENDS: usize = 3;

/// A 200 answer that is not a list of signature lines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("witness answered 200 with a bad cosignature line {}: {reason}", Quoted(.line))]
pub struct BadCosignatureLine {
    /// The offending line.
    pub line: String,
    /// Why it is not a signature line.
    pub reason: NoteError,
}

/// What a witness finally answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 200: the signature lines it returned (not yet verified).
    Cosigned(Vec<NoteSignature>),
    /// The witness refused (or the log is behind it); the reason says why in words.
    Refused(String),
}

/// The state after a step of a submission.
#[derive(Debug)]
pub enum Next {
    /// Send (another) request.
    Send(Submission),
    /// Finished; `witness_size` is the size the witness is now known to have cosigned.
    Done {
        /// The witness's answer.
        outcome: Outcome,
        /// The size to remember for this witness.
        witness_size: u64,
    },
}

/// One checkpoint submission to one witness, waiting for its next request to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    old: u64,
    size: u64,
    resends: usize,
}

/// The `add-checkpoint` request body: `old N`, the consistency proof lines, a blank line,
/// then the log-signed checkpoint note.
pub fn add_checkpoint_body(old: u64, proof: &[Hash], note: &str) -> String {
    let mut body = format!("old {old}\n");
    for h in proof {
        body.push_str(&b64::encode(h));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(note);
    body
}

/// Parses a 200 answer: one signature line per non-empty line.
pub fn parse_cosignature_lines(text: &str) -> Result<Vec<NoteSignature>, BadCosignatureLine> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            NoteSignature::parse_line(l).map_err(|reason| BadCosignatureLine {
                line: l.to_owned(),
                reason,
            })
        })
        .collect()
}

/// The witness's size in a 409 body (a canonical decimal, optionally LF-terminated).
pub fn parse_conflict_size(text: &str) -> Option<u64> {
    crate::checkpoint::parse_canonical_u64(text.strip_suffix('\n').unwrap_or(text))
}

impl Submission {
    /// Starts submitting a checkpoint of `size`, believing the witness last cosigned `old`.
    pub fn start(old: u64, size: u64) -> Next {
        Submission {
            old,
            size,
            resends: 0,
        }
        .checked()
    }

    fn checked(self) -> Next {
        if self.old > self.size {
            return Next::Done {
                outcome: Outcome::Refused(format!(
                    "the witness has cosigned size {}, beyond our size {}: this log was rolled \
                     back or forked",
                    self.old, self.size
                )),
                witness_size: self.old,
            };
        }
        Next::Send(self)
    }

    /// The `old` size this request is sent from.
    pub fn old(&self) -> u64 {
        self.old
    }

    /// Whether the request needs a consistency proof from [`Submission::old`] to the size
    /// (none from 0, none to the same size).
    pub fn needs_proof(&self) -> bool {
        self.old > 0 && self.old < self.size
    }

    /// The request body for this step, given the consistency proof from
    /// [`Submission::old`] and the log-signed checkpoint note.
    pub fn request_body(&self, proof: &[Hash], note: &str) -> String {
        add_checkpoint_body(self.old, proof, note)
    }

    /// Reads the witness's answer (`body` is cut at [`MAX_RESPONSE_BYTES`]).
    pub fn receive(mut self, status: u16, body: &[u8]) -> Result<Next, BadCosignatureLine> {
        let text = String::from_utf8_lossy(&body[..body.len().min(MAX_RESPONSE_BYTES)]);
        let old = self.old;
        let refused = |reason: String, witness_size: u64| Next::Done {
            outcome: Outcome::Refused(reason),
            witness_size,
        };
        Ok(match status {
            200 => Next::Done {
                outcome: Outcome::Cosigned(parse_cosignature_lines(&text)?),
                witness_size: self.size,
            },
            409 => match parse_conflict_size(&text) {
                Some(theirs) if theirs == old => refused(
                    format!(
                        "409: the witness already cosigned a different checkpoint of size \
                         {theirs} (a fork of this log)"
                    ),
                    theirs,
                ),
                Some(theirs) if self.resends >= MAX_RESENDS => refused(
                    format!(
                        "the witness kept answering 409 with new sizes after {MAX_RESENDS} \
                         resends (last: {theirs})"
                    ),
                    old,
                ),
                Some(theirs) => {
                    self.old = theirs;
                    self.resends += 1;
                    self.checked()
                }
                None => refused(format!("409: {}", text.trim()), old),
            },
            403 => refused(
                format!(
                    "403: the witness does not accept this log's signature ({})",
                    text.trim()
                ),
                old,
            ),
            404 => refused(
                format!(
                    "404: the witness is not configured for this origin ({})",
                    text.trim()
                ),
                old,
            ),
            422 => refused(
                format!(
                    "422: the witness refused the consistency proof from size {old}: this \
                     checkpoint does not extend what it cosigned (fork or rollback) ({})",
                    text.trim()
                ),
                old,
            ),
            other => refused(format!("HTTP {other}: {}", text.trim()), old),
        })
    }
}

/// Submits `note` (the log-signed checkpoint of `size`) starting from `old`, the size the
/// witness is believed to have cosigned, until the witness answers for good. `proof_from(old)`
/// gives the consistency proof from `old` to `size`; `post(body)` is the caller's
/// `POST <url>/add-checkpoint`, returning the status and the response body. Returns the
/// outcome and the size the witness is now known to be at.
pub async fn submit<E, P, F, Fut>(
    old: u64,
    size: u64,
    note: &str,
    mut proof_from: P,
    mut post: F,
) -> Result<(Outcome, u64), E>
where
    E: From<BadCosignatureLine>,
    P: FnMut(u64) -> Result<Vec<Hash>, E>,
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(u16, Vec<u8>), E>>,
{
    let mut next = Submission::start(old, size);
    loop {
        let submission = match next {
            Next::Done {
                outcome,
                witness_size,
            } => return Ok((outcome, witness_size)),
            Next::Send(submission) => submission,
        };
        let proof = if submission.needs_proof() {
            proof_from(submission.old())?
        } else {
            Vec::new()
        };
        let (status, body) = post(submission.request_body(&proof, note)).await?;
        next = submission.receive(status, &body)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(next: Next) -> Submission {
        match next {
            Next::Send(s) => s,
            Next::Done { outcome, .. } => panic!("expected a request, got {outcome:?}"),
        }
    }

    fn done(next: Next) -> (Outcome, u64) {
        match next {
            Next::Done {
                outcome,
                witness_size,
            } => (outcome, witness_size),
            Next::Send(s) => panic!("expected an outcome, got a request from {}", s.old()),
        }
    }

    #[test]
    fn body_has_old_proof_blank_line_and_note() {
        let proof = [[1u8; 32], [2u8; 32]];
        let body = add_checkpoint_body(3, &proof, "o\n5\nroot\n\n— o sig\n");
        assert_eq!(
            body,
            format!(
                "old 3\n{}\n{}\n\no\n5\nroot\n\n— o sig\n",
                b64::encode(&[1u8; 32]),
                b64::encode(&[2u8; 32])
            )
        );
    }

    #[test]
    fn cosigned_lines_are_parsed_and_size_advances() {
        let line = NoteSignature {
            name: "w".into(),
            key_id: 7,
            blob: vec![9; 72],
        }
        .to_line();
        let sub = send(Submission::start(2, 5));
        assert!(sub.needs_proof());
        let (outcome, at) = done(sub.receive(200, line.as_bytes()).unwrap());
        assert_eq!(at, 5);
        match outcome {
            Outcome::Cosigned(lines) => assert_eq!(lines[0].key_id, 7),
            other => panic!("{other:?}"),
        }
    }

    /// Polls a future whose awaits are all ready (the fake witness below answers at once).
    fn ready<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("the fake witness never waits"),
        }
    }

    #[test]
    fn submit_follows_a_conflict_and_returns_the_cosignature() {
        let line = NoteSignature {
            name: "w".into(),
            key_id: 7,
            blob: vec![9; 72],
        }
        .to_line();
        let mut answers = vec![(200u16, line.into_bytes()), (409, b"3\n".to_vec())];
        let mut bodies = Vec::new();
        let mut proofs_from = Vec::new();
        let result: Result<_, BadCosignatureLine> = ready(submit(
            0,
            5,
            "note\n",
            |old| {
                proofs_from.push(old);
                Ok(vec![[old as u8; 32]])
            },
            |body| {
                bodies.push(body);
                let answer = answers.pop().expect("two requests at most");
                async move { Ok(answer) }
            },
        ));
        let (outcome, at) = result.unwrap();
        assert!(matches!(outcome, Outcome::Cosigned(lines) if lines[0].key_id == 7));
        assert_eq!(at, 5);
        // First from 0 (no proof), then from the witness's 3 with a proof from 3.
        assert_eq!(proofs_from, [3]);
        assert!(bodies[0].starts_with("old 0\n\nnote\n"), "{:?}", bodies[0]);
        assert!(bodies[1].starts_with(&format!("old 3\n{}\n\n", b64::encode(&[3u8; 32]))));
    }

    #[test]
    fn bad_cosignature_line_is_an_error() {
        let sub = send(Submission::start(0, 1));
        assert!(!sub.needs_proof());
        let err = sub.receive(200, b"not a signature\n").unwrap_err();
        assert_eq!(err.line, "not a signature");
    }

    #[test]
    fn conflict_with_other_size_resends_from_it() {
        let sub = send(Submission::start(0, 5));
        let sub = send(sub.receive(409, b"3\n").unwrap());
        assert_eq!(sub.old(), 3);
        assert!(sub.needs_proof());
    }

    #[test]
    fn conflict_at_same_size_is_a_fork() {
        let sub = send(Submission::start(3, 5));
        let (outcome, at) = done(sub.receive(409, b"3\n").unwrap());
        assert_eq!(at, 3);
        assert!(matches!(outcome, Outcome::Refused(r) if r.contains("fork")));
    }

    #[test]
    fn witness_ahead_of_log_is_a_rollback() {
        let (outcome, at) = done(Submission::start(6, 5));
        assert_eq!(at, 6);
        assert!(matches!(outcome, Outcome::Refused(r) if r.contains("rolled back")));
        let sub = send(Submission::start(0, 5));
        let (_, at) = done(sub.receive(409, b"9").unwrap());
        assert_eq!(at, 9);
    }

    #[test]
    fn resends_are_bounded() {
        let mut sub = send(Submission::start(0, 100));
        for size in 1..=MAX_RESENDS as u64 {
            sub = send(sub.receive(409, size.to_string().as_bytes()).unwrap());
        }
        let (outcome, _) = done(sub.receive(409, b"50").unwrap());
        assert!(matches!(outcome, Outcome::Refused(r) if r.contains("kept answering 409")));
    }

    #[test]
    fn non_canonical_conflict_size_is_refused() {
        for body in [&b"+3"[..], b"03", b"three", b""] {
            let sub = send(Submission::start(0, 5));
            let (outcome, at) = done(sub.receive(409, body).unwrap());
            assert_eq!(at, 0);
            assert!(matches!(outcome, Outcome::Refused(r) if r.starts_with("409")));
        }
    }

    #[test]
    fn other_statuses_are_refusals_naming_the_status() {
        for (status, word) in [
            (403, "403"),
            (404, "404"),
            (422, "consistency"),
            (503, "HTTP 503"),
        ] {
            let sub = send(Submission::start(1, 2));
            let (outcome, at) = done(sub.receive(status, b"why").unwrap());
            assert_eq!(at, 1);
            assert!(matches!(outcome, Outcome::Refused(r) if r.contains(word)));
        }
    }
}
