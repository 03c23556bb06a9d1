//! The nucleus operator: CRD types (`api`), reconcilers (`reconcile`), and the process
//! plumbing (context, metrics, leader election, HTTP).

pub mod api;
pub mod context;
pub mod crd;
pub mod metrics;
pub mod reconcile;
