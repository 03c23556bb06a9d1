//! The anti-rollback state machine for one federated trust domain.
//!
//! The spec only says a consumer SHOULD order bundles by `spiffe_sequence`; here it is a
//! MUST. The rules, in the order they are checked:
//!
//! 1. A bundle without a sequence is refused, unless the relationship explicitly accepts
//!    unsequenced bundles; even then it is refused once a sequenced bundle was accepted
//!    (a publisher that has shown sequences may not silently drop them: that would switch
//!    off rollback protection).
//! 2. The first sequenced bundle (or the first after an explicit [`RollbackGuard::reset`])
//!    is accepted at any sequence and pins it.
//! 3. A higher sequence is accepted, including one with an empty `keys` array: that is a
//!    revocation of every key and must take effect.
//! 4. The same sequence with the same key *set* is a no-op; with a different key set it is
//!    refused (the spec says the sequence MUST change when the content does).
//! 5. A lower sequence is a rollback and is refused.
//!
//! A refusal never changes the accepted keys. Fetch errors never reach this type, so they
//! cannot blank the key set either. The only way back to a lower sequence is
//! [`RollbackGuard::reset`], which callers must wire to an explicit operator action.

use crate::bundle::SpiffeBundle;

/// Options of one federation relationship that affect acceptance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RollbackPolicy {
    /// Accept bundles without `spiffe_sequence` (older SPIRE releases, or SPIRE at
    /// sequence 0). Rollback protection is then impossible until the publisher sends one.
    pub accept_unsequenced: bool,
}

/// Why a fetched bundle was refused. The last accepted keys stay in force.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The sequence is lower than the last accepted one.
    #[error(
        "rollback refused: fetched spiffe_sequence {fetched} is lower than the last accepted {last}; the last accepted keys stay in force"
    )]
    Rollback {
        /// The fetched bundle's sequence.
        fetched: u64,
        /// The last accepted sequence.
        last: u64,
    },
    /// Same sequence as the last accepted one but a different key set.
    #[error(
        "refused: spiffe_sequence {sequence} was already accepted with a different key set (the publisher MUST change the sequence when the content changes)"
    )]
    SameSequenceDifferentKeys {
        /// The repeated sequence.
        sequence: u64,
    },
    /// No sequence, and the relationship does not accept unsequenced bundles.
    #[error(
        "refused: the bundle has no spiffe_sequence, so its freshness cannot be proved (set acceptUnsequenced to allow such bundles)"
    )]
    MissingSequence,
    /// No sequence, after a sequenced bundle was accepted.
    #[error(
        "refused: the bundle has no spiffe_sequence but sequence {last} was accepted before; dropping the sequence would disable rollback protection"
    )]
    SequenceDropped {
        /// The last accepted sequence.
        last: u64,
    },
}

/// What an accepted (or no-op) ingest did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    /// The bundle was accepted and replaced the previous one.
    Accepted {
        /// The sequence before (None on first acceptance or when unsequenced).
        previous_sequence: Option<u64>,
        /// The new sequence (None if accepted unsequenced).
        sequence: Option<u64>,
        /// JWT key IDs present now but not before.
        added: Vec<String>,
        /// JWT key IDs present before but not now.
        removed: Vec<String>,
        /// Whether this was the first acceptance after an explicit reset.
        after_reset: bool,
    },
    /// The bundle carries the keys already accepted at this sequence; nothing changed.
    Unchanged {
        /// The (unchanged) sequence.
        sequence: Option<u64>,
    },
}

impl Ingested {
    /// Whether the JWT key set now in force is empty after an acceptance that removed keys:
    /// a revocation of the whole domain.
    pub fn is_full_revocation(&self, now: &SpiffeBundle) -> bool {
        matches!(self, Ingested::Accepted { removed, .. } if !removed.is_empty())
            && now.jwt_keys().is_empty()
    }
}

/// Anti-rollback state of one trust domain: the accepted bundle and its pinned sequence.
#[derive(Debug, Clone)]
pub struct RollbackGuard {
    policy: RollbackPolicy,
    last_sequence: Option<u64>,
    current: Option<SpiffeBundle>,
    reset_pending: bool,
}

