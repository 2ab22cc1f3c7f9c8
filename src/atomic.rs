//! Atomic file writes: write a temporary file next to the target, flush it to disk, then
//! rename it over the target, so a crash or error never leaves a half-written file behind. And
//! bounded reads of the small files a user names (a view, an area), which must not block on a
//! pipe or fill memory from a device.
//!
//! What is already at the path is kept for what it is: a symbolic link stays a link (its target
//! is written, atomically), and a device or named pipe (`/dev/null`, a FIFO another program
//! reads) is written into as it is, because renaming a file over it would replace the device
//! or pipe itself.

use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

/// Reads a small file of at most `max` bytes: a larger one (or an endless device such as
/// `/dev/zero`) is refused with [`io::ErrorKind::FileTooLarge`] once `max` is passed, so memory
/// stays bounded; a pipe (`--view <(jq …)`) is read as it comes.
pub fn read_small(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    if std::fs::metadata(path)?.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory",
        ));
    }
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut io::Read::take(File::open(path)?, max + 1), &mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("larger than {} MiB", max >> 20),
        ));
    }
    Ok(bytes)
}

/// A file being made in a folder that has no name there until [`Unnamed::persist`] gives it
/// one (Linux `O_TMPFILE`): a process killed before then leaves nothing behind. Where the
/// system or file system cannot make one (not Linux, NFS, some FUSE file systems, no `/proc`),
/// it is a hidden temporary file (`PREFIX…`), removed when dropped.
pub enum Unnamed {
    /// No name yet.
    Unnamed(File),
    /// A hidden temporary file.
    Temp(tempfile::NamedTempFile),
}

impl Unnamed {
    /// A new empty file in `dir`; the fallback's name starts with `prefix`.
    pub fn new_in(dir: &Path, prefix: &str) -> io::Result<Unnamed> {
        if let Some(f) = unnamed_in(dir) {
            return Ok(Unnamed::Unnamed(f));
        }
        Ok(Unnamed::Temp(hidden(prefix).tempfile_in(dir)?))
    }

    /// The file, to write into (and to set its permissions and owner).
    pub fn file(&mut self) -> &mut File {
        match self {
            Unnamed::Unnamed(f) => f,
            Unnamed::Temp(t) => t.as_file_mut(),
        }
    }

    /// Puts the file at `path` (in the folder it was made in), replacing what is there.
    pub fn persist(self, path: &Path) -> io::Result<()> {
        match self {
            Unnamed::Unnamed(f) => name_over(&f, path),
            Unnamed::Temp(t) => t.persist(path).map(drop).map_err(|e| e.error),
        }
    }
}

impl Write for Unnamed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file().flush()
    }
}

impl Seek for Unnamed {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        self.file().seek(to)
    }
}

/// Where the bytes go: a file renamed into place, or the device or pipe itself.
enum Sink {
    Atomic(Unnamed),
    Direct(File),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Atomic(u) => u.write(buf),
            Sink::Direct(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Atomic(u) => u.flush(),
            Sink::Direct(f) => f.flush(),
        }
    }
}

/// A file with no name in `dir`, where the system and the file system make one (Linux 3.11+)
/// and `/proc` can name it later; `None` otherwise.
fn unnamed_in(dir: &Path) -> Option<File> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, Mode, OFlags, openat};
        if !Path::new("/proc/self/fd").is_dir() {
            return None;
        }
        let flags = OFlags::RDWR | OFlags::TMPFILE | OFlags::CLOEXEC;
        openat(CWD, dir, flags, Mode::from_raw_mode(0o600))
            .ok()
            .map(File::from)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        None
    }
}

