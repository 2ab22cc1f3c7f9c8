//! Writing a BagIt bag (RFC 8493), as a directory or a zip file: the payload under `data/`,
//! `bagit.txt`, `bag-info.txt`, `manifest-sha256.txt` (every payload file's SHA-256) and
//! `tagmanifest-sha256.txt` (the same for the tag files). Each payload file is hashed as it is
//! written (streamed: an item of any size costs the same memory). The bag is built under a
//! temporary name beside its destination and renamed into place when whole, so a failed or
//! cancelled bundle leaves nothing.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::EvidenceError;
use crate::progress::Control;

/// Where the bag is being written.
enum Sink {
    /// A directory (temporary until finished).
    Dir(tempfile::TempDir),
    /// A zip file (temporary until finished), its entries under `top/`.
    Zip(Box<zip::ZipWriter<crate::atomic::Unnamed>>, String),
}

/// A bag being written.
pub struct BagWriter {
    sink: Sink,
    out: PathBuf,
    /// Payload files: path in the bag, SHA-256, size.
    payload: Vec<(String, String, u64)>,
}

/// Whether a path in a bag is one this program writes: relative, `/`-separated, without `..`,
/// empty or hidden parts, or characters a manifest line cannot hold.
pub fn safe_path(rel: &str) -> bool {
    !rel.is_empty()
        && !rel.starts_with('/')
        && !rel.contains('\\')
        && !rel.contains(['\n', '\r', '\0'])
        && rel
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != ".." && !p.starts_with('.'))
}

/// A [`Write`] that hashes and counts what goes through it.
struct Hashing<W> {
    inner: W,
    hash: sha2::Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let n = self.inner.write(b)?;
        self.hash.update(&b[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl BagWriter {
    /// A bag to be written at `out`: a zip file when its name ends in `.zip`, else a directory
    /// (which must not exist yet: a bag is never written into or over something else).
    pub fn create(out: &Path) -> Result<BagWriter, EvidenceError> {
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let io = |e| EvidenceError::io(out, e);
        if out.exists() {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "already exists: a bag is written to a new name",
            )));
        }
        let zip = out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
        let sink = if zip {
            // Unnamed until finished: a bundle killed half-way leaves no file behind.
            let tmp = crate::atomic::Unnamed::new_in(&parent, ".bag-").map_err(io)?;
            let top = out
                .file_stem()
                .map_or_else(|| "bag".into(), |s| s.to_string_lossy().into_owned());
            Sink::Zip(Box::new(zip::ZipWriter::new(tmp)), top)
        } else {
            Sink::Dir(
                tempfile::Builder::new()
                    .prefix(".bag-")
                    .tempdir_in(&parent)
                    .map_err(io)?,
            )
        };
        Ok(BagWriter {
            sink,
            out: out.to_path_buf(),
            payload: Vec::new(),
        })
    }

