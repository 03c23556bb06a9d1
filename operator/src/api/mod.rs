//! API types by version.

pub mod v1alpha1;
