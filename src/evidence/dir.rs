//! The evidence store of a data file: the directory `DATA.evidence/` beside it.
//!
//! ```text
//! incidents.geojson.evidence/
//!   custody.jsonl                 the custody log
//!   objects/ba/ba7816bf…f20015ad  each item's bytes under its SHA-256, read-only
//! ```
//!
//! A copy is written to a temporary file in `objects/` while it is hashed, then renamed to its
//! hash (so a copy is there whole or not at all) and made read-only; bytes already there are not
//! stored again. The log is appended under a lock on it, so writers in several windows and
//! commands chain their lines one after the other.

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

use super::custody::{self, Entry};
use super::{EvidenceError, EvidenceStore, Stored};
use crate::progress::Control;

/// A directory holding evidence.
#[derive(Debug, Clone)]
pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    /// The store of the data file at `data`: `DATA.evidence/` beside it (made when first used).
    pub fn beside(data: &Path) -> DirStore {
        let mut name = data.file_name().unwrap_or_default().to_os_string();
        name.push(".evidence");
        DirStore {
            root: data.with_file_name(name),
        }
    }

    /// The store's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The custody log.
    pub fn log(&self) -> PathBuf {
        self.root.join("custody.jsonl")
    }

    fn objects(&self) -> PathBuf {
        self.root.join("objects")
    }

    fn object(&self, sha256: &str) -> Option<PathBuf> {
        // Only a hash names a file here: nothing read from a log reaches outside the store.
        let ok = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| self.objects().join(&sha256[..2]).join(sha256))
    }

    fn io(&self, path: &Path) -> impl Fn(std::io::Error) -> EvidenceError + '_ {
        let p = path.to_path_buf();
        move |e| EvidenceError::io(&p, e)
    }
}

