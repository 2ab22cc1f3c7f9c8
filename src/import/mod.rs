//! Importers: detect a file's format, parse it, validate every row.
//!
//! A bad row becomes a [`Problem`] and is skipped; a file that cannot be read or parsed at all
//! becomes a [`FileError`] and the other files still load.

pub mod bag;
pub mod columns;
mod crs;
pub mod csv;
pub mod geojson;
mod geometry;
pub mod gpkg;
pub mod kml;
pub mod records;
pub mod row;
pub mod shp;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

pub use crate::progress::Control;
pub use columns::Overrides;

use crate::model::Problem;
use crate::store::file::{Stamp, read_full_at};
use crate::store::{Builder, Content, Format, LoadedFile, Store};

/// Why a file could not be loaded at all. Messages describe the problem in the data's terms;
/// the command line adds the flags that fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The path does not exist (or is a dangling link).
    #[error("no such file or directory")]
    NotFound,
    /// A BagIt bag that does not hold together (nothing in it is read).
    #[error("refused as a BagIt bag: {0}")]
    Bag(#[from] bag::BagError),
    /// The file cannot be read by this user.
    #[error("permission denied")]
    PermissionDenied,
    /// A directory where a file was expected.
    #[error("is a directory")]
    IsADirectory,
    /// A FIFO, socket or device.
    #[error("not a regular file")]
    NotRegularFile,
    /// A directory with nothing we can read.
    #[error("directory holds no .csv, .tsv, .geojson, .json or .kml files")]
    EmptyDirectory,
    /// More files than the store can tell apart.
    #[error("too many files (at most 65535)")]
    TooManyFiles,
    /// Another input/output error.
    #[error("{0}")]
    Io(String),
    /// Nothing but white space.
    #[error("empty file")]
    Empty,
    /// KML that cannot be read.
    #[error("not readable KML: {0}")]
    Kml(String),
    /// A shapefile that cannot be read.
    #[error("not a readable shapefile: {0}")]
    Shapefile(String),
    /// A GeoPackage that cannot be read.
    #[error("not a readable GeoPackage: {0}")]
    GeoPackage(String),
    /// UTF-16 text (read as UTF-8 or Windows-1252 only).
    #[error("UTF-16 text: save it as UTF-8 (or Windows-1252) and open it again")]
    Utf16,
    /// Binary data.
    #[error("binary data, not CSV, GeoJSON, KML, KMZ, a shapefile nor a GeoPackage")]
    Binary,
    /// The first line could not be read as a header.
    #[error("cannot read the header: {0}")]
    Header(String),
    /// No latitude/longitude columns.
    #[error("no latitude/longitude columns found (columns: {})", .columns.join(", "))]
    NoCoordinates {
        /// The columns there are.
        columns: Vec<String>,
    },
    /// No date column.
    #[error("no date column found (columns: {})", .columns.join(", "))]
    NoDate {
        /// The columns there are.
        columns: Vec<String>,
    },
    /// A column named by the user is not there.
    #[error("no column named '{wanted}' (columns: {})", .columns.join(", "))]
    UnknownColumn {
        /// The name asked for.
        wanted: String,
        /// The columns there are.
        columns: Vec<String>,
    },
    /// Malformed or truncated JSON.
    #[error("{} JSON: {message}", if *.truncated { "truncated" } else { "invalid" })]
    Json {
        /// Line of the error.
        line: u64,
        /// Column of the error.
        column: u64,
        /// The file ends too early.
        truncated: bool,
        /// The parser's message (with the line and column).
        message: String,
    },
    /// A FeatureCollection without features.
    #[error("FeatureCollection has no \"features\" array")]
    NoFeatures,
    /// JSON of another GeoJSON type.
    #[error("not a GeoJSON FeatureCollection or Feature (type \"{0}\")")]
    NotGeoJsonType(String),
    /// JSON without a type.
    #[error("not GeoJSON: no \"type\" member")]
    NotGeoJson,
    /// The user cancelled the load.
    #[error("loading cancelled")]
    Cancelled,
}

impl LoadError {
    /// The error for an input/output failure.
    pub fn from_io(e: &std::io::Error) -> LoadError {
        match e.kind() {
            std::io::ErrorKind::NotFound => LoadError::NotFound,
            std::io::ErrorKind::PermissionDenied => LoadError::PermissionDenied,
            std::io::ErrorKind::IsADirectory => LoadError::IsADirectory,
            _ => LoadError::Io(e.to_string()),
        }
    }
}