/// Gives the unnamed `file` a hidden name beside `path` and renames it over `path` (the name
/// exists only between those two calls; it is removed if the rename fails).
fn name_over(file: &File, path: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{AtFlags, CWD, linkat};
        use std::os::fd::AsRawFd;
        let fd = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        let named = hidden(".incident-map-").make_in(folder_of(path), |name| {
            linkat(CWD, &fd, CWD, name, AtFlags::SYMLINK_FOLLOW).map_err(io::Error::from)
        });
        match named {
            Ok(named) => named.persist(path).map(drop).map_err(|e| e.error),
            // The link refused (a sandbox, a `/proc` of another namespace): the bytes are
            // copied into a named temporary file instead, never lost.
            Err(_) => copy_over(file, path),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (file, path);
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

/// Copies `file` (permissions and owner too) into a hidden temporary file beside `path` and
/// renames it over `path`.
#[cfg(target_os = "linux")]
fn copy_over(mut file: &File, path: &Path) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mut tmp = hidden(".incident-map-").tempfile_in(folder_of(path))?;
    file.seek(io::SeekFrom::Start(0))?;
    io::copy(&mut file, tmp.as_file_mut())?;
    let meta = file.metadata()?;
    tmp.as_file().set_permissions(meta.permissions())?;
    let _ = std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid()));
    tmp.as_file().sync_all()?;
    tmp.persist(path).map(drop).map_err(|e| e.error)
}

/// Names of hidden temporary files: `PREFIX….part`.
fn hidden(prefix: &str) -> tempfile::Builder<'_, 'static> {
    let mut b = tempfile::Builder::new();
    b.prefix(prefix).suffix(".part");
    b
}

/// The folder a file is in (`.` for a bare name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A file being written atomically: bytes go to a temporary file next to the target, which
/// replaces the target only on [`AtomicFile::commit`]. Dropped without a commit (or the process
/// killed), it leaves the target untouched and no temporary file: on Linux the file has no
/// name until the commit.
pub struct AtomicFile {
    path: PathBuf,
    out: BufWriter<Sink>,
}

