//! Evidence kept with incidents, as the Berkeley Protocol asks of open-source investigators: each
//! attached file copied untouched into a store beside the data (content-addressed by its SHA-256,
//! the same bytes stored once, read-only), and every action on it — added, opened, exported,
//! verified, timestamped, detached — appended to a custody log whose lines each carry the SHA-256
//! of the line before, so an edited or deleted past line breaks the chain there.
//!
//! The log is the one record of what is attached to what: an item's name, media type, who added
//! it, when and from where are in its `added` line, so they are covered by the chain too. A store
//! ([`EvidenceStore`]) only keeps bytes and lines; what they mean is worked out here, the same
//! for every store (a directory beside a file, a table's `NAME_evidence`).

pub mod bag;
pub mod custody;
pub mod dir;
pub mod hash;
pub mod sniff;
pub mod tsa;
pub mod verify;

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::progress::Control;

pub use custody::{Action, Entry, ItemMeta};

/// Why evidence could not be kept, read or checked.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// A file or the store could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file or directory.
        path: String,
        /// What failed.
        #[source]
        error: std::io::Error,
    },
    /// The engine keeping the store failed (a database).
    #[error(transparent)]
    Engine(Box<dyn std::error::Error + Send + Sync>),
    /// A line of the custody log is not one this program wrote.
    #[error("{log}, line {line}: {reason}")]
    BadLine {
        /// The log.
        log: String,
        /// Its line, from 1.
        line: usize,
        /// Why.
        reason: String,
    },
    /// The same bytes are already attached to the incident.
    #[error("{name} is already attached to {incident} (as {as_name}, sha256 {sha256})")]
    Already {
        /// The file given.
        name: String,
        /// The incident.
        incident: String,
        /// The name it was attached under.
        as_name: String,
        /// Its hash.
        sha256: String,
    },
    /// No item with that hash is attached to the incident.
    #[error("no evidence {sha256} is attached to {incident}")]
    NotAttached {
        /// The incident.
        incident: String,
        /// The hash (or its start) asked for.
        sha256: String,
    },
    /// A stored copy is not there.
    #[error("the stored copy of {sha256} is missing from {store}")]
    Missing {
        /// The store.
        store: String,
        /// The hash.
        sha256: String,
    },
    /// A stored copy no longer hashes as its `added` line recorded.
    #[error(
        "the stored copy of {name} changed (sha256 {sha256} recorded, {now} now): run incident-map verify"
    )]
    Changed {
        /// Its name.
        name: String,
        /// The hash recorded.
        sha256: String,
        /// The hash now.
        now: String,
    },
    /// A stored item may not be opened (an executable).
    #[error("{name} is {media_type}: programs are never run from the evidence store")]
    Executable {
        /// Its name.
        name: String,
        /// Its media type.
        media_type: String,
    },
    /// The work was cancelled.
    #[error("cancelled")]
    Cancelled,
}

impl EvidenceError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, error: std::io::Error) -> EvidenceError {
        EvidenceError::Io {
            path: path.display().to_string(),
            error,
        }
    }
}

/// Bytes put into a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Their SHA-256, lower-case hex.
    pub sha256: String,
    /// Their size in bytes.
    pub size: u64,
    /// Their first bytes (up to 8 KiB), for sniffing the media type.
    pub head: Vec<u8>,
}

