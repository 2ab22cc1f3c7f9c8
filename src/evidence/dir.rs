//! The evidence store of a data file: the directory `DATA.evidence/` beside it.
//!
//! ```text
//! incidents.geojson.evidence/
//!   custody.jsonl                 the custody log
//!   objects/ba/ba7816bf…f20015ad  each item's bytes under its SHA-256, read-only
//! ```
//!
//! A copy is written to a file in `objects/` that has no name while it is hashed (Linux; a
//! hidden temporary file elsewhere), then named by its hash (so a copy is there whole or not at
//! all, and a copy killed half-way leaves nothing) and made read-only; bytes already there are
//! not stored again. The log is appended under a lock on it, so writers in several windows and
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
            // A line that is not UTF-8, or ends with a carriage return (line ends converted),
            // is kept as read: the chain then breaks on it.
            out.push(String::from_utf8_lossy(&l).into_owned());
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
        // A copy killed half-way leaves nothing in the store (the file has no name yet).
        let mut tmp = crate::atomic::Unnamed::new_in(&dir, ".incoming-").map_err(self.io(&dir))?;
        let what = format!("a new file in {}", dir.display());
        // Written in blocks of 1 MiB as read: no buffer in between.
        let stored = super::hash::copy_hashing(from, tmp.file(), ("the file", &what), ctl)?;
        let Some(to) = self.object(&stored.sha256) else {
            return Err(self.missing(&stored.sha256));
        };
        if to.is_file() {
            // The same bytes are kept already; the temporary copy goes.
            return Ok(stored);
        }
        let parent = to.parent().unwrap_or(&dir);
        std::fs::create_dir_all(parent).map_err(self.io(parent))?;
        super::keep_read_only(tmp, &to)?;
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
        let mut tmp = crate::atomic::Unnamed::new_in(&dir, ".incoming-").map_err(self.io(&dir))?;
        tmp.file().write_all(token).map_err(self.io(&path))?;
        super::keep_read_only(tmp, &path)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out `left` bytes, listing the store's objects folder on each read.
    struct Watching<'a> {
        left: usize,
        dir: &'a Path,
        seen: Vec<Vec<String>>,
    }

    impl Read for Watching<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let names = std::fs::read_dir(self.dir)
                .map(|d| {
                    d.flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            self.seen.push(names);
            let n = buf.len().min(self.left);
            buf[..n].fill(b'e');
            self.left -= n;
            Ok(n)
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_copy_has_no_name_in_the_store_until_it_is_whole() {
        // What a process killed while copying would leave: nothing.
        let dir = tempfile::tempdir().unwrap();
        let store = DirStore::beside(&dir.path().join("data.geojson"));
        let objects = store.objects();
        let mut from = Watching {
            left: 3 << 20,
            dir: &objects,
            seen: Vec::new(),
        };
        let stored = store.put(&mut from, &Control::default()).unwrap();
        assert!(from.seen.len() > 3);
        assert!(
            from.seen.iter().all(|names| names.is_empty()),
            "{:?}",
            from.seen
        );
        let at = store.object(&stored.sha256).unwrap();
        assert_eq!(std::fs::metadata(&at).unwrap().len(), 3 << 20);
        assert!(std::fs::metadata(&at).unwrap().permissions().readonly());
        let kept: Vec<_> = std::fs::read_dir(&objects).unwrap().flatten().collect();
        assert_eq!(kept.len(), 1, "only the hash's folder");
    }
}