/// The file `path` names once symbolic links are followed (a dangling link: the file it names,
/// to be created), so a write replaces the file and leaves the link a link.
fn follow_links(path: &Path) -> io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// A named pipe that no program reads would block the write forever: it is refused (a
/// non-blocking open fails at once when there is no reader).
fn refuse_a_pipe_nobody_reads(path: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
        const O_NONBLOCK: i32 = 0o4000;
        if std::fs::metadata(path)?.file_type().is_fifo()
            && let Err(e) = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(O_NONBLOCK)
                .open(path)
        {
            return Err(match e.raw_os_error() {
                // ENXIO: no reader.
                Some(6) => io::Error::other("a named pipe that no program reads"),
                _ => e,
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = path;
    Ok(())
}

impl AtomicFile {
    /// Starts writing `path`.
    pub fn create(path: &Path) -> io::Result<AtomicFile> {
        // What the path names, links followed by the system (`/dev/stdout` too, whose link
        // text is no path when it is a pipe).
        let meta = std::fs::metadata(path).ok();
        if meta.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a directory",
            ));
        }
        if meta.is_some_and(|m| !m.is_file()) {
            // A device or a pipe: nothing to keep, and nothing to rename over it.
            refuse_a_pipe_nobody_reads(path)?;
            let f = std::fs::OpenOptions::new().write(true).open(path)?;
            return Ok(AtomicFile {
                path: path.to_path_buf(),
                out: BufWriter::with_capacity(1 << 20, Sink::Direct(f)),
            });
        }
        let path = follow_links(path)?;
        let sink = Sink::Atomic(Unnamed::new_in(folder_of(&path), ".incident-map-")?);
        Ok(AtomicFile {
            path,
            out: BufWriter::with_capacity(1 << 20, sink),
        })
    }

    /// Flushes to disk and puts the file in place (keeping the old file's permissions).
    pub fn commit(self) -> io::Result<()> {
        let mut out = match self.out.into_inner().map_err(|e| e.into_error())? {
            Sink::Atomic(u) => u,
            Sink::Direct(_) => return Ok(()),
        };
        let file = out.file();
        file.sync_all()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            let old = std::fs::metadata(&self.path).ok();
            let mode = old.as_ref().map_or(0o644, |m| m.permissions().mode());
            file.set_permissions(std::fs::Permissions::from_mode(mode & 0o7777))?;
            // The old file's owner too, where this process may give it (root editing another
            // user's file); otherwise the file becomes the writer's, as any editor's save does.
            if let Some(m) = old {
                let _ = std::os::unix::fs::fchown(file, Some(m.uid()), Some(m.gid()));
            }
        }
        out.persist(&self.path)?;
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
        self.out.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
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
        // The owner stays (where this process may keep it: as root, another user's file).
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
            if root {
                std::os::unix::fs::chown(&p, Some(1000), Some(1000)).unwrap();
                write_atomic(&p, |w| w.write_all(b"again")).unwrap();
                let m = std::fs::metadata(&p).unwrap();
                assert_eq!((m.uid(), m.gid()), (1000, 1000));
            }
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn nothing_is_named_in_the_folder_until_the_commit() {
        // What a process killed half-way would leave: the folder as it was.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.txt");
        std::fs::write(&p, "old").unwrap();
        let names = || {
            let mut v: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        let mut f = AtomicFile::create(&p).unwrap();
        assert!(
            matches!(f.out.get_ref(), Sink::Atomic(Unnamed::Unnamed(_))),
            "no O_TMPFILE here"
        );
        f.write_all(&vec![b'x'; 3 << 20]).unwrap();
        assert_eq!(names(), ["out.txt"]);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        f.commit().unwrap();
        assert_eq!(names(), ["out.txt"]);
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 3 << 20);
        // A new file: made only by the commit.
        let q = dir.path().join("new.txt");
        let mut f = AtomicFile::create(&q).unwrap();
        f.write_all(b"new").unwrap();
        assert_eq!(names(), ["out.txt"]);
        f.commit().unwrap();
        assert_eq!(names(), ["new.txt", "out.txt"]);
        assert_eq!(folder_of(Path::new("bare.txt")), Path::new("."));
        // Where the link is refused, the bytes are copied, with the file's permissions.
        let mut u = Unnamed::new_in(dir.path(), ".t-").unwrap();
        u.write_all(b"copied").unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            let f = u.file();
            f.set_permissions(std::fs::Permissions::from_mode(0o640))
                .unwrap();
            copy_over(f, &p).unwrap();
        }
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "copied");
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o640);
        }
        assert_eq!(names(), ["new.txt", "out.txt"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_link_stays_a_link_and_a_pipe_or_device_is_written_into() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.txt");
        std::fs::write(&target, "old").unwrap();
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink("target.txt", &link).unwrap();
        write_atomic(&link, |w| w.write_all(b"new")).unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        // A dangling link: the file it names is made.
        let dangling = dir.path().join("dangling.txt");
        std::os::unix::fs::symlink("made.txt", &dangling).unwrap();
        write_atomic(&dangling, |w| w.write_all(b"made")).unwrap();
        assert!(std::fs::symlink_metadata(&dangling).unwrap().is_symlink());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("made.txt")).unwrap(),
            "made"
        );
        // /dev/null stays the device.
        write_atomic(Path::new("/dev/null"), |w| w.write_all(b"gone")).unwrap();
        let null = std::fs::metadata("/dev/null").unwrap();
        assert!(!null.is_file(), "/dev/null was replaced by a file");
        // A named pipe: the reader gets the bytes, the pipe stays a pipe; with no reader, the
        // write is refused at once instead of waiting forever.
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        {
            let e = write_atomic(&fifo, |w| w.write_all(b"nobody")).unwrap_err();
            assert_eq!(e.to_string(), "a named pipe that no program reads");
            let reader = {
                let fifo = fifo.clone();
                std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
            };
            // Once the reader is there (blocked opening its end, which counts), it is written.
            let mut tries = 0;
            while let Err(e) = write_atomic(&fifo, |w| w.write_all(b"through")) {
                assert_eq!(e.to_string(), "a named pipe that no program reads");
                tries += 1;
                assert!(tries < 3000, "the reader never opened the pipe");
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            assert_eq!(reader.join().unwrap(), "through");
            use std::os::unix::fs::FileTypeExt;
            assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
        }
    }
}