/// Where evidence is kept: the bytes of each item under its hash, and the custody log.
/// Implemented by a directory beside a data file ([`dir::DirStore`]) and by a table's
/// `NAME_evidence` and `NAME_custody` (in `db`).
pub trait EvidenceStore: Send + Sync {
    /// Where it is, in words (a directory, a table).
    fn location(&self) -> String;
    /// The error for a stored copy (or token) `sha256` that is not there.
    fn missing(&self, sha256: &str) -> EvidenceError {
        EvidenceError::Missing {
            store: self.location(),
            sha256: sha256.to_string(),
        }
    }
    /// The custody log's lines exactly as stored, oldest first (none before anything is kept).
    fn lines(&self, ctl: &Control) -> Result<Vec<String>, EvidenceError>;
    /// Appends `entry` to the custody log, chained to the line that is last at the time (found
    /// under a lock, so two writers chain one after the other); returns the line as written.
    fn append(&self, entry: Entry) -> Result<Entry, EvidenceError>;
    /// Streams `from` into the store, hashing as it goes (progress in bytes on `ctl`, which may
    /// cancel); bytes already there are not stored twice.
    fn put(&self, from: &mut dyn Read, ctl: &Control) -> Result<Stored, EvidenceError>;
    /// Streams the stored copy of `sha256` into `to`, hashing what it reads (none:
    /// [`EvidenceError::Missing`]).
    fn read(
        &self,
        sha256: &str,
        to: &mut (dyn std::io::Write + Send),
        ctl: &Control,
    ) -> Result<Stored, EvidenceError>;
    /// The hashes of every stored copy.
    fn stored(&self, ctl: &Control) -> Result<Vec<String>, EvidenceError>;
    /// Where the stored copy of `sha256` is on disk, when it is a file (Show in folder).
    fn path_of(&self, sha256: &str) -> Option<PathBuf>;
    /// Keeps a timestamp token under `name` (an item's hash, or `head-HASH` for the log's head).
    fn put_token(&self, name: &str, token: &[u8]) -> Result<(), EvidenceError>;
    /// The token kept under `name`.
    fn token(&self, name: &str) -> Result<Option<Vec<u8>>, EvidenceError>;
    /// The names of the tokens kept.
    fn tokens(&self) -> Result<Vec<String>, EvidenceError>;
}

/// Whether a token name is one this program writes (a hash, or `head-` and a hash).
pub fn token_name_ok(name: &str) -> bool {
    let h = name.strip_prefix("head-").unwrap_or(name);
    h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Timestamps, at the TSA of `url`, every item of `store` that has no token yet, then the
/// custody log's head; each token kept and logged (`timestamped`). A TSA that cannot be reached
/// or refuses is not an error: what was not timestamped is said, and can be timestamped later.
pub fn timestamp_pending(
    store: &dyn EvidenceStore,
    url: &str,
    by: &str,
    ctl: &Control,
) -> Result<Vec<String>, EvidenceError> {
    let have: std::collections::HashSet<String> = store.tokens()?.into_iter().collect();
    let lines = store.lines(ctl)?;
    let mut said = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for a in attached(&store.location(), &lines)? {
        let sha = a.item.sha256.clone();
        if have.contains(&sha) || !seen.insert(sha.clone()) {
            continue;
        }
        match tsa::fetch(url, &sha) {
            Ok(token) => {
                let t = tsa::read(&token).map_err(engine_error)?;
                store.put_token(&sha, &token)?;
                store.append(
                    Entry::new(Action::Timestamped, by, &a.incident)
                        .with_sha(&sha)
                        .with_detail(&format!("{} by {url}", t.time)),
                )?;
                said.push(format!("timestamped {} at {}", a.item.name, t.time));
            }
            Err(e) => {
                said.push(format!("warning: {} was not timestamped: {e}", a.item.name));
                return Ok(said);
            }
        }
    }
    // The log's head: what the log says up to now, including the lines just written.
    let lines = store.lines(ctl)?;
    if let Some(head) = custody::head(&lines)
        && !have.contains(&format!("head-{head}"))
    {
        match tsa::fetch(url, &head) {
            Ok(token) => {
                let t = tsa::read(&token).map_err(engine_error)?;
                store.put_token(&format!("head-{head}"), &token)?;
                store.append(
                    Entry::new(Action::Timestamped, by, "")
                        .with_sha(&head)
                        .with_detail(&format!(
                            "custody log up to line {}: {} by {url}",
                            lines.len(),
                            t.time
                        )),
                )?;
                said.push(format!(
                    "timestamped the custody log up to line {} at {}",
                    lines.len(),
                    t.time
                ));
            }
            Err(e) => said.push(format!("warning: the custody log was not timestamped: {e}")),
        }
    }
    Ok(said)
}

fn engine_error(e: tsa::TsaError) -> EvidenceError {
    EvidenceError::Engine(Box::new(e))
}

/// An item attached to an incident, as its custody log tells it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attached {
    /// The incident it is evidence for.
    pub incident: String,
    /// What was attached.
    #[serde(flatten)]
    pub item: ItemMeta,
    /// When it was added (UTC).
    pub added: String,
    /// Who added it.
    pub by: String,
    /// The custody line that added it (from 1).
    pub line: u64,
}

