//! Importers: detect a file's format, parse it, validate every row.
//!
//! A bad row becomes a [`Problem`] and is skipped; a file that cannot be read or parsed at all
//! becomes a [`FileError`] and the other files still load.

pub mod columns;
pub mod csv;
pub mod geojson;
pub mod row;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

pub use columns::Overrides;

use crate::model::Problem;
use crate::store::{Builder, SourceFile, Store};

/// A file that could not be loaded at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// The file as the user named it.
    pub file: String,
    /// Why.
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// Progress and cancellation of a load running on another thread. Progress counts bytes read
/// plus bytes parsed, out of twice the total size.
#[derive(Debug, Default)]
pub struct Control {
    /// Set to stop loading as soon as possible.
    pub cancel: AtomicBool,
    /// Work done so far.
    pub done: AtomicU64,
    /// Work in all.
    pub total: AtomicU64,
}

impl Control {
    /// Fraction done in [0, 1].
    pub fn fraction(&self) -> f32 {
        let t = self.total.load(Ordering::Relaxed);
        if t == 0 {
            0.0
        } else {
            (self.done.load(Ordering::Relaxed) as f64 / t as f64).min(1.0) as f32
        }
    }

    /// Whether cancellation was asked for.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Records `n` more units of work done.
    pub fn advance(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }
}

/// Message of the error for a cancelled file.
pub const CANCELLED: &str = "loading cancelled";

/// One file's parse result before it joins the store.
#[derive(Debug)]
pub struct Loaded {
    /// Its incidents.
    pub builder: Builder,
    /// The file itself.
    pub source: SourceFile,
    /// Its row problems.
    pub problems: Vec<Problem>,
    /// How many rows were skipped.
    pub skipped: usize,
}

/// Everything loaded from a set of paths.
#[derive(Debug, Default)]
pub struct LoadResult {
    /// The incidents, sorted by time.
    pub store: Store,
    /// Row problems, in file then line order.
    pub problems: Vec<Problem>,
    /// Rows skipped.
    pub skipped: usize,
    /// Files that could not be loaded.
    pub errors: Vec<FileError>,
    /// Milliseconds spent reading and parsing.
    pub parse_ms: f64,
    /// Milliseconds spent sorting the store by time.
    pub index_ms: f64,
    /// Whether loading was cancelled (the store then holds nothing).
    pub cancelled: bool,
}

/// File kinds we read, by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Delimited text.
    Csv,
    /// GeoJSON.
    GeoJson,
}

const EXTENSIONS: [&str; 5] = ["csv", "tsv", "txt", "geojson", "json"];

fn supported(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Decides the format from content: JSON starts with `{`; binary data is refused.
pub fn sniff(bytes: &[u8]) -> Result<Kind, String> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Some(&first) = body.iter().find(|c| !c.is_ascii_whitespace()) else {
        return Err("empty file".into());
    };
    let head = &body[..body.len().min(64 * 1024)];
    if head.contains(&0) {
        return Err("binary data, not CSV nor GeoJSON".into());
    }
    let controls = head
        .iter()
        .filter(|&&c| c < 0x20 && !matches!(c, b'\n' | b'\r' | b'\t' | 0x0c))
        .count();
    if controls * 100 > head.len() {
        return Err("binary data, not CSV nor GeoJSON".into());
    }
    match first {
        b'{' | b'[' => Ok(Kind::GeoJson),
        _ => Ok(Kind::Csv),
    }
}

/// Parses one file's bytes (the entry point fuzzers use).
pub fn load_bytes(
    name: &str,
    path: PathBuf,
    bytes: Vec<u8>,
    ov: &Overrides,
    file: u16,
) -> Result<Loaded, FileError> {
    load_bytes_with(name, path, bytes, ov, file, &Control::default())
}

/// [`load_bytes`] with progress and cancellation.
pub fn load_bytes_with(
    name: &str,
    path: PathBuf,
    bytes: Vec<u8>,
    ov: &Overrides,
    file: u16,
    ctl: &Control,
) -> Result<Loaded, FileError> {
    let kind = sniff(&bytes).map_err(|m| FileError {
        file: name.to_string(),
        message: m,
    })?;
    let len = bytes.len() as u64;
    let r = match kind {
        Kind::Csv => csv::load_with(name, path, bytes, ov, file, ctl),
        Kind::GeoJson => geojson::load(name, path, bytes, ov, file),
    };
    if ctl.cancelled() {
        return Err(FileError {
            file: name.to_string(),
            message: CANCELLED.into(),
        });
    }
    if kind == Kind::GeoJson {
        ctl.advance(len);
    }
    r
}

/// Reads a whole file in pieces, reporting progress and stopping when cancelled.
fn read_file(p: &Path, ctl: &Control) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(p)?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    // Read straight into the result, 16 MiB at a time, so progress and cancel are timely
    // without a second copy of the file.
    const STEP: usize = 16 << 20;
    let mut out: Vec<u8> = Vec::with_capacity(size as usize + 1);
    let mut len = 0;
    loop {
        if ctl.cancelled() {
            return Err(std::io::Error::other(CANCELLED));
        }
        if out.len() < len + STEP {
            out.resize(
                len + STEP.min((size as usize).saturating_sub(len).max(64 << 10)),
                0,
            );
        }
        let n = match f.read(&mut out[len..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            break;
        }
        len += n;
        ctl.advance(n as u64);
    }
    out.truncate(len);
    Ok(out)
}

