//! The PR's changed paths, reduced to the domains it touches.
//!
//! Each path is normalised (`\` becomes `/`, a leading `./` and the registry prefix are
//! removed, blank lines skipped) and must then be exactly
//! `domains/<trust-domain>/bundle.json` or `domains/<trust-domain>/metadata.toml`.
//! Anything else (CODEOWNERS, the log, workflow files, a third file in a domain folder,
//! `..` segments) is refused: an enrollment PR changes enrollment files only. An empty
//! change is refused too, since it proves nothing.

use std::collections::BTreeSet;

use crate::registry::{BUNDLE_FILE, DOMAINS_DIR, METADATA_FILE};

/// Why a changed-path list is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    /// No path changed.
    #[error("the PR changes no registry file; an empty enrollment is refused")]
    Empty,
    /// A path outside `domains/<td>/{bundle.json,metadata.toml}`.
    #[error(
        "changed path {0:?} is outside domains/<trust-domain>/{{bundle.json,metadata.toml}}; \
         an enrollment PR may change only those files"
    )]
    OutOfScope(String),
}

/// The trust domains touched by `paths` (relative to the repository root; `prefix` is
/// the registry folder inside it, empty when the registry is the repository root).
pub fn changed_domains(paths: &[String], prefix: &str) -> Result<BTreeSet<String>, DiffError> {
    let prefix = prefix.trim_matches('/');
    let mut domains = BTreeSet::new();
    for raw in paths {
        let path = raw.trim().replace('\\', "/");
        if path.is_empty() {
            continue;
        }
        let path = path.strip_prefix("./").unwrap_or(&path);
        let rest = if prefix.is_empty() {
            Some(path)
        } else {
            path.strip_prefix(prefix).and_then(|r| r.strip_prefix('/'))
        };
        let segments: Vec<&str> = rest.map(|r| r.split('/').collect()).unwrap_or_default();
        match segments.as_slice() {
            [dir, domain, file]
                if *dir == DOMAINS_DIR
                    && !domain.is_empty()
                    && !domain.starts_with('.')
                    && (*file == BUNDLE_FILE || *file == METADATA_FILE) =>
            {
                domains.insert((*domain).to_owned());
            }
            _ => return Err(DiffError::OutOfScope(raw.clone())),
        }
    }
    if domains.is_empty() {
        return Err(DiffError::Empty);
    }
    Ok(domains)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn normalises_and_collects_domains() {
        let got = changed_domains(
            &paths(&[
                "./registry/domains/a.example/bundle.json",
                "registry\\domains\\a.example\\metadata.toml",
                "",
                "registry/domains/b.example/metadata.toml",
            ]),
            "registry",
        )
        .unwrap();
        assert_eq!(
            got.into_iter().collect::<Vec<_>>(),
            ["a.example", "b.example"]
        );
    }

    #[test]
    fn refuses_smuggled_and_empty_changes() {
        for bad in [
            "registry/.github/CODEOWNERS",
            "registry/log/entries/00000000000000000000.json",
            "registry/domains/a.example/extra.txt",
            "registry/domains/../log/origin",
            "registry/domains/a.example/sub/bundle.json",
            "other/domains/a.example/bundle.json",
            "registryX/domains/a.example/bundle.json",
        ] {
            assert_eq!(
                changed_domains(&paths(&[bad]), "registry"),
                Err(DiffError::OutOfScope(bad.to_owned())),
                "{bad}"
            );
        }
        assert_eq!(
            changed_domains(&paths(&["", "  "]), "registry"),
            Err(DiffError::Empty)
        );
    }
}
