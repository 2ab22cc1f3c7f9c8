//! Opening a BagIt bag (RFC 8493) as a source: the bag is checked whole before anything in it is
//! read — every file the SHA-256 manifest names is there and hashes as listed, every payload
//! file is listed, the tag manifest holds, the Payload-Oxum adds up — and one that fails is
//! refused, naming the file. Bags are untrusted: a path with `..`, an absolute path, a symlink, a
//! device or anything but plain files and directories is refused; manifests are read with
//! bounds (lines, files, line length) so a hostile bag stays bounded in memory and time.

use std::collections::HashMap;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Most files a bag may hold.
pub const MAX_FILES: usize = 200_000;
/// Longest manifest line read.
const MAX_LINE: usize = 8192;

/// Why a bag is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BagError {
    /// `bagit.txt` is missing or does not declare a BagIt version.
    #[error("not a BagIt bag: bagit.txt is missing or declares no BagIt-Version")]
    NotABag,
    /// A BagIt version this program does not read.
    #[error("bagit.txt declares BagIt-Version {0}; this program reads versions 0.9x and 1.x")]
    Version(String),
    /// No SHA-256 manifest (this program checks SHA-256).
    #[error("the bag has no manifest-sha256.txt")]
    NoManifest,
    /// A path in the bag or a manifest that could reach outside it, or is not a plain file.
    #[error("{path}: {why}")]
    Unsafe {
        /// The path.
        path: String,
        /// Why it is refused.
        why: String,
    },
    /// A manifest line that is not `HASH  PATH`.
    #[error("{manifest}, line {line}: {why}")]
    BadLine {
        /// The manifest.
        manifest: String,
        /// Its line, from 1.
        line: usize,
        /// Why.
        why: String,
    },
    /// A file a manifest names is not there.
    #[error("{manifest} names {path}, which is not in the bag")]
    Missing {
        /// The manifest.
        manifest: String,
        /// The file.
        path: String,
    },
    /// A file does not hash as its manifest says.
    #[error("{path} has changed: its SHA-256 is {now}, {manifest} says {listed}")]
    Changed {
        /// The file.
        path: String,
        /// The manifest.
        manifest: String,
        /// What the manifest lists.
        listed: String,
        /// What it hashes to.
        now: String,
    },
    /// A payload file no manifest line names.
    #[error("{path} is in the bag but not in manifest-sha256.txt")]
    Unlisted {
        /// The file.
        path: String,
    },
    /// The Payload-Oxum of bag-info.txt does not add up.
    #[error("bag-info.txt's Payload-Oxum is {listed}; the payload is {found}")]
    Oxum {
        /// As listed (`bytes.files`).
        listed: String,
        /// As found.
        found: String,
    },
    /// More files than a bag may hold here.
    #[error("more than {MAX_FILES} files")]
    TooMany,
    /// A file could not be read.
    #[error("{path}: {why}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
}

/// The words for an archive entry that would unpack to more than `limit` bytes (a zip bomb, or
/// not data anyone made for this).
pub fn too_big(entry: &str, size: u64, limit: u64) -> String {
    format!(
        "{entry} in the archive unpacks to {size} bytes, more than the {limit} read from an archive: refused before unpacking (a zip bomb?)"
    )
}

/// Whether the zip file at `path` holds a bag (a `bagit.txt` at its top or one folder down);
/// only the archive's directory is read.
pub fn is_zipped_bag(path: &Path) -> bool {
    let zip = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    zip && std::fs::File::open(path)
        .ok()
        .and_then(|f| zip::ZipArchive::new(f).ok())
        .is_some_and(|z| {
            z.file_names()
                .any(|n| n == "bagit.txt" || n.split('/').count() == 2 && n.ends_with("/bagit.txt"))
        })
}

/// Most bytes a zipped bag may unpack to.
pub const MAX_UNZIPPED: u64 = 16 << 30;
/// Most bytes one entry of a zipped bag may unpack to.
const MAX_ENTRY: u64 = 4 << 30;