/// A file that could not be loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {error}")]
pub struct FileError {
    /// The file as the user named it.
    pub file: String,
    /// Why.
    pub error: LoadError,
}

/// One file's parse result before it joins the store.
#[derive(Debug)]
pub struct ParsedFile {
    /// Its incidents.
    pub builder: Builder,
    /// The file itself.
    pub source: LoadedFile,
    /// Its row problems.
    pub problems: Vec<Problem>,
    /// How many rows were skipped.
    pub skipped: usize,
}

/// Everything loaded from a set of paths.
#[derive(Debug, Default)]
pub struct LoadResult {
    /// The incidents, sorted by time (in file order from [`load_paths_in_file_order`]).
    pub store: Store,
    /// Row problems, in file then line order.
    pub problems: Vec<Problem>,
    /// Rows skipped.
    pub skipped: usize,
    /// Files that could not be loaded.
    pub errors: Vec<FileError>,
    /// Milliseconds spent reading and parsing.
    pub parse_ms: f64,
    /// Milliseconds spent sorting the store by time (none yet in file order).
    pub index_ms: f64,
    /// Whether loading was cancelled (the store then holds nothing).
    pub cancelled: bool,
}

const EXTENSIONS: [&str; 9] = [
    "csv", "tsv", "txt", "geojson", "json", "kml", "kmz", "shp", "gpkg",
];

/// The format a file's name says, where content alone cannot tell (a shapefile's `.shp` is binary;
/// a `.zip` may hold a shapefile or, as `.kmz`, KML).
fn format_by_name(p: &Path) -> Option<Format> {
    match p.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "shp" | "zip" => Some(Format::Shapefile),
        _ => None,
    }
}

fn supported(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Whether `bytes` are UTF-16 text: a byte-order mark, or (in the first 512 bytes) NULs in
/// nearly every odd or every even place, as ASCII-range text has in UTF-16.
fn utf16(bytes: &[u8]) -> bool {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return true;
    }
    let pairs: Vec<&[u8]> = bytes[..bytes.len().min(512)].chunks_exact(2).collect();
    let zeros = |k: usize| pairs.iter().filter(|p| p[k] == 0).count();
    let (even, odd) = (zeros(0), zeros(1));
    pairs.len() >= 8 && (even.max(odd) * 10 >= pairs.len() * 8 && even.min(odd) * 20 <= pairs.len())
}

/// Decides the format from the first bytes: JSON starts with `{`; UTF-16 text and binary data
/// are refused.
pub fn sniff(bytes: &[u8]) -> Result<Format, LoadError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Some(&first) = body.iter().find(|c| !c.is_ascii_whitespace()) else {
        return Err(LoadError::Empty);
    };
    if body.starts_with(b"PK\x03\x04") {
        return Ok(Format::Kmz);
    }
    if body.starts_with(b"SQLite format 3\0") {
        return Ok(Format::GeoPackage);
    }
    let head = &body[..body.len().min(64 * 1024)];
    if utf16(bytes) {
        return Err(LoadError::Utf16);
    }
    // Binary data is full of NULs and control characters; a text file with a stray one is
    // still read (its row becomes a problem, the others load).
    let odd = head
        .iter()
        .filter(|&&c| c < 0x20 && !matches!(c, b'\n' | b'\r' | b'\t' | 0x0c))
        .count();
    if odd >= 8 && odd * 100 > head.len() {
        return Err(LoadError::Binary);
    }
    match first {
        b'{' | b'[' => Ok(Format::GeoJson),
        b'<' => Ok(Format::Kml),
        _ => Ok(Format::Csv),
    }
}

/// Parses one file's bytes, kept in memory (the entry point fuzzers and tests use).
pub fn load_bytes(
    name: &str,
    path: PathBuf,
    bytes: Vec<u8>,
    ov: &Overrides,
    file: u16,
) -> Result<ParsedFile, FileError> {
    let format = format_by_name(&path)
        .map(Ok)
        .unwrap_or_else(|| sniff(&bytes))
        .map_err(|e| FileError {
            file: name.to_string(),
            error: e,
        })?;
    load_format(format, name, path, bytes, ov, file)
}

/// Parses bytes already read as a file of `format`: the one dispatch to the readers.
fn load_format(
    format: Format,
    name: &str,
    path: PathBuf,
    bytes: Vec<u8>,
    ov: &Overrides,
    file: u16,
) -> Result<ParsedFile, FileError> {
    match format {
        Format::Csv => csv::load(name, path, bytes, ov, file),
        Format::GeoJson => geojson::load(name, path, bytes, ov, file),
        Format::Kml => kml::load(name, path, bytes, ov, file),
        Format::Kmz => kml::load_kmz(name, path, bytes, ov, file),
        Format::Shapefile => shp::load(name, path, bytes, ov, file),
        Format::GeoPackage => gpkg::load(name, path, bytes, ov, file),
    }
}

