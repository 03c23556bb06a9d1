//! The log's files inside the registry repository:
//!
//! ```text
//! log/origin                         the checkpoint origin, one line
//! log/log.vkey                       the log's note verifier key (published, not trusted)
//! log/entries/<index, 20 digits>.json  entry bytes (canonical JSON, the leaf data)
//! log/checkpoints/<size, 20 digits>.note  the checkpoint note with its cosignatures
//! ```
//!
//! Zero-padded names sort in numeric order. Writes go to a temporary file that is then
//! renamed, so a reader sees a whole file or none. Nothing is ever deleted or rewritten
//! except a checkpoint note gaining cosignature lines.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// The log folder inside the registry.
pub const LOG_DIR: &str = "log";
const ORIGIN_FILE: &str = "origin";
const VKEY_FILE: &str = "log.vkey";
const ENTRIES_DIR: &str = "entries";
const CHECKPOINTS_DIR: &str = "checkpoints";

/// Why the log's files cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// An I/O failure.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The registry has no log yet.
    #[error(
        "{0} has no log (log/origin is missing); the first log-append creates it with --origin"
    )]
    NoLog(PathBuf),
    /// A file name that is not `<20 digits>.json` / `.note`, or a gap in entry indices.
    #[error("unexpected file {0} in the log")]
    Unexpected(PathBuf),
    /// Entry files are not numbered 0, 1, 2, … without gaps.
    #[error("log entries are not contiguous: expected index {expected}, found {found}")]
    Gap {
        /// The next index expected.
        expected: u64,
        /// The index found.
        found: u64,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> FilesError + '_ {
    move |source| FilesError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The log folder of a registry.
#[derive(Debug, Clone)]
pub struct LogFiles {
    dir: PathBuf,
}

fn numbered(dir: &Path, ext: &str) -> Result<BTreeMap<u64, PathBuf>, FilesError> {
    let mut out = BTreeMap::new();
    if !dir.exists() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let path = entry.map_err(io_err(dir))?.path();
        let number = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(ext))
            .filter(|n| n.len() == 20 && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u64>().ok());
        match number {
            Some(n) => {
                out.insert(n, path);
            }
            None => return Err(FilesError::Unexpected(path)),
        }
    }
    Ok(out)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FilesError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

impl LogFiles {
    /// The log of the registry at `registry`.
    pub fn new(registry: &Path) -> LogFiles {
        LogFiles {
            dir: registry.join(LOG_DIR),
        }
    }

    /// Whether the log exists.
    pub fn exists(&self) -> bool {
        self.dir.join(ORIGIN_FILE).is_file()
    }

    /// Creates the log folders and writes the origin and the published verifier key.
    pub fn create(&self, origin: &str, vkey: &str) -> Result<(), FilesError> {
        for sub in [ENTRIES_DIR, CHECKPOINTS_DIR] {
            let dir = self.dir.join(sub);
            std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        }
        write_atomic(&self.dir.join(VKEY_FILE), format!("{vkey}\n").as_bytes())?;
        write_atomic(
            &self.dir.join(ORIGIN_FILE),
            format!("{origin}\n").as_bytes(),
        )
    }

    /// The origin.
    pub fn origin(&self) -> Result<String, FilesError> {
        let path = self.dir.join(ORIGIN_FILE);
        if !path.is_file() {
            return Err(FilesError::NoLog(self.dir.clone()));
        }
        let text = std::fs::read_to_string(&path).map_err(io_err(&path))?;
        Ok(text.trim_end_matches('\n').to_owned())
    }

    /// Every entry's bytes, in index order; indices must run 0..n without gaps.
    pub fn entries(&self) -> Result<Vec<Vec<u8>>, FilesError> {
        let files = numbered(&self.dir.join(ENTRIES_DIR), ".json")?;
        let mut out = Vec::with_capacity(files.len());
        for (expected, (found, path)) in (0u64..).zip(files) {
            if found != expected {
                return Err(FilesError::Gap { expected, found });
            }
            out.push(std::fs::read(&path).map_err(io_err(&path))?);
        }
        Ok(out)
    }

    /// Every checkpoint note, by the size in its file name.
    pub fn checkpoints(&self) -> Result<BTreeMap<u64, Vec<u8>>, FilesError> {
        numbered(&self.dir.join(CHECKPOINTS_DIR), ".note")?
            .into_iter()
            .map(|(size, path)| Ok((size, std::fs::read(&path).map_err(io_err(&path))?)))
            .collect()
    }

    /// Writes entry `index`.
    pub fn write_entry(&self, index: u64, bytes: &[u8]) -> Result<(), FilesError> {
        write_atomic(
            &self.dir.join(ENTRIES_DIR).join(format!("{index:020}.json")),
            bytes,
        )
    }

    /// Writes (or replaces, when cosignatures are added) the checkpoint note of `size`.
    pub fn write_checkpoint(&self, size: u64, note: &[u8]) -> Result<(), FilesError> {
        write_atomic(
            &self
                .dir
                .join(CHECKPOINTS_DIR)
                .join(format!("{size:020}.note")),
            note,
        )
    }
}