    /// Writes a file of the bag (`rel`, e.g. `data/incidents.geojson`) from `fill`, which is
    /// given the file to write into; returns its SHA-256 and size.
    fn file(
        &mut self,
        rel: &str,
        fill: &mut dyn FnMut(&mut (dyn Write + Send)) -> Result<(), EvidenceError>,
    ) -> Result<(String, u64), EvidenceError> {
        if !safe_path(rel) {
            return Err(EvidenceError::io(
                Path::new(rel),
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "not a path a bag may hold",
                ),
            ));
        }
        let out = self.out.clone();
        let io = move |e| EvidenceError::io(&out, e);
        let (hash, size) = match &mut self.sink {
            Sink::Dir(d) => {
                let p = d.path().join(rel);
                if let Some(parent) = p.parent() {
                    std::fs::create_dir_all(parent).map_err(&io)?;
                }
                let f = std::fs::File::create(&p).map_err(&io)?;
                let mut h = hashing(std::io::BufWriter::with_capacity(1 << 20, f));
                fill(&mut h)?;
                h.inner.flush().map_err(&io)?;
                (h.hash, h.size)
            }
            Sink::Zip(z, top) => {
                let opts = zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Stored)
                    .large_file(true);
                z.start_file(format!("{top}/{rel}"), opts)
                    .map_err(|e| io(std::io::Error::other(e)))?;
                let mut h = hashing(&mut **z);
                fill(&mut h)?;
                (h.hash, h.size)
            }
        };
        use sha2::Digest;
        Ok((super::custody::hex(&hash.finalize()), size))
    }

    /// Adds a payload file (under `data/`) with `bytes`.
    pub fn add_bytes(&mut self, rel: &str, bytes: &[u8]) -> Result<String, EvidenceError> {
        let out = self.out.clone();
        let (sha, size) = self.file(rel, &mut |w| {
            w.write_all(bytes).map_err(|e| EvidenceError::io(&out, e))
        })?;
        self.payload.push((rel.to_string(), sha.clone(), size));
        Ok(sha)
    }

    /// Adds a payload file (under `data/`) streamed by `fill` (e.g. a stored item read out of
    /// its store).
    pub fn add_streamed(
        &mut self,
        rel: &str,
        fill: &mut dyn FnMut(&mut (dyn Write + Send)) -> Result<(), EvidenceError>,
    ) -> Result<String, EvidenceError> {
        let (sha, size) = self.file(rel, fill)?;
        self.payload.push((rel.to_string(), sha.clone(), size));
        Ok(sha)
    }

    /// Adds a payload file copied from `path`.
    pub fn add_file(
        &mut self,
        rel: &str,
        path: &Path,
        ctl: &Control,
    ) -> Result<String, EvidenceError> {
        let mut f = std::fs::File::open(path).map_err(|e| EvidenceError::io(path, e))?;
        let what = path.display().to_string();
        self.add_streamed(rel, &mut |w| {
            super::hash::copy_hashing(&mut f as &mut dyn Read, w, (&what, "the bag"), ctl)
                .map(|_| ())
        })
    }

    /// Writes the tag files (`info`: the bag-info.txt fields, in order; Payload-Oxum and
    /// Bagging-Date are added) and puts the bag in place.
    pub fn finish(mut self, info: &[(String, String)]) -> Result<PathBuf, EvidenceError> {
        let bytes: u64 = self.payload.iter().map(|p| p.2).sum();
        let mut fields: Vec<(String, String)> = info.to_vec();
        fields.push((
            "Bagging-Date".into(),
            crate::edit::utc_now()[..10].to_string(),
        ));
        fields.push((
            "Payload-Oxum".into(),
            format!("{bytes}.{}", self.payload.len()),
        ));
        let bag_info: String = fields
            .iter()
            .map(|(k, v)| format!("{k}: {}\n", v.replace(['\n', '\r'], " ")))
            .collect();
        let manifest: String = self
            .payload
            .iter()
            .map(|(rel, sha, _)| format!("{sha}  {rel}\n"))
            .collect();
        let mut tags = Vec::new();
        for (name, text) in [
            (
                "bagit.txt",
                "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".to_string(),
            ),
            ("bag-info.txt", bag_info),
            ("manifest-sha256.txt", manifest),
        ] {
            let out = self.out.clone();
            let (sha, _) = self.file(name, &mut |w| {
                w.write_all(text.as_bytes())
                    .map_err(|e| EvidenceError::io(&out, e))
            })?;
            tags.push(format!("{sha}  {name}\n"));
        }
        let tagmanifest: String = tags.concat();
        let out = self.out.clone();
        self.file("tagmanifest-sha256.txt", &mut |w| {
            w.write_all(tagmanifest.as_bytes())
                .map_err(|e| EvidenceError::io(&out, e))
        })?;
        let io = |e| EvidenceError::io(&self.out, e);
        match self.sink {
            Sink::Dir(d) => {
                let tmp = d.keep();
                std::fs::rename(&tmp, &self.out).map_err(io)?;
            }
            Sink::Zip(z, _) => {
                let mut f = z.finish().map_err(|e| io(std::io::Error::other(e)))?;
                f.file().sync_all().map_err(io)?;
                f.persist(&self.out).map_err(io)?;
            }
        }
        Ok(self.out)
    }
}

fn hashing<W: Write>(inner: W) -> Hashing<W> {
    use sha2::Digest;
    Hashing {
        inner,
        hash: sha2::Sha256::new(),
        size: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_a_bag_may_hold() {
        assert!(safe_path("data/evidence/ab12"));
        for bad in [
            "",
            "/etc/passwd",
            "data/../x",
            "data//x",
            "data/.hidden",
            "a\\b",
            "a\nb",
        ] {
            assert!(!safe_path(bad), "{bad:?}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_zip_bag_has_no_name_until_it_is_finished() {
        // What a bundle killed half-way would leave beside its output: nothing.
        let dir = tempfile::tempdir().unwrap();
        let names = || {
            let mut v: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        let out = dir.path().join("case.zip");
        let mut bag = BagWriter::create(&out).unwrap();
        bag.add_bytes("data/notes.txt", &vec![b'n'; 2 << 20])
            .unwrap();
        assert!(names().is_empty(), "{:?}", names());
        assert_eq!(bag.finish(&[]).unwrap(), out);
        assert_eq!(names(), ["case.zip"]);
        let zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
        assert!(zip.file_names().any(|n| n == "case/data/notes.txt"));
    }
}