/// Unpacks a zipped bag into `cache` (once per archive: the folder is named by the archive's
/// SHA-256) and gives the bag's folder, to be checked like any bag. Entries are untrusted: a
/// name reaching outside, a symlink, more than [`MAX_FILES`] entries, an entry said to unpack to
/// more than 4 GiB or all of them to more than 16 GiB are refused before anything is unpacked.
pub fn unzip(path: &Path, cache: &Path) -> Result<PathBuf, BagError> {
    let name = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|e| io(&name, &e))?;
    let mut h = Sha256::new();
    std::io::copy(&mut std::io::BufReader::new(f), &mut HashWriter(&mut h))
        .map_err(|e| io(&name, &e))?;
    let key: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let dest = cache.join(&key);
    let f = std::fs::File::open(path).map_err(|e| io(&name, &e))?;
    let mut z = zip::ZipArchive::new(f).map_err(|e| io(&name, &std::io::Error::other(e)))?;
    if z.len() > MAX_FILES {
        return Err(BagError::TooMany);
    }
    let mut total = 0u64;
    let mut top = None;
    for i in 0..z.len() {
        let e = z
            .by_index_raw(i)
            .map_err(|e| io(&name, &std::io::Error::other(e)))?;
        let raw = e.name().to_string();
        let Some(rel) = e
            .enclosed_name()
            .filter(|_| safe(raw.trim_end_matches('/')))
        else {
            return Err(unsafe_path(&raw, "reaches outside the bag"));
        };
        if e.is_symlink() {
            return Err(unsafe_path(
                &raw,
                "a symbolic link (refused: it may point outside the bag)",
            ));
        }
        if e.size() > MAX_ENTRY {
            return Err(unsafe_path(
                &raw,
                "unpacks to more than 4 GiB (a zip bomb?)",
            ));
        }
        total += e.size();
        if total > MAX_UNZIPPED {
            return Err(unsafe_path(
                &name,
                "unpacks to more than 16 GiB (a zip bomb?)",
            ));
        }
        if rel.file_name().is_some_and(|n| n == "bagit.txt") && rel.components().count() <= 2 {
            top = Some(rel.parent().map(Path::to_path_buf).unwrap_or_default());
        }
    }
    let top = top.ok_or(BagError::NotABag)?;
    if !dest.is_dir() {
        std::fs::create_dir_all(cache).map_err(|e| io(&cache.display().to_string(), &e))?;
        let tmp = tempfile::Builder::new()
            .prefix(".unzipping-")
            .tempdir_in(cache)
            .map_err(|e| io(&cache.display().to_string(), &e))?;
        for i in 0..z.len() {
            let mut e = z
                .by_index(i)
                .map_err(|e| io(&name, &std::io::Error::other(e)))?;
            let Some(rel) = e.enclosed_name() else {
                continue;
            };
            let out = tmp.path().join(&rel);
            if e.is_dir() {
                std::fs::create_dir_all(&out).map_err(|er| io(e.name(), &er))?;
                continue;
            }
            if let Some(p) = out.parent() {
                std::fs::create_dir_all(p).map_err(|er| io(e.name(), &er))?;
            }
            let mut w = std::fs::File::create(&out).map_err(|er| io(e.name(), &er))?;
            let limit = e.size();
            let n = std::io::copy(&mut (&mut e).take(limit), &mut w)
                .map_err(|er| io(&rel.display().to_string(), &er))?;
            if n != limit {
                return Err(io(
                    &rel.display().to_string(),
                    &std::io::Error::other("shorter than the archive says"),
                ));
            }
        }
        let kept = tmp.keep();
        if std::fs::rename(&kept, &dest).is_err() && !dest.is_dir() {
            return Err(io(
                &dest.display().to_string(),
                &std::io::Error::other("cannot be put in place"),
            ));
        }
    }
    Ok(dest.join(top))
}