/// What is given with a file to attach.
#[derive(Debug, Clone, Default)]
pub struct Attach {
    /// The incident.
    pub incident: String,
    /// Who attaches it.
    pub by: String,
    /// The URL it was captured from.
    pub captured_from: String,
    /// A note.
    pub note: String,
}

/// Attaches the file at `path` to an incident: streams it into `store` (the original is only
/// read), sniffs its media type from its bytes and appends its `added` custody line.
pub fn attach(
    store: &dyn EvidenceStore,
    path: &Path,
    how: &Attach,
    ctl: &Control,
) -> Result<Attached, EvidenceError> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut f = std::fs::File::open(path).map_err(|e| EvidenceError::io(path, e))?;
    let size = f.metadata().map_err(|e| EvidenceError::io(path, e))?.len();
    ctl.total
        .fetch_add(size, std::sync::atomic::Ordering::Relaxed);
    let stored = store.put(&mut f, ctl)?;
    let lines = store.lines(ctl)?;
    if let Some(a) = attached(&store.location(), &lines)?
        .into_iter()
        .find(|a| a.incident == how.incident && a.item.sha256 == stored.sha256)
    {
        return Err(EvidenceError::Already {
            name,
            incident: how.incident.clone(),
            as_name: a.item.name,
            sha256: stored.sha256,
        });
    }
    let item = ItemMeta {
        sha256: stored.sha256.clone(),
        size: stored.size,
        media_type: sniff::media_type(&stored.head).to_string(),
        name,
        captured_from: how.captured_from.trim().to_string(),
        note: how.note.trim().to_string(),
    };
    let e = store.append(Entry::new(Action::Added, &how.by, &how.incident).with_item(item))?;
    Ok(Attached {
        incident: e.incident.clone(),
        item: e.item.clone().unwrap_or_default(),
        added: e.time.clone(),
        by: e.by.clone(),
        line: e.seq,
    })
}