/// Reads a whole file in pieces, reporting progress and stopping when cancelled.
fn read_all(f: &File, size: u64, ctl: &Control) -> Result<Vec<u8>, LoadError> {
    const STEP: usize = 16 << 20;
    let mut out: Vec<u8> = Vec::with_capacity(size as usize);
    loop {
        if ctl.cancelled() {
            return Err(LoadError::Cancelled);
        }
        let at = out.len();
        out.resize(at + STEP, 0);
        let n = read_full_at(f, &mut out[at..], at as u64).map_err(|e| LoadError::from_io(&e))?;
        out.truncate(at + n);
        ctl.advance(n as u64);
        if n < STEP {
            return Ok(out);
        }
    }
}

/// Loads one file from disk. Delimited text is read in windows; GeoJSON is read whole to parse
/// it, then dropped. Either way records are read back from the file later.
pub fn load_file(
    name: &str,
    path: &Path,
    ov: &Overrides,
    file: u16,
    ctl: &Control,
) -> Result<ParsedFile, FileError> {
    let err = |e: LoadError| FileError {
        file: name.to_string(),
        error: e,
    };
    let f = File::open(path).map_err(|e| err(LoadError::from_io(&e)))?;
    let meta = f.metadata().map_err(|e| err(LoadError::from_io(&e)))?;
    if meta.is_dir() {
        return Err(err(LoadError::IsADirectory));
    }
    if !meta.is_file() {
        return Err(err(LoadError::NotRegularFile));
    }
    let stamp = Stamp::of(&f).map_err(|e| err(LoadError::from_io(&e)))?;
    let mut head = vec![0u8; (64 << 10).min(stamp.len as usize)];
    let n = read_full_at(&f, &mut head, 0).map_err(|e| err(LoadError::from_io(&e)))?;
    head.truncate(n);
    let format = match format_by_name(path) {
        // A .zip is a shapefile archive unless it holds KML (then it is a KMZ by another name).
        Some(k) => k,
        None => sniff(&head).map_err(err)?,
    };
    drop(head);
    let r = match format {
        Format::Csv => csv::load_with(
            name,
            path.to_path_buf(),
            Content::Disk {
                file: Arc::new(Mutex::new(f)),
                stamp,
            },
            ov,
            file,
            ctl,
        ),
        Format::GeoJson => {
            let bytes = read_all(&f, stamp.len, ctl).map_err(err)?;
            let content = Content::Disk {
                file: Arc::new(Mutex::new(f)),
                stamp,
            };
            let r = geojson::load_from(name, path.to_path_buf(), &bytes, content, ov, file);
            ctl.advance(bytes.len() as u64);
            r
        }
        // Formats read whole into memory (records are read back from there).
        k @ (Format::Kml | Format::Kmz | Format::Shapefile | Format::GeoPackage) => {
            let bytes = read_all(&f, stamp.len, ctl).map_err(err)?;
            let n = bytes.len() as u64;
            let r = load_format(k, name, path.to_path_buf(), bytes, ov, file);
            ctl.advance(n);
            r
        }
    };
    if ctl.cancelled() {
        return Err(err(LoadError::Cancelled));
    }
    r
}

/// Expands directories into the supported files inside them (recursively, sorted by path).
pub fn expand(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<FileError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        let name = p.display().to_string();
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() && bag::is_bag(p) => match bag::check(p) {
                Ok(payload) => {
                    let data = bag_data(p, payload);
                    if data.is_empty() {
                        errors.push(FileError {
                            file: name,
                            error: LoadError::EmptyDirectory,
                        });
                    }
                    files.extend(data);
                }
                Err(e) => errors.push(FileError {
                    file: name,
                    error: LoadError::Bag(e),
                }),
            },
            Ok(m) if m.is_dir() => {
                let mut found = Vec::new();
                walk(p, &mut found, &mut errors, 0);
                found.sort();
                if found.is_empty() {
                    errors.push(FileError {
                        file: name,
                        error: LoadError::EmptyDirectory,
                    });
                }
                files.extend(found);
            }
            Ok(m) if m.is_file() && bag::is_zipped_bag(p) => {
                // Unpacked once into the cache, then opened like a bag folder (checked whole).
                let cache = dirs::cache_dir()
                    .map(|c| c.join("incident-map").join("bags"))
                    .filter(|c| std::fs::create_dir_all(c).is_ok())
                    .unwrap_or_else(|| std::env::temp_dir().join("incident-map-bags"));
                match bag::unzip(p, &cache).and_then(|d| bag::check(&d).map(|f| (d, f))) {
                    Ok((d, payload)) => files.extend(bag_data(&d, payload)),
                    Err(e) => errors.push(FileError {
                        file: name,
                        error: LoadError::Bag(e),
                    }),
                }
            }
            Ok(m) if m.is_file() => files.push(p.clone()),
            Ok(_) => errors.push(FileError {
                file: name,
                error: LoadError::NotRegularFile,
            }),
            Err(e) => errors.push(FileError {
                file: name,
                error: LoadError::from_io(&e),
            }),
        }
    }
    (files, errors)
}