/// Feeds a hasher.
struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.update(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether `dir` is a bag: it holds `bagit.txt`, or a manifest beside a `data/` folder (a bag
/// that lost its declaration is refused as one, not read as a plain folder unchecked).
pub fn is_bag(dir: &Path) -> bool {
    dir.join("bagit.txt").is_file()
        || (dir.join("manifest-sha256.txt").is_file() && dir.join("data").is_dir())
}

/// Checks the bag at `dir` and gives its data files (under `data/`, sorted).
pub fn check(dir: &Path) -> Result<Vec<PathBuf>, BagError> {
    let bagit = read_small(&dir.join("bagit.txt"), "bagit.txt")?;
    let Some(version) = bagit
        .lines()
        .find_map(|l| l.strip_prefix("BagIt-Version:"))
        .map(str::trim)
    else {
        return Err(BagError::NotABag);
    };
    if !(version.starts_with("0.9") || version.starts_with("1.")) {
        return Err(BagError::Version(version.to_string()));
    }
    let files = walk(dir)?;
    let manifest = "manifest-sha256.txt";
    if !files.contains_key(manifest) {
        return Err(BagError::NoManifest);
    }
    let listed = read_manifest(dir, manifest)?;
    for (path, sha) in &listed {
        if !path.starts_with("data/") {
            return Err(unsafe_path(
                path,
                "a payload manifest may name only files under data/",
            ));
        }
        check_file(dir, &files, manifest, path, sha)?;
    }
    let mut payload: Vec<&String> = files.keys().filter(|p| p.starts_with("data/")).collect();
    payload.sort();
    if let Some(p) = payload.iter().find(|p| !listed.contains_key(**p)) {
        return Err(BagError::Unlisted { path: (*p).clone() });
    }
    let tags = "tagmanifest-sha256.txt";
    if files.contains_key(tags) {
        for (path, sha) in &read_manifest(dir, tags)? {
            if path.starts_with("data/") {
                return Err(unsafe_path(path, "a tag manifest names only tag files"));
            }
            check_file(dir, &files, tags, path, sha)?;
        }
    }
    if files.contains_key("bag-info.txt") {
        check_oxum(dir, &payload, &files)?;
    }
    Ok(payload.iter().map(|p| dir.join(p)).collect())
}

fn unsafe_path(path: &str, why: &str) -> BagError {
    BagError::Unsafe {
        path: path.to_string(),
        why: why.to_string(),
    }
}

/// Every plain file of the bag by its path in the bag, with its size; anything else refused.
fn walk(dir: &Path) -> Result<HashMap<String, u64>, BagError> {
    let mut out = HashMap::new();
    let mut stack = vec![(dir.to_path_buf(), String::new(), 0usize)];
    while let Some((d, rel, depth)) = stack.pop() {
        if depth > 64 {
            return Err(unsafe_path(&rel, "directories nested too deep"));
        }
        let entries = std::fs::read_dir(&d).map_err(|e| io(&rel, &e))?;
        for e in entries {
            let e = e.map_err(|e| io(&rel, &e))?;
            let name = e.file_name().to_string_lossy().into_owned();
            let path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            // Not followed: a symlink is what it is.
            let t = std::fs::symlink_metadata(e.path()).map_err(|er| io(&path, &er))?;
            if t.file_type().is_symlink() {
                return Err(unsafe_path(
                    &path,
                    "a symbolic link (refused: it may point outside the bag)",
                ));
            } else if t.is_dir() {
                stack.push((e.path(), path, depth + 1));
            } else if t.is_file() {
                if out.len() >= MAX_FILES {
                    return Err(BagError::TooMany);
                }
                out.insert(path, t.len());
            } else {
                return Err(unsafe_path(
                    &path,
                    "not a plain file (a device, a pipe or a socket)",
                ));
            }
        }
    }
    Ok(out)
}

fn io(path: &str, e: &std::io::Error) -> BagError {
    BagError::Io {
        path: path.to_string(),
        why: e.to_string(),
    }
}

/// A small text file of the bag (at most 1 MiB read).
fn read_small(p: &Path, name: &str) -> Result<String, BagError> {
    let f = std::fs::File::open(p).map_err(|_| BagError::NotABag)?;
    let mut s = String::new();
    f.take(1 << 20)
        .read_to_string(&mut s)
        .map_err(|e| io(name, &e))?;
    Ok(s)
}

/// A manifest's lines: path → hash (lower case). Paths are checked to stay inside the bag.
pub fn read_manifest(dir: &Path, name: &str) -> Result<HashMap<String, String>, BagError> {
    let f = std::fs::File::open(dir.join(name)).map_err(|e| io(name, &e))?;
    parse_manifest(std::io::BufReader::new(f), name)
}

/// [`read_manifest`] of any reader (the fuzz target's entry).
pub fn parse_manifest(r: impl BufRead, name: &str) -> Result<HashMap<String, String>, BagError> {
    let mut out = HashMap::new();
    let bad = |line: usize, why: &str| BagError::BadLine {
        manifest: name.to_string(),
        line,
        why: why.to_string(),
    };
    for (i, l) in r
        .take(MAX_FILES as u64 * MAX_LINE as u64)
        .split(b'\n')
        .enumerate()
    {
        let n = i + 1;
        if n > MAX_FILES {
            return Err(BagError::TooMany);
        }
        let l = l.map_err(|e| io(name, &e))?;
        if l.len() > MAX_LINE {
            return Err(bad(n, "line too long"));
        }
        let l = String::from_utf8(l).map_err(|_| bad(n, "not UTF-8"))?;
        let l = l.trim_end_matches('\r');
        if l.trim().is_empty() {
            continue;
        }
        let Some((sha, path)) = l.split_once(|c: char| c.is_ascii_whitespace()) else {
            return Err(bad(n, "not HASH PATH"));
        };
        let sha = sha.to_ascii_lowercase();
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(n, "not a SHA-256"));
        }
        let path = decode_path(path.trim_start());
        if !safe(&path) {
            return Err(unsafe_path(
                &path,
                "reaches outside the bag (.., an absolute path or an empty part)",
            ));
        }
        out.insert(path, sha);
    }
    Ok(out)
}

