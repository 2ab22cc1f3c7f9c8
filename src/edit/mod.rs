//! Recording and correcting incidents: the [`Draft`] the form and the commands fill, checked by
//! the importers' rules and the rules of recording; the byte splices that write it into a file
//! touching nothing else ([`splice`]); the atomic write of a spliced file that refuses a file
//! changed underneath; and the history every edit appends to.
//!
//! The engines ([`crate::source`]) put these together: every write goes through a source.

pub mod draft;
pub mod splice;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use draft::{Draft, FieldProblem, Invalid, Schema};
pub use splice::{Splice, SpliceError};

use crate::store::file::Stamp;

/// How a command names an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Find {
    /// The data's own id (`id`, `event_id_cnty`, `event_id`, `incident_id`), or a table's row
    /// `id`.
    Id(String),
    /// The line its record starts on in its file (a table: the line it was loaded from).
    Line(u32),
}

impl std::fmt::Display for Find {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Find::Id(id) => write!(f, "incident {id}"),
            Find::Line(n) => write!(f, "the incident on line {n}"),
        }
    }
}

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum FileWriteError {
    /// The file changed on disk since it was loaded.
    #[error("{file} changed on disk since it was loaded; reload it (nothing was written)")]
    Changed {
        /// The file.
        file: String,
    },
    /// The operating system refused.
    #[error("cannot write {file}: {error}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        #[source]
        error: std::io::Error,
    },
}

/// What a spliced write did: the file's new stamp, and the line breaks before the splice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spliced {
    /// Size and modification time of the file written.
    pub stamp: Stamp,
    /// `\n` bytes before the splice's start (its line is one more).
    pub lines_before: u64,
}

/// Writes `path` with `splice` applied, atomically (a temporary file renamed over it: killed
/// half-way, the previous file stays whole), when it is still the file of `expected`; the
/// untouched bytes are copied around the changed span, never parsed.
pub fn write_spliced(
    path: &Path,
    name: &str,
    expected: Stamp,
    splice: &Splice,
) -> Result<Spliced, FileWriteError> {
    let io = |error| FileWriteError::Io {
        file: name.to_string(),
        error,
    };
    let mut f = locked(path).map_err(io)?;
    if Stamp::of(&f).map_err(io)? != expected || splice.range.end as u64 > expected.len {
        return Err(FileWriteError::Changed {
            file: name.to_string(),
        });
    }
    let mut out = crate::atomic::AtomicFile::create(path).map_err(io)?;
    // The bytes before the splice, counting their line breaks on the way.
    let mut lines_before = 0u64;
    let mut left = splice.range.start;
    let mut buf = vec![0u8; 1 << 20];
    while left > 0 {
        let n = f.read(&mut buf[..left.min(1 << 20)]).map_err(io)?;
        if n == 0 {
            return Err(FileWriteError::Changed {
                file: name.to_string(),
            });
        }
        lines_before += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        out.write_all(&buf[..n]).map_err(io)?;
        left -= n;
    }
    out.write_all(&splice.bytes).map_err(io)?;
    f.seek(SeekFrom::Start(splice.range.end as u64))
        .map_err(io)?;
    std::io::copy(&mut f, &mut out).map_err(io)?;
    out.commit().map_err(io)?;
    let stamp = Stamp::of(&File::open(path).map_err(io)?).map_err(io)?;
    // The lock on the replaced file is released here: a writer waiting on it finds the path
    // holds another file now, and that its stamp changed.
    drop(f);
    Ok(Spliced {
        stamp,
        lines_before,
    })
}

/// The file at `path`, open and locked for writing against other writers of this program (in
/// this process or another): a writer that waited finds the file it waited on replaced, and
/// takes the new one (whose stamp then tells it someone wrote first).
fn locked(path: &Path) -> std::io::Result<File> {
    loop {
        let f = File::open(path)?;
        f.lock()?;
        if same_file(&f, path)? {
            return Ok(f);
        }
    }
}

/// Whether `path` still names the open file `f`.
#[cfg(unix)]
fn same_file(f: &File, path: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let (a, b) = (f.metadata()?, std::fs::metadata(path)?);
    Ok(a.dev() == b.dev() && a.ino() == b.ino())
}