/// The items attached now (added and not detached since), in the order they were added.
pub fn attached(log: &str, lines: &[String]) -> Result<Vec<Attached>, EvidenceError> {
    let mut out: Vec<Attached> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let e = custody::parse(log, i + 1, l)?;
        match e.action {
            Action::Added => {
                if let Some(item) = e.item {
                    out.push(Attached {
                        incident: e.incident,
                        item,
                        added: e.time,
                        by: e.by,
                        line: e.seq,
                    });
                }
            }
            Action::Detached => {
                out.retain(|a| !(a.incident == e.incident && a.item.sha256 == e.sha256));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The items attached to `incident` now.
pub fn attached_to(
    store: &dyn EvidenceStore,
    incident: &str,
    ctl: &Control,
) -> Result<Vec<Attached>, EvidenceError> {
    let lines = store.lines(ctl)?;
    Ok(attached(&store.location(), &lines)?
        .into_iter()
        .filter(|a| a.incident == incident)
        .collect())
}

/// The item attached to `incident` whose hash is or starts with `sha256` (at least 8 digits).
pub fn find(
    store: &dyn EvidenceStore,
    incident: &str,
    sha256: &str,
    ctl: &Control,
) -> Result<Attached, EvidenceError> {
    let want = sha256.trim().to_ascii_lowercase();
    let mut hits: Vec<Attached> = attached_to(store, incident, ctl)?
        .into_iter()
        .filter(|a| want.len() >= 8 && a.item.sha256.starts_with(&want))
        .collect();
    match hits.len() {
        1 => Ok(hits.remove(0)),
        _ => Err(EvidenceError::NotAttached {
            incident: incident.to_string(),
            sha256: want,
        }),
    }
}

/// Detaches an item from its incident: the stored copy is kept, and the custody log says who
/// detached it, when and why.
pub fn detach(
    store: &dyn EvidenceStore,
    a: &Attached,
    by: &str,
    reason: &str,
) -> Result<Entry, EvidenceError> {
    store.append(
        Entry::new(Action::Detached, by, &a.incident)
            .with_sha(&a.item.sha256)
            .with_detail(reason.trim()),
    )
}

/// Media types that are programs or scripts: never handed to the system to open.
pub fn is_executable(media_type: &str, name: &str) -> bool {
    const TYPES: &[&str] = &[
        "application/x-executable",
        "application/x-elf",
        "application/x-sharedlib",
        "application/x-msdownload",
        "application/vnd.microsoft.portable-executable",
        "application/x-mach-binary",
        "application/x-sh",
        "application/x-shellscript",
        "text/x-shellscript",
        "application/java-archive",
        "application/vnd.android.package-archive",
        "application/x-msi",
    ];
    const NAMES: &[&str] = &[
        "exe", "com", "bat", "cmd", "ps1", "sh", "bash", "desktop", "app", "jar", "msi", "apk",
        "scr", "vbs", "js", "py", "pl", "run", "bin", "appimage", "lnk",
    ];
    let ext = Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    TYPES.contains(&media_type) || NAMES.contains(&ext.as_str())
}

/// A read-only copy of an item in a private temporary folder, under its original name (a
/// viewer shows that name), to hand to the system's viewer: the store's own copy is never
/// given out. Logged as `opened`.
pub fn copy_to_open(
    store: &dyn EvidenceStore,
    a: &Attached,
    by: &str,
    ctl: &Control,
) -> Result<PathBuf, EvidenceError> {
    if is_executable(&a.item.media_type, &a.item.name) {
        return Err(EvidenceError::Executable {
            name: a.item.name.clone(),
            media_type: a.item.media_type.clone(),
        });
    }
    let dir = std::env::temp_dir()
        .join("incident-map-evidence")
        .join(&a.item.sha256);
    std::fs::create_dir_all(&dir).map_err(|e| EvidenceError::io(&dir, e))?;
    // Only the file name: a stored name never reaches outside the folder.
    let safe = Path::new(&a.item.name).file_name().map_or_else(
        || a.item.sha256.clone(),
        |n| n.to_string_lossy().into_owned(),
    );
    let path = dir.join(safe);
    if !path.is_file() {
        let mut tmp = crate::atomic::Unnamed::new_in(&dir, ".open-")
            .map_err(|e| EvidenceError::io(&dir, e))?;
        store.read(&a.item.sha256, tmp.file(), ctl)?;
        keep_read_only(tmp, &path)?;
    }
    store.append(Entry::new(Action::Opened, by, &a.incident).with_sha(&a.item.sha256))?;
    Ok(path)
}

/// Flushes `tmp` to disk, makes it read-only for everyone (no write, no execute) and puts it
/// at `to`: a copy killed half-way leaves nothing (the file has no name until then).
pub fn keep_read_only(mut tmp: crate::atomic::Unnamed, to: &Path) -> Result<(), EvidenceError> {
    let io = |e| EvidenceError::io(to, e);
    let f = tmp.file();
    f.sync_all().map_err(io)?;
    let mut p = f.metadata().map_err(io)?.permissions();
    #[cfg(unix)]
    std::os::unix::fs::PermissionsExt::set_mode(&mut p, 0o444);
    #[cfg(not(unix))]
    p.set_readonly(true);
    f.set_permissions(p).map_err(io)?;
    tmp.persist(to).map_err(io)
}