impl RollbackGuard {
    /// A guard that has accepted nothing yet.
    pub fn new(policy: RollbackPolicy) -> Self {
        RollbackGuard {
            policy,
            last_sequence: None,
            current: None,
            reset_pending: false,
        }
    }

    /// A guard restored from persisted state (e.g. after a restart). `last_sequence` is the
    /// highest sequence ever accepted; it may be higher than `current`'s own sequence if the
    /// stored bundle copy is older than the stored sequence, and it wins.
    pub fn restore(
        policy: RollbackPolicy,
        last_sequence: Option<u64>,
        current: Option<SpiffeBundle>,
    ) -> Self {
        let from_bundle = current.as_ref().and_then(SpiffeBundle::sequence);
        let last_sequence = match (last_sequence, from_bundle) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        RollbackGuard {
            policy,
            last_sequence,
            current,
            reset_pending: false,
        }
    }

    /// The acceptance options.
    pub fn policy(&self) -> RollbackPolicy {
        self.policy
    }

    /// Changes the acceptance options (e.g. the spec changed).
    pub fn set_policy(&mut self, policy: RollbackPolicy) {
        self.policy = policy;
    }

    /// The highest sequence accepted so far.
    pub fn last_sequence(&self) -> Option<u64> {
        self.last_sequence
    }

    /// The bundle in force.
    pub fn current(&self) -> Option<&SpiffeBundle> {
        self.current.as_ref()
    }

    /// Whether the next bundle will be accepted at any sequence because of [`Self::reset`].
    pub fn reset_pending(&self) -> bool {
        self.reset_pending
    }

    /// Lets the next valid bundle be accepted at any sequence (restore from backup, domain
    /// rebuilt). The keys in force are kept until that bundle arrives. Only call this on an
    /// explicit operator action, never on your own.
    pub fn reset(&mut self) {
        self.reset_pending = true;
    }

    /// Offers a parsed bundle. On `Err` nothing changes.
    pub fn ingest(&mut self, bundle: SpiffeBundle) -> Result<Ingested, Refusal> {
        let after_reset = self.reset_pending;
        match bundle.sequence() {
            None => {
                if !self.policy.accept_unsequenced {
                    return Err(Refusal::MissingSequence);
                }
                if let (Some(last), false) = (self.last_sequence, after_reset) {
                    return Err(Refusal::SequenceDropped { last });
                }
                if !after_reset
                    && self
                        .current
                        .as_ref()
                        .is_some_and(|c| c.same_keys_as(&bundle))
                {
                    return Ok(Ingested::Unchanged { sequence: None });
                }
            }
            Some(seq) => {
                if let (Some(last), false) = (self.last_sequence, after_reset) {
                    if seq < last {
                        return Err(Refusal::Rollback { fetched: seq, last });
                    }
                    if seq == last {
                        let same = self
                            .current
                            .as_ref()
                            .is_some_and(|c| c.same_keys_as(&bundle));
                        return if same {
                            Ok(Ingested::Unchanged {
                                sequence: Some(seq),
                            })
                        } else {
                            Err(Refusal::SameSequenceDifferentKeys { sequence: seq })
                        };
                    }
                }
            }
        }
        let previous_sequence = self.last_sequence;
        let (added, removed) = kid_changes(self.current.as_ref(), &bundle);
        let sequence = bundle.sequence();
        // An unsequenced acceptance keeps no pin; after a reset the new sequence is the pin.
        if after_reset || sequence.is_some() {
            self.last_sequence = sequence;
        }
        self.current = Some(bundle);
        self.reset_pending = false;
        Ok(Ingested::Accepted {
            previous_sequence,
            sequence,
            added,
            removed,
            after_reset,
        })
    }
}

fn kid_changes(before: Option<&SpiffeBundle>, after: &SpiffeBundle) -> (Vec<String>, Vec<String>) {
    let old: Vec<&str> = before
        .map(|b| b.jwt_keys().kids().collect())
        .unwrap_or_default();
    let new: Vec<&str> = after.jwt_keys().kids().collect();
    let added = new
        .iter()
        .filter(|k| !old.contains(k))
        .map(|k| (*k).to_owned())
        .collect();
    let removed = old
        .iter()
        .filter(|k| !new.contains(k))
        .map(|k| (*k).to_owned())
        .collect();
    (added, removed)
}