/// A manifest path with its `%0A`, `%0D` and `%25` decoded (RFC 8493 §2.1.3).
fn decode_path(p: &str) -> String {
    p.replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%25", "%")
}

/// Whether a path stays inside the bag.
fn safe(p: &str) -> bool {
    // A drive letter (`C:`) is absolute too.
    let absolute = p.starts_with('/') || p.as_bytes().get(1) == Some(&b':');
    let odd = p.contains(['\\', '\0']);
    let parts_ok = p.split('/').all(|c| !c.is_empty() && c != "." && c != "..");
    !p.is_empty() && !absolute && !odd && parts_ok
}

/// Checks one listed file: there, and hashing as listed (streamed).
fn check_file(
    dir: &Path,
    files: &HashMap<String, u64>,
    manifest: &str,
    path: &str,
    sha: &str,
) -> Result<(), BagError> {
    if !files.contains_key(path) {
        return Err(BagError::Missing {
            manifest: manifest.to_string(),
            path: path.to_string(),
        });
    }
    let mut f = std::fs::File::open(dir.join(path)).map_err(|e| io(path, &e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| io(path, &e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    let now: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    if now != sha {
        return Err(BagError::Changed {
            path: path.to_string(),
            manifest: manifest.to_string(),
            listed: sha.to_string(),
            now,
        });
    }
    Ok(())
}

/// Checks the Payload-Oxum, when bag-info.txt gives one.
fn check_oxum(
    dir: &Path,
    payload: &[&String],
    files: &HashMap<String, u64>,
) -> Result<(), BagError> {
    let info = read_small(&dir.join("bag-info.txt"), "bag-info.txt")?;
    let Some(listed) = info
        .lines()
        .find_map(|l| l.strip_prefix("Payload-Oxum:"))
        .map(|v| v.trim().to_string())
    else {
        return Ok(());
    };
    let bytes: u64 = payload.iter().filter_map(|p| files.get(*p)).sum();
    let found = format!("{bytes}.{}", payload.len());
    if listed != found {
        return Err(BagError::Oxum { listed, found });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_are_read_with_care() {
        let ok = format!(
            "{}  data/a.geojson\n{}  data/with space.txt\r\n",
            "a".repeat(64),
            "B".repeat(64)
        );
        let m = parse_manifest(ok.as_bytes(), "m").unwrap();
        assert_eq!(m["data/with space.txt"], "b".repeat(64));
        for (bad, want) in [
            (
                format!("{}  ../etc/passwd", "a".repeat(64)),
                "reaches outside",
            ),
            (
                format!("{}  /etc/passwd", "a".repeat(64)),
                "reaches outside",
            ),
            (format!("{}  data//x", "a".repeat(64)), "reaches outside"),
            ("abc  data/x".to_string(), "not a SHA-256"),
            ("justonefield".to_string(), "not HASH PATH"),
            (
                format!("{}  {}", "a".repeat(64), "x".repeat(9000)),
                "too long",
            ),
        ] {
            let e = parse_manifest(bad.as_bytes(), "m").unwrap_err().to_string();
            assert!(e.contains(want), "{bad:.40}: {e}");
        }
    }
}
