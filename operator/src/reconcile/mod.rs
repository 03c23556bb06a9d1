//! One reconciler per kind, and the runner that starts them while this process leads.
//!
//! # Adding a kind's controller (the convention)
//!
//! 1. Write `reconcile/<kind>.rs` exposing
//!    `pub async fn run(ctx: Arc<Context>) -> anyhow::Result<()>`, which builds a
//!    `kube::runtime::Controller` for the kind (narrow `owns` watches with
//!    [`common::MANAGED_SELECTOR`]) and hands it to [`common::drive`] together with an
//!    `async fn reconcile(obj: Arc<Kind>, ctx: Arc<Context>) -> Result<Action, E>` where
//!    `E: std::error::Error + common::MetricLabel`. `drive` adds metrics, per-object
//!    exponential error backoff, and graceful shutdown on `ctx.shutdown`; `run` returns
//!    when the controller has drained.
//! 2. Add ONE `pub mod <kind>;` line below and ONE `set.spawn(<kind>::run(ctx.clone()));`
//!    line in [`run_all`].
//! 3. Give the chart's ClusterRole the verbs the new reconciler uses.
//!
//! Inside a reconciler: write children with [`common::apply`] (server-side apply, field
//! manager [`crate::context::FIELD_MANAGER`], controller owner reference from
//! [`common::owner_ref`], labels from [`common::child_labels`]); compute conditions with
//! [`crate::api::v1alpha1::conditions::set_condition`] (stamped with
//! `metadata.generation`); write status with [`common::apply_status`] (skips no-op
//! writes); publish an event with [`common::publish_event`] when a condition turns False
//! or something important happens; return `Action::requeue(..)` for a missing referenced
//! object instead of an error.

pub mod bundle_replica;
pub mod common;
pub mod federates_with;
pub mod quorum_policy;
pub mod witness;

use std::sync::Arc;

use anyhow::Context as _;
use tokio::task::JoinSet;

use crate::context::Context;

/// Runs every controller until all have stopped (they stop on `ctx.shutdown`). An error
/// from one controller is returned after the others have drained.
pub async fn run_all(ctx: Arc<Context>) -> anyhow::Result<()> {
    let mut set = JoinSet::new();
    set.spawn(witness::run(ctx.clone()));
    set.spawn(quorum_policy::run(ctx.clone()));
    set.spawn(federates_with::run(ctx.clone()));
    set.spawn(bundle_replica::run(ctx.clone()));
    let mut first_error = None;
    while let Some(joined) = set.join_next().await {
        let result = joined.context("controller task panicked").and_then(|r| r);
        if let Err(e) = result {
            tracing::error!(error = %e, "controller failed");
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}