/// Whether `path` still names the open file `f` (elsewhere: the lock is taken on the path's
/// file, which is not replaced while it is open).
#[cfg(not(unix))]
fn same_file(_f: &File, _path: &Path) -> std::io::Result<bool> {
    Ok(true)
}

/// A 64-bit FNV-1a hash of a record's bytes: a file incident's version (a change of the record
/// changes it).
pub fn record_version(bytes: &[u8]) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    (h >> 1) as i64
}

/// One edit as the history keeps it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HistoryEntry {
    /// When, in UTC (`YYYY-MM-DDTHH:MM:SSZ`).
    pub at: String,
    /// Who: the editor's name (and, for a table, the database role).
    pub editor: String,
    /// `insert`, `update` or `delete`.
    pub op: String,
    /// The incident: the data's own id, else its key.
    pub incident: String,
    /// Before the edit (fields and position), none for an insert.
    pub before: Option<Value>,
    /// After the edit, none for a delete.
    pub after: Option<Value>,
}

/// A draft as the history keeps it: its fields, and its position as `[lon, lat]`.
pub fn history_value(d: &Draft) -> Value {
    serde_json::json!({"properties": d.properties(), "position": [d.lon, d.lat]})
}

/// The draft a history value holds.
pub fn draft_of_history(v: &Value) -> Option<Draft> {
    let props = v.get("properties")?.as_object()?;
    // No position (a row placed by the edit) is written as nulls.
    let pos = v.get("position").and_then(|p| p.as_array());
    let at = |k: usize| {
        pos.and_then(|p| p.get(k))
            .and_then(|x| x.as_f64())
            .unwrap_or(f64::NAN)
    };
    Some(Draft {
        fields: props.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        lon: at(0),
        lat: at(1),
    })
}

/// One field an edit changed: its name (`position` for the position), before and after, as
/// text ("" when absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// The field.
    pub field: String,
    /// Before.
    pub before: String,
    /// After.
    pub after: String,
}

impl HistoryEntry {
    /// What the edit changed, field by field (every field of what was inserted or deleted).
    pub fn changes(&self) -> Vec<FieldChange> {
        let empty = Draft {
            fields: Vec::new(),
            lon: f64::NAN,
            lat: f64::NAN,
        };
        let of = |v: &Option<Value>| v.as_ref().and_then(draft_of_history);
        let (b, a) = (of(&self.before), of(&self.after));
        let (b, a) = (b.as_ref().unwrap_or(&empty), a.as_ref().unwrap_or(&empty));
        let mut names: Vec<&str> = b.fields.iter().map(|(n, _)| n.as_str()).collect();
        for (n, _) in &a.fields {
            if !names.contains(&n.as_str()) {
                names.push(n);
            }
        }
        let pos = |d: &Draft| {
            if d.lon.is_finite() && d.lat.is_finite() {
                format!(
                    "{}, {}",
                    draft::format_degrees(d.lat),
                    draft::format_degrees(d.lon)
                )
            } else {
                String::new()
            }
        };
        let mut out: Vec<FieldChange> = names
            .into_iter()
            .map(|n| FieldChange {
                field: n.to_string(),
                before: b.get(n).map(value_text).unwrap_or_default(),
                after: a.get(n).map(value_text).unwrap_or_default(),
            })
            .collect();
        out.push(FieldChange {
            field: "position".into(),
            before: pos(b),
            after: pos(a),
        });
        out.retain(|c| c.before != c.after);
        out
    }
}

