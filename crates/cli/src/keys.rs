//! Signing keys: read from files (or the environment), never from argv.
//!
//! A key file holds a 32-byte Ed25519 seed as 64 hex digits (surrounding whitespace
//! allowed) or as the raw 32 bytes.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ed25519_dalek::SigningKey;

/// Which key, and where it lives by default inside a log directory.
#[derive(Debug, Clone, Copy)]
pub enum Role {
    /// Signs checkpoints.
    Log,
    /// Seals exported bundles: one signature over the chain head, the edge count and the payload.
    Issuer,
}

impl Role {
    fn file_name(self) -> &'static str {
        match self {
            Role::Log => "log.key",
            Role::Issuer => "issuer.key",
        }
    }

    fn file_env(self) -> &'static str {
        match self {
            Role::Log => "NUCLEUS_LOG_KEY_FILE",
            Role::Issuer => "NUCLEUS_ISSUER_KEY_FILE",
        }
    }

    fn hex_env(self) -> &'static str {
        match self {
            Role::Log => "NUCLEUS_LOG_KEY_HEX",
            Role::Issuer => "NUCLEUS_ISSUER_KEY_HEX",
        }
    }
}

fn parse_seed(bytes: &[u8], source: &str) -> Result<SigningKey> {
    if bytes.len() == 32 {
        let seed: [u8; 32] = bytes.try_into().context("seed length")?;
        return Ok(SigningKey::from_bytes(&seed));
    }
    let text = std::str::from_utf8(bytes)
        .with_context(|| format!("{source}: neither 32 raw bytes nor hex text"))?
        .trim();
    let seed = hex::decode(text).with_context(|| format!("{source}: not hex"))?;
    let seed: [u8; 32] = seed
        .as_slice()
        .try_into()
        .map_err(|_| anyhow::anyhow!("{source}: expected a 32-byte seed (64 hex digits)"))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Loads a key: `$NUCLEUS_<ROLE>_KEY_FILE`, else `$NUCLEUS_<ROLE>_KEY_HEX`, else the file in
/// the log directory.
pub fn load(role: Role, dir: &Path) -> Result<SigningKey> {
    if let Some(path) = std::env::var_os(role.file_env()) {
        let path = PathBuf::from(path);
        let bytes = std::fs::read(&path)
            .with_context(|| format!("reading {} ({})", path.display(), role.file_env()))?;
        return parse_seed(&bytes, &path.display().to_string());
    }
    if let Ok(hex_seed) = std::env::var(role.hex_env()) {
        return parse_seed(hex_seed.as_bytes(), role.hex_env());
    }
    let path = dir.join(role.file_name());
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "reading {} (or set {} / {})",
            path.display(),
            role.file_env(),
            role.hex_env()
        )
    })?;
    parse_seed(&bytes, &path.display().to_string())
}

/// Makes sure the log directory has a key for `role`: keeps an existing one, otherwise uses
/// the environment's key if set, otherwise generates one and writes it with mode 0600.
pub fn ensure(role: Role, dir: &Path) -> Result<SigningKey> {
    let path = dir.join(role.file_name());
    if path.exists()
        || std::env::var_os(role.file_env()).is_some()
        || std::env::var_os(role.hex_env()).is_some()
    {
        return load(role, dir);
    }
    let seed: [u8; 32] = rand::random();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(format!("{}\n", hex::encode(seed)).as_bytes())?;
    file.sync_all()?;
    Ok(SigningKey::from_bytes(&seed))
}
