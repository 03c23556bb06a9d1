//! Status conditions shared by every kind: the condition types and reasons we use, and the
//! one function that updates a condition list (it bumps `lastTransitionTime` only when the
//! status flips, so a re-reconcile that reaches the same verdict writes nothing new).

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

/// Most conditions a status keeps; the CRD schema enforces the same bound.
pub const MAX_CONDITIONS: usize = 10;

/// `status` value of a condition that holds.
pub const TRUE: &str = "True";
/// `status` value of a condition that does not hold.
pub const FALSE: &str = "False";
/// `status` value of a condition the controller could not decide yet.
pub const UNKNOWN: &str = "Unknown";

/// Condition types. Every kind carries [`READY`]; the others belong to one kind each.
pub mod types {
    /// Summary condition on every kind.
    pub const READY: &str = "Ready";
    /// Witness: the seed Secret exists and holds a valid 32-byte seed.
    pub const SEED_AVAILABLE: &str = "SeedAvailable";
    /// Witness: the Postgres URL Secret exists and has the key.
    pub const DATABASE_CONFIGURED: &str = "DatabaseConfigured";
    /// Witness: `spec.publicKey` is unset or equals the key derived from the seed.
    pub const KEY_PINNED: &str = "KeyPinned";
    /// Witness: mirrors the Deployment's `Available` condition.
    pub const AVAILABLE: &str = "Available";
    /// QuorumPolicy: the policy parsed and is satisfiable.
    pub const POLICY_VALID: &str = "PolicyValid";
    /// QuorumPolicy: every referenced Witness has a public key in its status.
    pub const WITNESSES_RESOLVED: &str = "WitnessesResolved";
    /// FederatesWith: the last accepted bundle is older than its refresh window.
    pub const STALE: &str = "Stale";
    /// FederatesWith: the endpoint served a bundle whose sequence would roll back.
    pub const ROLLBACK_REFUSED: &str = "RollbackRefused";
    /// BundleReplica: the fetched bytes did not hash to `spec.hash`.
    pub const HASH_MISMATCH: &str = "HashMismatch";
    /// BundleReplica: the bytes verified but the bundle failed `verify_bundle`.
    pub const PROVENANCE_FAILED: &str = "ProvenanceFailed";
    /// BundleReplica: no source ticket could be reached.
    pub const SOURCE_UNREACHABLE: &str = "SourceUnreachable";
}

/// A condition verdict before it is stamped with a generation and time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Condition type, e.g. [`types::READY`].
    pub type_: String,
    /// [`TRUE`], [`FALSE`] or [`UNKNOWN`].
    pub status: &'static str,
    /// CamelCase reason.
    pub reason: String,
    /// Human message.
    pub message: String,
}

impl Verdict {
    /// A condition that holds.
    pub fn truthy(type_: &str, reason: &str, message: impl Into<String>) -> Self {
        Self::new(type_, TRUE, reason, message)
    }

    /// A condition that does not hold.
    pub fn falsy(type_: &str, reason: &str, message: impl Into<String>) -> Self {
        Self::new(type_, FALSE, reason, message)
    }

    /// A condition not decided yet.
    pub fn unknown(type_: &str, reason: &str, message: impl Into<String>) -> Self {
        Self::new(type_, UNKNOWN, reason, message)
    }

    fn new(type_: &str, status: &'static str, reason: &str, message: impl Into<String>) -> Self {
        Self {
            type_: type_.to_owned(),
            status,
            reason: reason.to_owned(),
            message: message.into(),
        }
    }

    /// Whether the verdict is `True`.
    pub fn is_true(&self) -> bool {
        self.status == TRUE
    }
}

/// Sets `verdict` in `conditions` for `generation`. The transition time is `now` only when
/// the condition is new or its status flipped; otherwise the previous time is kept, so
/// reason/message updates do not look like transitions. Returns true when the list changed.
pub fn set_condition(
    conditions: &mut Vec<Condition>,
    verdict: Verdict,
    generation: Option<i64>,
    now: Timestamp,
) -> bool {
    if let Some(existing) = conditions.iter_mut().find(|c| c.type_ == verdict.type_) {
        let flipped = existing.status != verdict.status;
        let changed = flipped
            || existing.reason != verdict.reason
            || existing.message != verdict.message
            || existing.observed_generation != generation;
        if flipped {
            existing.last_transition_time = Time(now);
        }
        existing.status = verdict.status.to_owned();
        existing.reason = verdict.reason;
        existing.message = verdict.message;
        existing.observed_generation = generation;
        return changed;
    }
    conditions.push(Condition {
        type_: verdict.type_,
        status: verdict.status.to_owned(),
        reason: verdict.reason,
        message: verdict.message,
        observed_generation: generation,
        last_transition_time: Time(now),
    });
    // Keep Ready first and cap the list at the schema's bound (oldest extras drop off).
    conditions.sort_by_key(|c| c.type_ != types::READY);
    conditions.truncate(MAX_CONDITIONS);
    true
}

/// The condition of type `type_`, if present.
pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Whether the condition of type `type_` is present and `True`.
pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    find(conditions, type_).is_some_and(|c| c.status == TRUE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).expect("valid timestamp")
    }

    #[test]
    fn new_condition_is_added_with_time() {
        let mut c = Vec::new();
        assert!(set_condition(
            &mut c,
            Verdict::truthy(types::READY, "Ok", "fine"),
            Some(3),
            t(10)
        ));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].status, TRUE);
        assert_eq!(c[0].observed_generation, Some(3));
        assert_eq!(c[0].last_transition_time.0, t(10));
    }

    #[test]
    fn same_verdict_is_a_no_op_and_keeps_time() {
        let mut c = Vec::new();
        set_condition(
            &mut c,
            Verdict::truthy(types::READY, "Ok", "fine"),
            Some(1),
            t(10),
        );
        let changed = set_condition(
            &mut c,
            Verdict::truthy(types::READY, "Ok", "fine"),
            Some(1),
            t(99),
        );
        assert!(!changed);
        assert_eq!(c[0].last_transition_time.0, t(10));
    }

    #[test]
    fn message_change_keeps_transition_time() {
        let mut c = Vec::new();
        set_condition(
            &mut c,
            Verdict::falsy(types::READY, "A", "one"),
            Some(1),
            t(10),
        );
        let changed = set_condition(
            &mut c,
            Verdict::falsy(types::READY, "B", "two"),
            Some(2),
            t(20),
        );
        assert!(changed);
        assert_eq!(c[0].reason, "B");
        assert_eq!(c[0].observed_generation, Some(2));
        assert_eq!(c[0].last_transition_time.0, t(10));
    }

    #[test]
    fn flip_bumps_transition_time() {
        let mut c = Vec::new();
        set_condition(
            &mut c,
            Verdict::falsy(types::READY, "A", "one"),
            Some(1),
            t(10),
        );
        set_condition(
            &mut c,
            Verdict::truthy(types::READY, "Ok", "fine"),
            Some(1),
            t(30),
        );
        assert_eq!(c[0].status, TRUE);
        assert_eq!(c[0].last_transition_time.0, t(30));
        assert!(is_true(&c, types::READY));
    }

    #[test]
    fn ready_sorts_first_and_list_is_capped() {
        let mut c = Vec::new();
        for i in 0..12 {
            set_condition(
                &mut c,
                Verdict::truthy(&format!("T{i}"), "Ok", ""),
                None,
                t(1),
            );
        }
        set_condition(&mut c, Verdict::truthy(types::READY, "Ok", ""), None, t(1));
        assert_eq!(c.len(), MAX_CONDITIONS);
        assert_eq!(c[0].type_, types::READY);
    }
}
