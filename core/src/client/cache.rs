//! The on-disk cache of the last good definitions (or, in remote mode, the user's last `/flags` answer).
//!
//! So a restarted process, or a mobile app offline, starts with flags at once. A file is one JSON header
//! line (format, kind, ETag, body length, save time, and for remote mode the distinct id) and then the body
//! exactly as it was received. It is written to a temporary file in the same directory, flushed to disk and
//! renamed over the old one, so a crash leaves either the old file or the new one, never a torn mix; the
//! body length in the header catches anything else, and a body is used only if it loads.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

const FORMAT: &str = "hogflags-cache-v1";

/// What a cache file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    /// `definitions` or `remote_flags`.
    pub kind: String,
    pub etag: Option<String>,
    pub saved_at_ms: i64,
    /// Remote mode: the user the flags were fetched for.
    pub distinct_id: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    kind: String,
    #[serde(default)]
    etag: Option<String>,
    saved_at_ms: i64,
    #[serde(default)]
    distinct_id: Option<String>,
    body_len: usize,
}

/// Why a cache file was not used.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot read the cache file: {0}")]
    Io(#[from] std::io::Error),
    #[error("cache file is not a hogflags cache: {0}")]
    Invalid(String),
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Writes `entry` atomically (temporary file, fsync, rename).
pub fn write(path: &Path, entry: &CacheEntry) -> Result<(), CacheError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let header = Header {
        format: FORMAT.into(),
        kind: entry.kind.clone(),
        etag: entry.etag.clone(),
        saved_at_ms: entry.saved_at_ms,
        distinct_id: entry.distinct_id.clone(),
        body_len: entry.body.len(),
    };
    let mut tmp = tempfile::Builder::new().prefix(".hogflags-cache").tempfile_in(dir)?;
    serde_json::to_writer(&mut tmp, &header).map_err(|e| CacheError::Invalid(e.to_string()))?;
    tmp.write_all(b"\n")?;
    tmp.write_all(&entry.body)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| CacheError::Io(e.error))?;
    Ok(())
}

/// Reads a cache file of the given kind.
pub fn read(path: &Path, kind: &str) -> Result<CacheEntry, CacheError> {
    let bytes = std::fs::read(path)?;
    let nl = bytes.iter().position(|&b| b == b'\n').ok_or_else(|| CacheError::Invalid("no header line".into()))?;
    let header: Header = serde_json::from_slice(&bytes[..nl]).map_err(|e| CacheError::Invalid(e.to_string()))?;
    if header.format != FORMAT {
        return Err(CacheError::Invalid(format!("format {}", header.format)));
    }
    if header.kind != kind {
        return Err(CacheError::Invalid(format!("holds {}, not {kind}", header.kind)));
    }
    let body = &bytes[nl + 1..];
    if body.len() != header.body_len {
        return Err(CacheError::Invalid(format!("body is {} bytes, header says {}", body.len(), header.body_len)));
    }
    Ok(CacheEntry {
        kind: header.kind,
        etag: header.etag,
        saved_at_ms: header.saved_at_ms,
        distinct_id: header.distinct_id,
        body: body.to_vec(),
    })
}
