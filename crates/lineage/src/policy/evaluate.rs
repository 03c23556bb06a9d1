//! Quorum evaluation over the set of witnesses whose cosignatures verified.

use std::collections::{BTreeMap, BTreeSet};

use super::Policy;
use super::model::{PolicyGroup, Quorum};

impl Policy {
    /// Whether the quorum holds when exactly the witnesses named in `counted` (policy witness
    /// names) have a verified cosignature.
    ///
    /// The caller must only pass names whose cosignatures it verified, each once (a set, so a
    /// witness that cosigned twice counts once); [`crate::quorum::verify_cosigned_checkpoint`]
    /// does both. Names the policy does not define are ignored.
    ///
    /// Evaluation is fail-closed also for a `Policy` built by hand rather than parsed: a group
    /// member that is not defined before the group evaluates to false (so cycles cannot hold),
    /// and a group needs at least one satisfied member whatever its threshold says.
    pub fn is_satisfied(&self, counted: &BTreeSet<String>) -> bool {
        match &self.quorum {
            Quorum::None => true,
            Quorum::Name(name) => self
                .evaluate(counted)
                .get(name.as_str())
                .copied()
                .unwrap_or(false),
        }
    }

    /// Truth value of every witness and group name, computed in definition order: members
    /// are defined before their group, so one pass suffices and no recursion is needed.
    fn evaluate(&self, counted: &BTreeSet<String>) -> BTreeMap<&str, bool> {
        let mut values: BTreeMap<&str, bool> = BTreeMap::new();
        for witness in &self.witnesses {
            values
                .entry(witness.name.as_str())
                .or_insert_with(|| counted.contains(&witness.name));
        }
        for group in &self.groups {
            if values.contains_key(group.name.as_str()) {
                continue;
            }
            let value = group_value(group, &values);
            values.insert(group.name.as_str(), value);
        }
        values
    }

    /// A human-readable description of what the quorum requires, e.g.
    /// `all of (2 of (W1, W2, W3), any of (W4, W5))`, or `none (no cosignatures required)`.
    pub fn describe_quorum(&self) -> String {
        let Quorum::Name(target) = &self.quorum else {
            return "none (no cosignatures required)".to_owned();
        };
        let mut descriptions: BTreeMap<&str, String> = self
            .witnesses
            .iter()
            .map(|w| (w.name.as_str(), w.name.clone()))
            .collect();
        for group in &self.groups {
            if descriptions.contains_key(group.name.as_str()) {
                continue;
            }
            let members: Vec<String> = group
                .members
                .iter()
                .map(|m| {
                    descriptions
                        .get(m.as_str())
                        .cloned()
                        .unwrap_or_else(|| format!("{m} (undefined)"))
                })
                .collect();
            descriptions.insert(
                group.name.as_str(),
                format!("{} of ({})", group.threshold, members.join(", ")),
            );
        }
        descriptions
            .remove(target.as_str())
            .unwrap_or_else(|| format!("{target} (undefined)"))
    }
}

fn group_value(group: &PolicyGroup, values: &BTreeMap<&str, bool>) -> bool {
    // Inserted one by one: `collect` into a set sorts a Vec first, and the browser verifier
    // (which links this) pays kilobytes per sort instantiation.
    let mut distinct = BTreeSet::new();
    for member in &group.members {
        distinct.insert(member.as_str());
    }
    let satisfied = distinct
        .iter()
        .filter(|m| values.get(*m).copied().unwrap_or(false))
        .count();
    let required = group.threshold.required(distinct.len()).max(1);
    satisfied >= required
}