/// Expands directories into the supported files inside them (recursively, sorted by path).
pub fn expand(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<FileError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        let name = p.display().to_string();
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let mut found = Vec::new();
                walk(p, &mut found, &mut errors, 0);
                found.sort();
                if found.is_empty() {
                    errors.push(FileError {
                        file: name,
                        message: "directory holds no .csv, .tsv, .geojson or .json files".into(),
                    });
                }
                files.extend(found);
            }
            Ok(m) if m.is_file() => files.push(p.clone()),
            Ok(_) => errors.push(FileError {
                file: name,
                message: "not a regular file".into(),
            }),
            Err(e) => errors.push(FileError {
                file: name,
                message: io_reason(&e),
            }),
        }
    }
    (files, errors)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<FileError>, depth: usize) {
    if depth > 32 {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(FileError {
                file: dir.display().to_string(),
                message: io_reason(&e),
            });
            return;
        }
    };
    for e in entries.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&p, out, errors, depth + 1),
            Ok(t) if t.is_file() && supported(&p) => out.push(p),
            _ => {}
        }
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ if e.to_string() == CANCELLED => CANCELLED.into(),
        std::io::ErrorKind::IsADirectory => "is a directory".into(),
        _ => e.to_string(),
    }
}

/// Loads every file (directories expanded), in order, into one sorted store.
pub fn load_paths(paths: &[PathBuf], ov: &Overrides) -> LoadResult {
    load_paths_with(paths, ov, &Control::default())
}

/// [`load_paths`] with progress and cancellation.
pub fn load_paths_with(paths: &[PathBuf], ov: &Overrides, ctl: &Control) -> LoadResult {
    let t0 = std::time::Instant::now();
    let (files, mut errors) = expand(paths);
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| 2 * m.len())
        .sum();
    ctl.total.store(total.max(1), Ordering::Relaxed);
    let mut builder = Builder::default();
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    let mut skipped = 0;
    for p in files {
        let name = p.display().to_string();
        if sources.len() >= u16::MAX as usize {
            errors.push(FileError {
                file: name,
                message: "too many files (at most 65535)".into(),
            });
            continue;
        }
        if ctl.cancelled() {
            return LoadResult {
                cancelled: true,
                ..Default::default()
            };
        }
        let bytes = match read_file(&p, ctl) {
            Ok(b) => b,
            Err(e) => {
                errors.push(FileError {
                    file: name,
                    message: io_reason(&e),
                });
                continue;
            }
        };
        match load_bytes_with(&name, p, bytes, ov, sources.len() as u16, ctl) {
            Ok(l) => {
                if builder.is_empty() && sources.is_empty() {
                    builder = l.builder;
                } else {
                    builder.append(l.builder);
                }
                sources.push(l.source);
                problems.extend(l.problems);
                skipped += l.skipped;
            }
            Err(e) => errors.push(e),
        }
    }
    if ctl.cancelled() {
        return LoadResult {
            cancelled: true,
            ..Default::default()
        };
    }
    let parse_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let t1 = std::time::Instant::now();
    let store = builder.finish(sources);
    let index_ms = t1.elapsed().as_secs_f64() * 1000.0;
    LoadResult {
        store,
        problems,
        skipped,
        errors,
        parse_ms,
        index_ms,
        cancelled: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big_csv(dir: &Path) -> PathBuf {
        let p = dir.join("big.csv");
        let mut v = Vec::new();
        crate::synth::write_acled_csv(60_000, 3, &mut v).unwrap();
        std::fs::write(&p, v).unwrap();
        p
    }

    #[test]
    fn progress_reaches_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let p = big_csv(dir.path());
        let ctl = Control::default();
        let r = load_paths_with(&[p], &Overrides::default(), &ctl);
        assert_eq!(r.store.len(), 60_000);
        assert!((ctl.fraction() - 1.0).abs() < 1e-6, "{}", ctl.fraction());
    }

    #[test]
    fn cancel_stops_and_loads_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = big_csv(dir.path());
        let ctl = Control::default();
        ctl.cancel.store(true, Ordering::Relaxed);
        let r = load_paths_with(&[p], &Overrides::default(), &ctl);
        assert!(r.cancelled);
        assert!(r.store.is_empty());
    }

    #[test]
    fn unreadable_inputs_name_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let r = load_paths(&[dir.path().to_path_buf()], &Overrides::default());
        assert!(r.errors[0].message.contains("holds no"));
        let r = load_paths(&[dir.path().join("missing.csv")], &Overrides::default());
        assert_eq!(r.errors[0].message, "no such file or directory");
        #[cfg(unix)]
        {
            let link = dir.path().join("dangling.csv");
            std::os::unix::fs::symlink(dir.path().join("nowhere"), &link).unwrap();
            let r = load_paths(&[link], &Overrides::default());
            assert_eq!(r.errors[0].message, "no such file or directory");
        }
    }
}