/// A value as the history shows it: text as is, anything else as JSON, null as nothing.
fn value_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Now, in UTC, as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (y, m, d) = crate::date::civil_from_days(secs.div_euclid(86_400) as i32);
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// The name edits are recorded under: the settings' editor name, else the OS user.
pub fn editor_name(configured: &str) -> String {
    let c = configured.trim();
    if !c.is_empty() {
        return c.to_string();
    }
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .or_else(|| {
            // No login name in the environment: the home directory's name is the user's.
            dirs::home_dir().and_then(|h| Some(h.file_name()?.to_string_lossy().into_owned()))
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The history file of a data file: `FILE.history.jsonl` beside it.
pub fn history_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".history.jsonl");
    file.with_file_name(name)
}

/// Whether the history of `file` can take an entry: absent (it will be made) or a regular file;
/// a folder, a pipe or a device there is refused before anything is written.
pub fn check_history(file: &Path) -> std::io::Result<()> {
    let path = history_path(file);
    let why = match (std::fs::symlink_metadata(&path), std::fs::metadata(&path)) {
        (_, Ok(m)) if !m.is_file() => "is not a regular file",
        (Ok(l), Err(_)) if l.file_type().is_symlink() => "is a link to nothing",
        _ => return Ok(()),
    };
    Err(std::io::Error::other(format!("{} {why}", path.display())))
}

/// Appends one entry (one JSON line) to the history of `file`, flushed to disk.
pub fn append_history(file: &Path, e: &HistoryEntry) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(history_path(file))?;
    let mut line = serde_json::to_vec(e).map_err(std::io::Error::other)?;
    line.push(b'\n');
    f.write_all(&line)?;
    f.sync_data()
}

/// The history of `file`, oldest first (lines that cannot be read are left out: see
/// [`read_history_checked`]).
pub fn read_history(file: &Path) -> std::io::Result<Vec<HistoryEntry>> {
    read_history_checked(file).map(|(entries, _)| entries)
}

/// Lines of a history file that are no entry: (1-based line, why).
pub type BadLines = Vec<(usize, String)>;

/// The history of `file`, oldest first, and the lines of it that are no entry: a damaged or
/// hand-edited log is named, not read around in silence.
pub fn read_history_checked(file: &Path) -> std::io::Result<(Vec<HistoryEntry>, BadLines)> {
    let bytes = match std::fs::read(history_path(file)) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
        Err(e) => return Err(e),
    };
    let (mut entries, mut bad) = (Vec::new(), Vec::new());
    for (k, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match std::str::from_utf8(line)
            .map_err(|_| "not UTF-8 text".to_string())
            .and_then(|t| serde_json::from_str(t).map_err(|e| format!("not a history entry ({e})")))
        {
            Ok(e) => entries.push(e),
            Err(why) => bad.push((k + 1, why)),
        }
    }
    Ok((entries, bad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spliced_write_copies_around_the_span_and_refuses_a_changed_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        std::fs::write(&p, b"id,x\r\n1,a\r\n2,b\r\n").unwrap();
        let stamp = Stamp::of(&File::open(&p).unwrap()).unwrap();
        let s = Splice {
            range: 8..9,
            bytes: b"\"a,b\"".to_vec(),
        };
        let new = write_spliced(&p, "a.csv", stamp, &s).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"id,x\r\n1,\"a,b\"\r\n2,b\r\n");
        assert_eq!(new.lines_before, 1);
        let new = new.stamp;
        // The old stamp no longer holds: refused, the file as it was.
        assert!(matches!(
            write_spliced(&p, "a.csv", stamp, &s),
            Err(FileWriteError::Changed { .. })
        ));
        assert_ne!(new, stamp);
        assert_eq!(std::fs::read(&p).unwrap(), b"id,x\r\n1,\"a,b\"\r\n2,b\r\n");
    }

    #[test]
    fn history_is_appended_one_line_each() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.geojson");
        let e = HistoryEntry {
            at: utc_now(),
            editor: "ana".into(),
            op: "insert".into(),
            incident: "IQ-1".into(),
            before: None,
            after: Some(serde_json::json!({"a": 1})),
        };
        append_history(&p, &e).unwrap();
        append_history(&p, &e).unwrap();
        assert_eq!(read_history(&p).unwrap(), vec![e.clone(), e]);
        assert!(dir.path().join("d.geojson.history.jsonl").is_file());
        assert_eq!(utc_now().len(), 20);
        assert_eq!(record_version(b"a"), record_version(b"a"));
        assert_ne!(record_version(b"a"), record_version(b"b"));
    }
}
