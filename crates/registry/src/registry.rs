//! The registry directory: `domains/<trust-domain>/{bundle.json, metadata.toml}`.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::binding::{Binding, BundleFormError, CanonicalBundle};
use crate::metadata::{DomainMetadata, MetadataError};

/// The folder holding one sub-folder per trust domain.
pub const DOMAINS_DIR: &str = "domains";
/// The bundle file in a domain folder.
pub const BUNDLE_FILE: &str = "bundle.json";
/// The metadata file in a domain folder.
pub const METADATA_FILE: &str = "metadata.toml";

/// Why a registry (or one of its domains) does not load.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// A file or folder could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// What was read.
        path: PathBuf,
        /// Why it failed.
        source: io::Error,
    },
    /// Something other than a domain folder inside `domains/`, or a domain folder holding
    /// other files.
    #[error(
        "unexpected entry {0} in the registry layout (expected domains/<td>/bundle.json and metadata.toml only)"
    )]
    Unexpected(PathBuf),
    /// The folder name is not the `trust_domain` its metadata states.
    #[error("domains/{dir}: metadata says trust_domain {stated:?}; the folder name must equal it")]
    NameMismatch {
        /// The folder name.
        dir: String,
        /// The metadata's trust domain.
        stated: String,
    },
    /// The metadata is invalid.
    #[error("domains/{domain}: {source}")]
    Metadata {
        /// The folder.
        domain: String,
        /// Why.
        source: MetadataError,
    },
    /// The bundle is invalid.
    #[error("domains/{domain}: {source}")]
    Bundle {
        /// The folder.
        domain: String,
        /// Why.
        source: BundleFormError,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> LayoutError + '_ {
    move |source| LayoutError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Whether a domain folder exists in the registry at `root`.
pub fn domain_exists(root: &Path, domain: &str) -> bool {
    root.join(DOMAINS_DIR).join(domain).is_dir()
}

/// Loads and validates one domain folder.
pub fn load_domain(root: &Path, domain: &str) -> Result<Binding, LayoutError> {
    let dir = root.join(DOMAINS_DIR).join(domain);
    for entry in std::fs::read_dir(&dir).map_err(io_err(&dir))? {
        let entry = entry.map_err(io_err(&dir))?;
        let name = entry.file_name();
        if name != BUNDLE_FILE && name != METADATA_FILE {
            return Err(LayoutError::Unexpected(entry.path()));
        }
    }
    let metadata_path = dir.join(METADATA_FILE);
    let text = std::fs::read_to_string(&metadata_path).map_err(io_err(&metadata_path))?;
    let metadata = DomainMetadata::parse(&text).map_err(|source| LayoutError::Metadata {
        domain: domain.to_owned(),
        source,
    })?;
    if metadata.trust_domain != domain {
        return Err(LayoutError::NameMismatch {
            dir: domain.to_owned(),
            stated: metadata.trust_domain,
        });
    }
    let bundle_path = dir.join(BUNDLE_FILE);
    let bytes = std::fs::read(&bundle_path).map_err(io_err(&bundle_path))?;
    let bundle = CanonicalBundle::parse(&bytes).map_err(|source| LayoutError::Bundle {
        domain: domain.to_owned(),
        source,
    })?;
    Ok(Binding { metadata, bundle })
}

/// Loads every domain, keyed (and so sorted) by trust domain. A registry without a
/// `domains/` folder has no domains.
pub fn load_registry(root: &Path) -> Result<BTreeMap<String, Binding>, LayoutError> {
    let dir = root.join(DOMAINS_DIR);
    let mut out = BTreeMap::new();
    if !dir.exists() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(&dir).map_err(io_err(&dir))? {
        let entry = entry.map_err(io_err(&dir))?;
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            return Err(LayoutError::Unexpected(path));
        };
        if !path.is_dir() {
            return Err(LayoutError::Unexpected(path));
        }
        let binding = load_domain(root, &name)?;
        out.insert(name, binding);
    }
    Ok(out)
}