impl EvidenceStore for DirStore {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn lines(&self, _ctl: &Control) -> Result<Vec<String>, EvidenceError> {
        let log = self.log();
        let f = match open_plain(&log) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(EvidenceError::io(&log, e)),
        };
        let mut out = Vec::new();
        for l in std::io::BufReader::new(f).split(b'\n') {
            let l = l.map_err(self.io(&log))?;
            // A line that is not UTF-8 is kept as read: the chain then breaks on it.
            let mut s = String::from_utf8_lossy(&l).into_owned();
            if s.ends_with('\r') {
                s.pop();
            }
            out.push(s);
        }
        // A log that ends with its line end has no line after it.
        if out.last().is_some_and(|l| l.is_empty()) {
            out.pop();
        }
        Ok(out)
    }

    fn append(&self, entry: Entry) -> Result<Entry, EvidenceError> {
        std::fs::create_dir_all(&self.root).map_err(self.io(&self.root))?;
        let log = self.log();
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&log)
            .map_err(self.io(&log))?;
        f.lock().map_err(self.io(&log))?;
        let mut text = Vec::new();
        f.read_to_end(&mut text).map_err(self.io(&log))?;
        let body = text.strip_suffix(b"\n").unwrap_or(&text);
        let (count, last) = if body.is_empty() {
            (0, None)
        } else {
            let n = body.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            let start = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            (
                n,
                Some(String::from_utf8_lossy(&body[start..]).into_owned()),
            )
        };
        let (entry, line) = custody::chain(last.as_deref().map(|l| (count, l)), entry);
        let mut bytes = Vec::with_capacity(line.len() + 2);
        if !text.is_empty() && !text.ends_with(b"\n") {
            // A log cut short by a crash: the line starts on its own line.
            bytes.push(b'\n');
        }
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        f.write_all(&bytes).map_err(self.io(&log))?;
        f.sync_data().map_err(self.io(&log))?;
        Ok(entry)
    }

    fn put(&self, from: &mut dyn Read, ctl: &Control) -> Result<Stored, EvidenceError> {
        let dir = self.objects();
        std::fs::create_dir_all(&dir).map_err(self.io(&dir))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".incoming-")
            .tempfile_in(&dir)
            .map_err(self.io(&dir))?;
        let what = tmp.path().display().to_string();
        // Written in blocks of 1 MiB as read: no buffer in between.
        let stored = super::hash::copy_hashing(from, tmp.as_file_mut(), ("the file", &what), ctl)?;
        let Some(to) = self.object(&stored.sha256) else {
            return Err(self.missing(&stored.sha256));
        };
        if to.is_file() {
            // The same bytes are kept already; the temporary copy goes.
            return Ok(stored);
        }
        tmp.as_file().sync_all().map_err(self.io(tmp.path()))?;
        let parent = to.parent().unwrap_or(&dir);
        std::fs::create_dir_all(parent).map_err(self.io(parent))?;
        super::read_only(tmp.path()).map_err(self.io(tmp.path()))?;
        tmp.persist(&to)
            .map_err(|e| EvidenceError::io(&to, e.error))?;
        Ok(stored)
    }

    fn read(
        &self,
        sha256: &str,
        to: &mut (dyn Write + Send),
        ctl: &Control,
    ) -> Result<Stored, EvidenceError> {
        let missing = || self.missing(sha256);
        let path = self.object(sha256).ok_or_else(missing)?;
        let mut f = match open_plain(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(missing()),
            Err(e) => return Err(EvidenceError::io(&path, e)),
        };
        let what = path.display().to_string();
        super::hash::copy_hashing(&mut f, to, (&what, "the copy"), ctl)
    }

    fn stored(&self, _ctl: &Control) -> Result<Vec<String>, EvidenceError> {
        let dir = self.objects();
        let mut out = Vec::new();
        let fans = match std::fs::read_dir(&dir) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(EvidenceError::io(&dir, e)),
        };
        for fan in fans {
            let fan = fan.map_err(self.io(&dir))?;
            if !fan.file_type().map_err(self.io(&dir))?.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(fan.path()).map_err(self.io(&fan.path()))? {
                let f = f.map_err(self.io(&fan.path()))?;
                let name = f.file_name().to_string_lossy().into_owned();
                if self.object(&name).is_some() {
                    out.push(name);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    fn path_of(&self, sha256: &str) -> Option<PathBuf> {
        self.object(sha256).filter(|p| p.is_file())
    }

    fn put_token(&self, name: &str, token: &[u8]) -> Result<(), EvidenceError> {
        let dir = self.root.join("tokens");
        std::fs::create_dir_all(&dir).map_err(self.io(&dir))?;
        let path = self.token_path(name)?;
        if path.is_file() {
            return Ok(());
        }
        let mut tmp = tempfile::Builder::new()
            .prefix(".incoming-")
            .tempfile_in(&dir)
            .map_err(self.io(&dir))?;
        tmp.write_all(token).map_err(self.io(&path))?;
        tmp.as_file().sync_all().map_err(self.io(&path))?;
        super::read_only(tmp.path()).map_err(self.io(&path))?;
        tmp.persist(&path)
            .map_err(|e| EvidenceError::io(&path, e.error))?;
        Ok(())
    }

    fn token(&self, name: &str) -> Result<Option<Vec<u8>>, EvidenceError> {
        let path = self.token_path(name)?;
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(EvidenceError::io(&path, e)),
        }
    }

    fn tokens(&self) -> Result<Vec<String>, EvidenceError> {
        let dir = self.root.join("tokens");
        let rd = match std::fs::read_dir(&dir) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(EvidenceError::io(&dir, e)),
        };
        let mut out = Vec::new();
        for e in rd {
            let e = e.map_err(self.io(&dir))?;
            let n = e.file_name().to_string_lossy().into_owned();
            if let Some(name) = n.strip_suffix(".tsr")
                && super::token_name_ok(name)
            {
                out.push(name.to_string());
            }
        }
        out.sort();
        Ok(out)
    }
}

impl DirStore {
    /// Where the token `name` is kept (only names this program writes).
    fn token_path(&self, name: &str) -> Result<PathBuf, EvidenceError> {
        if !super::token_name_ok(name) {
            return Err(self.missing(name));
        }
        Ok(self.root.join("tokens").join(format!("{name}.tsr")))
    }
}

/// Opens a file of the store for reading, only if it is a plain file: a store is untrusted
/// input, and a named pipe would block the check forever, a link to `/dev/zero` feed it
/// endlessly (both found by a hunt for hostile inputs).
fn open_plain(path: &Path) -> std::io::Result<std::fs::File> {
    if !std::fs::symlink_metadata(path)?.is_file() {
        return Err(std::io::Error::other(
            "not a plain file (a link, a pipe or a device in the evidence store)",
        ));
    }
    std::fs::File::open(path)
}