/// A bag's data files: those at the top of `data/` in a format read here (evidence and other
/// payload below it are not incidents).
fn bag_data(bag: &Path, payload: Vec<PathBuf>) -> Vec<PathBuf> {
    let top = bag.join("data");
    payload
        .into_iter()
        .filter(|f| f.parent() == Some(top.as_path()) && supported(f))
        .collect()
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
                error: LoadError::from_io(&e),
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

/// Loads every file (directories expanded), in order, into one sorted store.
pub fn load_paths(paths: &[PathBuf], ov: &Overrides) -> LoadResult {
    load_paths_with(paths, ov, &Control::default())
}

/// [`load_paths`] with progress and cancellation.
pub fn load_paths_with(paths: &[PathBuf], ov: &Overrides, ctl: &Control) -> LoadResult {
    let mut r = load_paths_in_file_order(paths, ov, ctl);
    let t = std::time::Instant::now();
    r.store.date_order();
    r.index_ms = t.elapsed().as_secs_f64() * 1000.0;
    r
}

/// [`load_paths_with`], the store left in file order ([`Store::date_order`] before any use
/// but a summary).
pub fn load_paths_in_file_order(paths: &[PathBuf], ov: &Overrides, ctl: &Control) -> LoadResult {
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
                error: LoadError::TooManyFiles,
            });
            continue;
        }
        if ctl.cancelled() {
            return LoadResult {
                cancelled: true,
                ..Default::default()
            };
        }
        match load_file(&name, &p, ov, sources.len() as u16, ctl) {
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
            Err(e) if e.error == LoadError::Cancelled => {}
            Err(e) => errors.push(e),
        }
    }
    if ctl.cancelled() {
        return LoadResult {
            cancelled: true,
            ..Default::default()
        };
    }
    LoadResult {
        store: builder.finish_in_file_order(sources),
        problems,
        skipped,
        errors,
        parse_ms: t0.elapsed().as_secs_f64() * 1000.0,
        index_ms: 0.0,
        cancelled: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stray_control_character_is_text_and_utf16_and_binary_are_named() {
        let csv =
            b"lat,lon,date,type\n33.\x001,44.1,2021-06-01,IED\n33.2,44.\x012,2021-06-02,IED\n";
        assert_eq!(sniff(csv).unwrap(), Format::Csv);
        let utf16le: Vec<u8> = "lat,lon,date,type\n33.1,44.1,2021-06-01,IED\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let utf16be: Vec<u8> = "lat,lon,date,type\n33.1,44.1,2021-06-01,IED\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        for text in [
            &utf16le,
            &utf16be,
            &[b"\xFF\xFE".as_slice(), &utf16le].concat(),
        ] {
            assert!(matches!(sniff(text), Err(LoadError::Utf16)));
        }
        // A PNG's first bytes, and bytes with no text in them.
        let png =
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0\x08\x06\0\0\0\x5c\x72\xa8\x66";
        let mut r = crate::synth::Rng::new(3);
        let noise: Vec<u8> = (0..4096).map(|_| r.below(256) as u8).collect();
        for bin in [&png[..], &noise] {
            assert!(matches!(sniff(bin), Err(LoadError::Binary)));
        }
    }

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
        assert_eq!(r.errors[0].error, LoadError::EmptyDirectory);
        let r = load_paths(&[dir.path().join("missing.csv")], &Overrides::default());
        assert_eq!(r.errors[0].error, LoadError::NotFound);
        #[cfg(unix)]
        {
            let link = dir.path().join("dangling.csv");
            std::os::unix::fs::symlink(dir.path().join("nowhere"), &link).unwrap();
            let r = load_paths(&[link], &Overrides::default());
            assert_eq!(r.errors[0].error, LoadError::NotFound);
        }
    }
}
