//! A loaded input file as the store keeps it: its name, layout and column roles, and a way to
//! read its bytes back. The bytes stay on disk: records are read with positioned reads when
//! they are needed, and a file changed since loading is detected (size and modification time)
//! instead of being mis-read.

use std::fs::File;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::model::ColumnMap;

/// The format of an input file: what the importers detect (by content, or by name where content
/// cannot tell) and what reading its records back needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Delimited text with a header row (the delimiter is the file's [`LoadedFile::delimiter`]).
    Csv,
    /// A GeoJSON FeatureCollection (or a single Feature).
    GeoJson,
    /// KML, read as the GeoJSON features its Placemarks become (kept in memory).
    Kml,
    /// KMZ (KML in a zip archive), read as KML.
    Kmz,
    /// A shapefile (`.shp` with its `.dbf`, or a `.zip` of them), read as the GeoJSON features
    /// its records become (kept in memory).
    Shapefile,
    /// A GeoPackage (an SQLite database), read as the GeoJSON features its layers' rows become
    /// (kept in memory).
    GeoPackage,
}

/// Why a file's bytes could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The file's size or modification time differs from when it was loaded.
    #[error("{file} has changed since it was loaded; open it again")]
    Changed {
        /// The file as the user named it.
        file: String,
    },
    /// The operating system refused the read.
    #[error("{file}: cannot read it back: {message}")]
    Io {
        /// The file as the user named it.
        file: String,
        /// What failed.
        message: String,
    },
}

/// What identifies the version of a file that was loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Size in bytes.
    pub len: u64,
    /// Last modification.
    pub modified: Option<SystemTime>,
    /// The file itself (its inode, where there are inodes): a file replaced by an atomic write
    /// is another file even when its size and time (to the clock's tick) are the same.
    pub inode: u64,
}

impl Stamp {
    /// The stamp of an open file.
    pub fn of(f: &File) -> std::io::Result<Stamp> {
        let m = f.metadata()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&m);
        #[cfg(not(unix))]
        let inode = 0;
        Ok(Stamp {
            len: m.len(),
            modified: m.modified().ok(),
            inode,
        })
    }
}

/// Where a loaded file's bytes are.
#[derive(Debug, Clone)]
pub enum Content {
    /// On disk: an open handle (positioned reads) and the stamp taken when loading began.
    Disk {
        /// The open file, shared by clones of the store.
        file: Arc<Mutex<File>>,
        /// Size and mtime at load time.
        stamp: Stamp,
    },
    /// In memory (bytes handed to the importer directly: tests, fuzzing).
    Memory(Arc<[u8]>),
}

/// A loaded input file.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    /// Path as opened.
    pub path: PathBuf,
    /// Name as the user gave it, used in messages.
    pub name: String,
    /// Format.
    pub format: Format,
    /// The field delimiter of delimited text (`,` for other formats).
    pub delimiter: u8,
    /// Whether all of it is UTF-8 (else delimited text is Windows-1252, and written back so).
    pub utf8: bool,
    /// Original column names (CSV header, or GeoJSON property keys in order of appearance).
    pub columns: Vec<String>,
    /// Which column means what.
    pub map: ColumnMap,
    /// Its bytes.
    pub content: Content,
}

#[cfg(unix)]
fn read_at(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(f, buf, offset)
}

#[cfg(windows)]
fn read_at(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, offset)
}

/// Fills `buf` from `offset`, stopping early only at the end of the file. Returns the bytes read.
pub fn read_full_at(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match read_at(f, &mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

impl LoadedFile {
    /// Appends `len` bytes from `offset` to `out`, after checking that the file is still the one
    /// that was loaded.
    pub fn read_into(&self, offset: u64, len: usize, out: &mut Vec<u8>) -> Result<(), ReadError> {
        match &self.content {
            Content::Memory(b) => {
                let s = (offset as usize).min(b.len());
                out.extend_from_slice(&b[s..(s + len).min(b.len())]);
                Ok(())
            }
            Content::Disk { file, stamp } => {
                let f = file.lock().unwrap_or_else(|p| p.into_inner());
                let io = |e: std::io::Error| ReadError::Io {
                    file: self.name.clone(),
                    message: e.to_string(),
                };
                if Stamp::of(&f).map_err(io)? != *stamp {
                    return Err(ReadError::Changed {
                        file: self.name.clone(),
                    });
                }
                if offset + len as u64 > stamp.len {
                    return Err(ReadError::Changed {
                        file: self.name.clone(),
                    });
                }
                let at = out.len();
                out.resize(at + len, 0);
                let n = read_full_at(&f, &mut out[at..], offset).map_err(io)?;
                if n < len {
                    out.truncate(at + n);
                    return Err(ReadError::Changed {
                        file: self.name.clone(),
                    });
                }
                Ok(())
            }
        }
    }
}
