//! Atomic file writes: write a temporary file next to the target, flush it to disk, then
//! rename it over the target, so a crash or error never leaves a half-written file behind.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// A file being written atomically: bytes go to a temporary file next to the target, which
/// replaces the target only on [`AtomicFile::commit`]. Dropped without a commit, it leaves the
/// target untouched and removes the temporary file.
pub struct AtomicFile {
    path: std::path::PathBuf,
    tmp: BufWriter<tempfile::NamedTempFile>,
}

impl AtomicFile {
    /// Starts writing `path`.
    pub fn create(path: &Path) -> io::Result<AtomicFile> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if path.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a directory",
            ));
        }
        let tmp = tempfile::Builder::new()
            .prefix(".incident-map-")
            .suffix(".part")
            .tempfile_in(dir)?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            tmp: BufWriter::with_capacity(1 << 20, tmp),
        })
    }

    /// Flushes to disk and puts the file in place (keeping the old file's permissions).
    pub fn commit(self) -> io::Result<()> {
        let tmp = self.tmp.into_inner().map_err(|e| e.into_error())?;
        tmp.as_file().sync_all()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&self.path)
                .map(|m| m.permissions().mode())
                .unwrap_or(0o644);
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(mode & 0o7777))?;
        }
        tmp.persist(&self.path).map_err(|e| e.error)?;
        // Make the rename itself durable.
        if let Some(dir) = self.path.parent().filter(|p| !p.as_os_str().is_empty())
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tmp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tmp.flush()
    }
}

/// Writes `path` atomically with the bytes produced by `fill`. If `fill` fails, the existing
/// file (if any) is untouched and the temporary file is removed. `fill`'s error type is kept
/// (it only has to hold an I/O error).
pub fn write_atomic<F, E>(path: &Path, fill: F) -> Result<(), E>
where
    F: FnOnce(&mut dyn Write) -> Result<(), E>,
    E: From<io::Error>,
{
    let mut f = AtomicFile::create(path)?;
    fill(&mut f)?;
    Ok(f.commit()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_leaves_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.txt");
        std::fs::write(&p, "old").unwrap();
        let r: io::Result<()> = write_atomic(&p, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("boom"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temporary file left behind"
        );
        write_atomic(&p, |w| w.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
    }
}
