//! Delimited text (CSV, TSV, `;`-separated, ACLED exports), parsed in segments on every core.
//!
//! The records are cut into segments of a few MiB. Each thread takes the next segment, reads it
//! from disk (memory stays bounded whatever the file size; the store keeps only each record's
//! position) and parses the records that start from the first line break in it up to the same
//! point of the next segment, reading past its end to finish the last one. The segments are
//! merged in file order as they arrive: line numbers, counted from each segment's start, get
//! the lines before it added, and a segment whose start turns out to lie inside a quoted field
//! of the record before it (a quoted line break at the cut) is parsed again from the true
//! record boundary. So the result is always that of one sequential pass over the file.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Condvar, Mutex};

use csv::{ByteRecord, ReaderBuilder};

use super::columns::{Overrides, detect};
use super::records::{Next, Record, Records};
use super::{Control, FileError, LoadError, ParsedFile, row};
use crate::model::{ColumnMap, Problem};
use crate::store::RecordRef;
use crate::store::file::read_full_at;
use crate::store::{Builder, Content, Format, LoadedFile};
use crate::text::{LEGACY_ENCODING, decode};

/// The problem of a record opened by a quote that never closes (it runs to the end of the file,
/// so a row added after it would be swallowed too: adding refuses such a file).
pub const UNCLOSED_QUOTE: &str =
    "a quote opened on this line is never closed; it runs to the end of the file";

/// How the file is cut up.
#[derive(Debug, Clone, Copy)]
struct Tuning {
    /// Bytes of a segment: the piece one thread reads and parses at a time.
    segment: usize,
    /// Files with fewer bytes of records are parsed on one thread.
    parallel_min: usize,
}

const TUNING: Tuning = Tuning {
    segment: 4 << 20,
    parallel_min: 4 << 20,
};

/// Bytes read for the header at first (doubled until it is all in).
const HEADER_WINDOW: usize = 64 << 10;

/// The message of the (one per file) note that a file is not UTF-8.
pub fn legacy_note() -> String {
    format!("not valid UTF-8; read as {}", LEGACY_ENCODING.name())
}

/// Picks the delimiter among `,` `;` tab that occurs most in the header line.
pub fn sniff_delimiter(header_line: &[u8]) -> u8 {
    let count = |d: u8| header_line.iter().filter(|&&c| c == d).count();
    let mut best = (b',', count(b','));
    for d in [b';', b'\t'] {
        let c = count(d);
        if c > best.1 {
            best = (d, c);
        }
    }
    best.0
}

/// Reads the header. Returns column names, the byte offset where data starts, and the delimiter.
/// `None` when the header does not end inside `bytes` and more of the file follows.
fn header(
    bytes: &[u8],
    start: usize,
    complete: bool,
) -> Result<Option<(Vec<String>, usize, u8)>, LoadError> {
    let first_line_end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
    let delimiter = sniff_delimiter(&bytes[start..first_line_end]);
    let mut rdr = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(&bytes[start..]);
    let mut rec = ByteRecord::new();
    match rdr.read_byte_record(&mut rec) {
        Ok(true) => {}
        Ok(false) => return Err(LoadError::Empty),
        Err(e) => return Err(LoadError::Header(e.to_string())),
    }
    let end = start + rdr.position().byte() as usize;
    if end >= bytes.len() && !complete {
        return Ok(None);
    }
    let cols: Vec<String> = rec.iter().map(|f| decode(f).trim().to_string()).collect();
    Ok(Some((cols, end, delimiter)))
}

/// What the parse of one segment produced. Its line numbers (of incidents and problems) count
/// the line breaks from where it started: the merge adds the lines before that.
struct Part {
    builder: Builder,
    problems: Vec<Problem>,
    skipped: usize,
    /// File offset where its records were looked for.
    start: u64,
    /// Its records start before this file offset.
    stop: u64,
    /// File offset just past its last record (its start when none).
    end: u64,
    /// Line breaks in `[start, end)`.
    newlines_end: u64,
    /// Line breaks in `[start, stop)`, when its last record ended before `stop`.
    newlines_stop: Option<u64>,
    /// Whether a record was not UTF-8 (noted among its problems).
    legacy: bool,
    /// Reading the file failed.
    error: Option<LoadError>,
}

impl Part {
    fn new(builder: Builder, start: u64, stop: u64) -> Part {
        Part {
            builder,
            problems: Vec::new(),
            skipped: 0,
            start,
            stop,
            end: start,
            newlines_end: 0,
            newlines_stop: None,
            legacy: false,
            error: None,
        }
    }
}

/// Bytes read from disk at a time while parsing (more when one record is larger).
const PIECE: usize = 256 << 10;

/// The offset just past the first line break at or after `from`; the end when there is none
/// and `bytes` reaches the end of the file; `None` when more must be read to know.
fn line_after(bytes: &[u8], from: usize, eof: bool) -> Option<usize> {
    match memchr::memchr(b'\n', bytes.get(from..).unwrap_or(&[])) {
        Some(i) => Some(from + i + 1),
        None if eof => Some(bytes.len()),
        None => None,
    }
}

/// The file being parsed and what is needed to parse it.
struct Ctx<'a> {
    ctl: &'a Control,
    content: &'a Content,
    /// File size.
    total: u64,
    /// Where the records start (after the header).
    data_start: u64,
    name: &'a str,
    map: &'a ColumnMap,
    columns: &'a [String],
    delimiter: u8,
    file: u16,
    tuning: Tuning,
    /// The last column a record needs.
    required: usize,
    /// The note for text that is not UTF-8.
    legacy_note: String,
}

impl<'a> Ctx<'a> {
    fn problem(&self, line: u64, column: Option<usize>, message: String, skipped: bool) -> Problem {
        Problem {
            file: self.name.to_string(),
            line,
            column: column.and_then(|c| self.columns.get(c).cloned()),
            message,
            skipped,
        }
    }

    /// Bytes of the file from `at`: `want` of them (fewer at its end) read from disk into
    /// `buf`, or all the rest of a file in memory. Also whether they reach the end of the file.
    fn bytes<'b>(
        &self,
        buf: &'b mut Vec<u8>,
        at: u64,
        want: usize,
    ) -> Result<(&'b [u8], bool), LoadError>
    where
        'a: 'b,
    {
        match self.content {
            Content::Memory(b) => Ok((b.get(at as usize..).unwrap_or(&[]), true)),
            Content::Disk { file, .. } => {
                let want = want.min(self.total.saturating_sub(at) as usize);
                buf.resize(want, 0);
                let n = {
                    let f = file.lock().unwrap_or_else(|p| p.into_inner());
                    read_full_at(&f, buf, at).map_err(|e| LoadError::from_io(&e))?
                };
                buf.truncate(n);
                // A short read is the end of the file (it shrank since it was opened).
                Ok((&buf[..], at + n as u64 >= self.total || n < want))
            }
        }
    }

    /// The nominal byte range of segment `k` (the last ends at the end of the file).
    fn nominal(&self, k: usize) -> (u64, u64) {
        let seg = self.tuning.segment as u64;
        let a = self
            .data_start
            .saturating_add((k as u64).saturating_mul(seg));
        (a, a.saturating_add(seg).min(self.total))
    }

    /// Number of segments.
    fn segments(&self) -> usize {
        let seg = self.tuning.segment as u64;
        self.total.saturating_sub(self.data_start).div_ceil(seg) as usize
    }

    /// Parses segment `k`: the records that start from just past the first line break in its
    /// nominal range (from the data's start for the first) to the same point of the next. It
    /// may start inside a quoted field; the merge finds that out.
    fn segment(&self, k: usize, buf: &mut Vec<u8>, builder: Builder) -> Part {
        let (a, b) = self.nominal(k);
        let start = if k == 0 { Ok(a) } else { self.cut(a, buf) };
        let stop = if b >= self.total {
            Ok(self.total)
        } else {
            self.cut(b, buf)
        };
        match (start, stop) {
            (Ok(start), Ok(stop)) => self.fill(Part::new(builder, start, stop.max(start)), buf),
            (Err(e), _) | (_, Err(e)) => {
                let mut part = Part::new(builder, a, a);
                part.error = Some(e);
                part
            }
        }
    }

    /// The file offset just past the first line break at or after `at` (the end of the file
    /// when there is none).
    fn cut(&self, at: u64, buf: &mut Vec<u8>) -> Result<u64, LoadError> {
        let mut want = 4 << 10;
        loop {
            let (bytes, eof) = self.bytes(buf, at, want)?;
            if let Some(i) = line_after(bytes, 0, eof) {
                return Ok(at + i as u64);
            }
            want = want.saturating_mul(16);
        }
    }

    /// Parses the records that start in `[from, stop)` of the file, `from` being a record
    /// boundary.
    fn reparse(&self, from: u64, stop: u64, buf: &mut Vec<u8>, builder: Builder) -> Part {
        self.fill(Part::new(builder, from, stop), buf)
    }

    /// Parses `part`'s records, reading the file a piece at a time: a piece small enough to
    /// stay in the core's cache while it is parsed (larger when one record is larger).
    fn fill(&self, mut part: Part, buf: &mut Vec<u8>) -> Part {
        let mut piece = PIECE;
        loop {
            let at = part.end;
            let (bytes, eof) = match self.bytes(buf, at, piece) {
                Ok(r) => r,
                Err(e) => {
                    part.error = Some(e);
                    return part;
                }
            };
            let stop = part.stop.saturating_sub(at) as usize;
            if self.parse(bytes, at, stop, eof, &mut part) {
                return part;
            }
            piece = if part.end == at {
                piece.saturating_mul(2)
            } else {
                PIECE
            };
        }
    }

    /// Parses the records of `bytes` (file offset `base`) from where `part` ended until one
    /// starts at or past `stop`. False when `bytes` ended inside a record and more of the file
    /// follows: `part` holds the records before it.
    fn parse(&self, bytes: &[u8], base: u64, stop: usize, eof: bool, part: &mut Part) -> bool {
        let from = (part.end - base) as usize;
        let mut records = Records::new(bytes, self.delimiter, (from, stop), eof, part.newlines_end);
        // UTF-8 checked once for the records that start before `stop` (and a margin past it),
        // not record by record: those inside the valid prefix are sliced from it (a record
        // ends at an ASCII byte, so at a char boundary); the others are checked alone.
        let mut ahead = bytes.len().min(stop.max(from).saturating_add(1 << 16));
        // Not inside a character: back to the start of the one the bound cuts (at most three
        // continuation bytes), so that valid text is checked in one pass.
        for _ in 0..3 {
            if ahead > from && bytes.get(ahead).is_some_and(|b| b & 0xc0 == 0x80) {
                ahead -= 1;
            }
        }
        let text = match simdutf8::compat::from_utf8(&bytes[from..ahead]) {
            Ok(t) => t,
            Err(e) => {
                simdutf8::basic::from_utf8(&bytes[from..from + e.valid_up_to()]).unwrap_or("")
            }
        };
        let mut rec = Record::default();
        let mut n = 0u32;
        loop {
            n = n.wrapping_add(1);
            if n.is_multiple_of(8192) && self.ctl.cancelled() {
                return true;
            }
            match records.next(&mut rec) {
                Next::Record => {}
                Next::Done => break,
                Next::Incomplete => return false,
            }
            let at = RecordRef {
                file: self.file,
                start: base + rec.start as u64,
                len: (rec.end - rec.start) as u32,
                line: rec.newlines_before as u32,
            };
            let valid = match text.get(rec.start - from..rec.end - from) {
                Some(t) => Some(t),
                None => std::str::from_utf8(&bytes[rec.start..rec.end]).ok(),
            };
            self.take(part, &rec, (bytes, valid), at, eof);
            part.end = base + rec.end as u64;
            part.newlines_end = records.newlines();
        }
        if part.end <= part.stop {
            // Only line breaks lie between its last record and its stop.
            let (end, stop) = ((part.end - base) as usize, (part.stop - base) as usize);
            let gap = bytes.get(end..stop).unwrap_or(&[]);
            part.newlines_stop =
                Some(part.newlines_end + memchr::memchr_iter(b'\n', gap).count() as u64);
        }
        true
    }

    /// Checks one record and adds it to `part`, or the problem that keeps it out. `at.line`
    /// and the problems' lines are the line breaks before it since the part's start. `src`:
    /// the bytes the record is in, and its text when it is valid UTF-8 (none: it is decoded
    /// as legacy text).
    #[inline]
    fn take(
        &self,
        part: &mut Part,
        rec: &Record,
        src: (&[u8], Option<&str>),
        at: RecordRef,
        eof: bool,
    ) {
        let (bytes, valid) = src;
        let line = rec.newlines_before;
        let raw = &bytes[rec.start..rec.end];
        if rec.len() == 1
            && rec
                .get(bytes, 0)
                .is_some_and(|f| f.iter().all(|c| c.is_ascii_whitespace()))
        {
            return; // a line of spaces
        }
        // A record that runs to the end of the file with an odd number of quotes was opened by
        // a quote that never closes: it swallowed every line after it.
        let unclosed =
            eof && rec.end >= bytes.len() && memchr::memchr_iter(b'"', raw).count() % 2 == 1;
        if unclosed || rec.len() <= self.required {
            let msg = if unclosed {
                UNCLOSED_QUOTE.to_string()
            } else {
                format!(
                    "has {} fields, the header has {}",
                    rec.len(),
                    self.columns.len()
                )
            };
            part.problems.push(self.problem(line, None, msg, true));
            part.skipped += 1;
            return;
        }
        let built = match valid {
            Some(text) => row::build(self.map, |i| rec.get_str(text, i), None),
            None => {
                if !part.legacy {
                    part.legacy = true;
                    let note = self.legacy_note.clone();
                    part.problems.push(self.problem(line, None, note, false));
                }
                let get = |i: usize| {
                    rec.get(bytes, i).map(|f| match f {
                        Cow::Borrowed(b) => decode(b),
                        Cow::Owned(v) => Cow::Owned(decode(&v).into_owned()),
                    })
                };
                row::build(self.map, get, None)
            }
        };
        match built {
            Ok((r, warnings)) => {
                for w in warnings {
                    part.problems
                        .push(self.problem(line, w.column, w.message, false));
                }
                // Values past the header's last column (not just trailing empty fields): kept,
                // but often a sign of an unquoted delimiter that shifted the row's fields.
                let n = self.columns.len();
                if rec.len() > n
                    && (n..rec.len()).any(|i| {
                        rec.get(bytes, i)
                            .is_some_and(|f| !f.iter().all(u8::is_ascii_whitespace))
                    })
                {
                    let msg = format!(
                        "has {} fields, the header has {n}: the values past its last column are kept (an unquoted delimiter may have shifted this row)",
                        rec.len()
                    );
                    part.problems.push(self.problem(line, None, msg, false));
                }
                part.builder.push(&r, at);
            }
            Err(issue) => {
                part.problems
                    .push(self.problem(line, issue.column, issue.message, true));
                part.skipped += 1;
            }
        }
    }
}

/// The parts merged so far, in file order.
struct Merged {
    builder: Option<Builder>,
    problems: Vec<Problem>,
    skipped: usize,
    /// Whether text that is not UTF-8 was noted already (once per file).
    legacy: bool,
    /// Where the next part must start: a record boundary (or line breaks before one).
    pos: u64,
    /// Line breaks in the file before `pos`.
    lines: u64,
}

impl Ctx<'_> {
    /// A builder for a part.
    fn part_builder(&self) -> Builder {
        let bytes = (self.tuning.segment as u64).min(self.total - self.data_start.min(self.total));
        Builder::with_capacity(bytes as usize / 128 + 16)
    }

    /// Adds part `k` to `m` (parsing it again from the true record boundary when it started
    /// inside the record before it). Returns its builder, emptied, for the next part.
    fn merge(
        &self,
        m: &mut Merged,
        k: usize,
        mut part: Part,
        buf: &mut Vec<u8>,
    ) -> Result<Builder, LoadError> {
        if let Some(e) = part.error.take() {
            return Err(e);
        }
        if part.start != m.pos {
            // It began inside a quoted field of the last record before it.
            part = self.reparse(m.pos, part.stop, buf, self.part_builder());
            if let Some(e) = part.error.take() {
                return Err(e);
            }
        }
        let shift = m.lines + 1;
        let builder = m.builder.get_or_insert_with(|| {
            // Room for the whole file, from this part's density.
            let seen = part.stop.saturating_sub(self.data_start).max(1) as f64;
            let rest = self.total.saturating_sub(self.data_start) as f64;
            let n = part.builder.len() as f64 * rest / seen * 1.02;
            Builder::with_capacity(n as usize + 16)
        });
        builder.take_from(&mut part.builder, shift as u32);
        for mut p in part.problems.drain(..) {
            if p.message == self.legacy_note && !p.skipped {
                if m.legacy {
                    continue;
                }
                m.legacy = true;
            }
            p.line += shift;
            m.problems.push(p);
        }
        m.skipped += part.skipped;
        match part.newlines_stop {
            Some(n) => (m.pos, m.lines) = (part.stop, m.lines + n),
            None => (m.pos, m.lines) = (part.end, m.lines + part.newlines_end),
        }
        let (a, b) = self.nominal(k);
        self.ctl.advance(2 * (b - a));
        Ok(part.builder)
    }

    /// Parses every segment, on `threads` threads, and merges them in order.
    fn run(&self, m: &mut Merged, threads: usize) -> Result<(), LoadError> {
        let count = self.segments();
        let mut buf = Vec::new();
        if threads <= 1 || count <= 1 {
            let mut spare = None;
            for k in 0..count {
                if self.ctl.cancelled() {
                    break;
                }
                let b = spare.take().unwrap_or_else(|| self.part_builder());
                let part = self.segment(k, &mut buf, b);
                spare = Some(self.merge(m, k, part, &mut buf)?);
            }
            return Ok(());
        }
        let shared = Shared {
            next: AtomicUsize::new(0),
            merged: Mutex::new(0),
            progress: Condvar::new(),
            stop: AtomicBool::new(false),
            pool: Mutex::new(Vec::new()),
            ahead: 4 * threads,
        };
        let (tx, rx) = std::sync::mpsc::channel::<(usize, Part)>();
        std::thread::scope(|sc| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    let tx = tx.clone();
                    let shared = &shared;
                    sc.spawn(move || self.work(shared, count, &tx))
                })
                .collect();
            drop(tx);
            let r = self.merge_all(m, &shared, &rx, count, &mut buf);
            shared.halt();
            drop(rx);
            for w in workers {
                // A worker that panicked left its segments to the merge, which parsed them.
                let _ = w.join();
            }
            r
        })
    }

    /// A worker: parses the next segment not taken, unless too far ahead of the merge.
    fn work(&self, shared: &Shared, count: usize, tx: &Sender<(usize, Part)>) {
        let mut buf = Vec::new();
        loop {
            let k = shared.next.fetch_add(1, Ordering::Relaxed);
            if k >= count || !shared.wait_for(k) || self.ctl.cancelled() {
                return;
            }
            let b = shared.take_builder().unwrap_or_else(|| self.part_builder());
            if tx.send((k, self.segment(k, &mut buf, b))).is_err() {
                return;
            }
        }
    }

    /// Merges the parts the workers send, in order; parses here any a worker did not send.
    fn merge_all(
        &self,
        m: &mut Merged,
        shared: &Shared,
        rx: &Receiver<(usize, Part)>,
        count: usize,
        buf: &mut Vec<u8>,
    ) -> Result<(), LoadError> {
        let mut waiting = BTreeMap::new();
        for k in 0..count {
            let part = loop {
                if let Some(p) = waiting.remove(&k) {
                    break Some(p);
                }
                match rx.recv() {
                    Ok((j, p)) => {
                        waiting.insert(j, p);
                    }
                    Err(_) => break None,
                }
            };
            if self.ctl.cancelled() {
                return Ok(());
            }
            let part = part.unwrap_or_else(|| self.segment(k, buf, self.part_builder()));
            let emptied = self.merge(m, k, part, buf)?;
            shared.merged_to(k + 1, emptied);
        }
        Ok(())
    }
}

/// What the workers and the merge share.
struct Shared {
    /// The next segment to take.
    next: AtomicUsize,
    /// Segments merged so far.
    merged: Mutex<usize>,
    /// Signalled when `merged` grows or the work stops.
    progress: Condvar,
    /// Set when the work stops early (an error, or cancelled).
    stop: AtomicBool,
    /// Builders emptied by the merge, for the next parts.
    pool: Mutex<Vec<Builder>>,
    /// How many segments past the merge a worker may be (bounds memory).
    ahead: usize,
}

impl Shared {
    /// Waits until segment `k` may be parsed; false when the work stopped.
    fn wait_for(&self, k: usize) -> bool {
        let mut merged = self.merged.lock().unwrap_or_else(|p| p.into_inner());
        while k >= *merged + self.ahead && !self.stop.load(Ordering::Relaxed) {
            merged = self
                .progress
                .wait(merged)
                .unwrap_or_else(|p| p.into_inner());
        }
        !self.stop.load(Ordering::Relaxed)
    }

    fn merged_to(&self, k: usize, emptied: Builder) {
        self.pool
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(emptied);
        *self.merged.lock().unwrap_or_else(|p| p.into_inner()) = k;
        self.progress.notify_all();
    }

    fn take_builder(&self) -> Option<Builder> {
        self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop()
    }

    /// Stops the workers.
    fn halt(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let _guard = self.merged.lock().unwrap_or_else(|p| p.into_inner());
        self.progress.notify_all();
    }
}

/// Loads a delimited file already read into `bytes`.
pub fn load(
    name: &str,
    path: PathBuf,
    bytes: Vec<u8>,
    ov: &Overrides,
    file: u16,
) -> Result<ParsedFile, FileError> {
    load_with(
        name,
        path,
        Content::Memory(bytes.into()),
        ov,
        file,
        &Control::default(),
    )
}

/// The bytes of the file from `start` (up to `want` of them): borrowed from memory, or read
/// from disk into `buf`.
fn window<'a>(
    content: &'a Content,
    buf: &'a mut Vec<u8>,
    start: u64,
    want: usize,
) -> std::io::Result<&'a [u8]> {
    match content {
        Content::Memory(b) => Ok(&b[(start as usize).min(b.len())..]),
        Content::Disk { file, stamp } => {
            let f = file.lock().unwrap_or_else(|p| p.into_inner());
            let len = (stamp.len.saturating_sub(start) as usize).min(want);
            buf.resize(len, 0);
            let n = read_full_at(&f, buf, start)?;
            buf.truncate(n);
            Ok(&buf[..])
        }
    }
}

fn content_len(content: &Content) -> u64 {
    match content {
        Content::Memory(b) => b.len() as u64,
        Content::Disk { stamp, .. } => stamp.len,
    }
}

/// [`load`] for any content, with progress and cancellation. Progress counts each byte twice
/// (once read, once parsed), when the piece it is in is done.
pub fn load_with(
    name: &str,
    path: PathBuf,
    content: Content,
    ov: &Overrides,
    file: u16,
    ctl: &Control,
) -> Result<ParsedFile, FileError> {
    load_tuned(name, path, content, ov, file, ctl, TUNING)
}

fn load_tuned(
    name: &str,
    path: PathBuf,
    content: Content,
    ov: &Overrides,
    file: u16,
    ctl: &Control,
    tuning: Tuning,
) -> Result<ParsedFile, FileError> {
    let err = |e: LoadError| FileError {
        file: name.to_string(),
        error: e,
    };
    let total = content_len(&content);
    let mut buf = Vec::new();
    let (header, data_start, delimiter) =
        read_header(&content, &mut buf, total, HEADER_WINDOW).map_err(err)?;
    let (columns, renamed) = super::columns::distinct(header);
    let map = detect(&columns, ov).map_err(err)?;
    if map.lat.is_none() || map.lon.is_none() {
        return Err(err(LoadError::NoCoordinates { columns }));
    }
    if map.date.is_none() {
        return Err(err(LoadError::NoDate { columns }));
    }
    let required = [map.lat, map.lon, map.date]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(0);
    let ctx = Ctx {
        ctl,
        content: &content,
        total,
        data_start: data_start as u64,
        name,
        map: &map,
        columns: &columns,
        delimiter,
        file,
        tuning,
        required,
        legacy_note: legacy_note(),
    };
    // The header's own line breaks.
    let (head, _) = ctx.bytes(&mut buf, 0, data_start).map_err(err)?;
    let lines = memchr::memchr_iter(b'\n', &head[..data_start.min(head.len())]).count() as u64;
    drop(buf);
    ctl.advance(2 * data_start as u64);
    let mut m = Merged {
        builder: None,
        problems: renamed
            .into_iter()
            .map(|(c, new)| Problem {
                // The header: no row.
                file: name.to_string(),
                line: 0,
                column: None,
                message: format!(
                    "column {} repeats the name of an earlier column: it is read as {new}",
                    c + 1
                ),
                skipped: false,
            })
            .collect(),
        skipped: 0,
        legacy: false,
        pos: data_start as u64,
        lines,
    };
    let threads = if total.saturating_sub(data_start as u64) >= tuning.parallel_min as u64 {
        // One worker more than cores (one core: one thread; at most 17): the merge runs on
        // this thread beside them, and a worker waiting for it (or for a read) leaves its core
        // idle. With as many workers as cores, parsing 10M rows kept two cores 88% busy
        // (`check` 2.22 s); with one more, 98% (2.11 s).
        std::thread::available_parallelism().map_or(1, |t| match t.get() {
            1 => 1,
            n => n.min(16) + 1,
        })
    } else {
        1
    };
    ctx.run(&mut m, threads).map_err(err)?;
    let source = LoadedFile {
        path,
        name: name.to_string(),
        format: Format::Csv,
        delimiter,
        utf8: !m.legacy,
        columns,
        map,
        content,
    };
    Ok(ParsedFile {
        builder: m.builder.unwrap_or_else(|| Builder::with_capacity(0)),
        source,
        problems: m.problems,
        skipped: m.skipped,
    })
}

/// The header (column names), where the data starts and the delimiter, read from a window
/// that holds the whole header (doubled until it does).
fn read_header(
    content: &Content,
    buf: &mut Vec<u8>,
    total: u64,
    mut want: usize,
) -> Result<(Vec<String>, usize, u8), LoadError> {
    loop {
        let w = window(content, buf, 0, want).map_err(|e| LoadError::from_io(&e))?;
        let complete = w.len() as u64 >= total;
        let bom = if w.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
        if complete
            && w[bom.min(w.len())..]
                .iter()
                .all(|c| c.is_ascii_whitespace())
        {
            return Err(LoadError::Empty);
        }
        match header(w, bom.min(w.len()), complete)? {
            Some(h) => return Ok(h),
            None => want *= 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(s: &str) -> Result<ParsedFile, FileError> {
        load(
            "t.csv",
            "t.csv".into(),
            s.as_bytes().to_vec(),
            &Overrides::default(),
            0,
        )
    }

    /// A file from Excel: byte-order mark, `;`, CRLF, Windows-1252. The BOM is never part of the
    /// first column's name, so the column is recognised and written back without it.
    #[test]
    fn a_bom_is_not_part_of_the_first_column() {
        let mut bytes = b"\xEF\xBB\xBFdate;lat;lon;type;notes\r\n".to_vec();
        bytes.extend_from_slice(b"2021-06-05;33,2625;44,2344;Interception;\x93shot down\x94\r\n");
        let l = load("x.csv", "x.csv".into(), bytes, &Overrides::default(), 0).unwrap();
        assert_eq!(l.source.columns[0], "date");
        assert_eq!(l.source.map.date, Some(0));
        let s = l.builder.finish(vec![l.source]);
        assert_eq!(s.len(), 1);
        assert_eq!(s.date_string(0), "2021-06-05");
        let r = s.record(0).unwrap();
        assert_eq!(r.fields[0].name, "date");
        assert_eq!(r.fields[0].text(), "2021-06-05");
        assert_eq!(r.get("notes").unwrap().text(), "“shot down”");
        let mut out = Vec::new();
        crate::output::write_csv(&s, &s.select(&Default::default()).unwrap(), &mut out).unwrap();
        assert!(out.starts_with(b"date,lat,lon,type,notes\n"), "{out:?}");
    }

    #[test]
    fn sniffs_delimiters() {
        assert_eq!(sniff_delimiter(b"a;b;c"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\tc"), b'\t');
        assert_eq!(sniff_delimiter(b"a,b;c,d"), b',');
    }

    #[test]
    fn records_line_numbers_across_multiline_fields() {
        let l = load_str("lat,lon,date,notes\n1,2,2021-01-01,\"two\nlines\"\n\n3,4,2021-01-02,x\n99,4,2021-01-03,bad\n").unwrap();
        assert_eq!(l.builder.len(), 2);
        assert_eq!(l.problems.len(), 1);
        assert_eq!(l.problems[0].line, 6);
        let s = l.builder.finish(vec![l.source]);
        assert_eq!(s.line, vec![2, 5]);
        assert_eq!(
            s.record(0).unwrap().get("notes").unwrap().text(),
            "two\nlines"
        );
    }

    /// Rows with line breaks inside quotes, and Arabic (two bytes a letter) that the cuts
    /// between pieces and segments fall inside.
    fn multiline_rows(min_bytes: usize) -> (String, usize) {
        let mut s = String::from("lat,lon,date,type,notes\n");
        let mut i = 0;
        while s.len() < min_bytes {
            s.push_str(&format!(
                "{}.5,44.1,2021-06-{:02},T{},\"line one\nline two, {i}\nعين الأسد — three\"\n",
                i % 80,
                i % 28 + 1,
                i % 7
            ));
            i += 1;
        }
        (s, i)
    }

    /// Loads `bytes` from memory cut into segments of `segment` bytes, on several threads.
    fn load_cut(bytes: &[u8], segment: usize) -> ParsedFile {
        let tuning = Tuning {
            segment,
            parallel_min: 0,
        };
        let content = Content::Memory(bytes.to_vec().into());
        let ov = Overrides::default();
        load_tuned(
            "t.csv",
            "t.csv".into(),
            content,
            &ov,
            0,
            &Control::default(),
            tuning,
        )
        .unwrap()
    }

    /// One incident as loaded: line, record start and length, day, place.
    type Loaded = (u32, u64, u32, i32, String);

    /// What a load gives, to compare two loads: problems, rows skipped, incidents, UTF-8.
    fn outcome(l: ParsedFile) -> (Vec<Problem>, usize, Vec<Loaded>, bool) {
        let (problems, skipped, utf8) = (l.problems, l.skipped, l.source.utf8);
        let s = l.builder.finish(vec![l.source]);
        let rows = (0..s.len())
            .map(|i| {
                (
                    s.line[i],
                    s.rec_start[i],
                    s.rec_len[i],
                    s.day[i],
                    s.place_name(i).to_string(),
                )
            })
            .collect();
        (problems, skipped, rows, utf8)
    }

    #[test]
    fn parallel_chunks_equal_one_pass_even_when_quotes_straddle_cuts() {
        let (s, i) = multiline_rows(64 << 10);
        let one = outcome(load_cut(s.as_bytes(), usize::MAX >> 1));
        assert!(one.0.is_empty(), "{:?}", &one.0[..1]);
        assert_eq!(one.2.len(), i);
        let mut lines: Vec<u32> = one.2.iter().map(|r| r.0).collect();
        lines.sort_unstable();
        let expected: Vec<u32> = (0..i as u32).map(|k| 2 + 3 * k).collect();
        assert_eq!(lines, expected);
        for segment in [1000, 4096, 10_007] {
            assert_eq!(
                outcome(load_cut(s.as_bytes(), segment)),
                one,
                "segment {segment}"
            );
        }
    }

    /// Every cut of a small file into segments (at every byte, so inside quoted line breaks,
    /// between `\r` and `\n`, inside the BOM's record, before and after bad rows) gives what one
    /// pass gives: the same rows, byte ranges, problems and line numbers.
    #[test]
    fn segments_cut_anywhere_equal_one_pass() {
        let text = "\u{feff}lat;lon;date;place;notes\r\n\
            1,5;2;2021-01-01;A;\"x\r\ny\"\r\n\
            \r\n\
            91;2;2021-01-02;B;too far north\r\n\
            3;4;2021-01-03;\"C\r\n\r\nC\";\"\"\"q\"\"\"\r\n   \r\n\
            5;6\r\n\
            7;8;2021-01-04;D;\"a;b\"c\r\n\
            9;10;2021-01-05;E;\"open\r\n";
        let bytes = text.as_bytes();
        let one = outcome(load_cut(bytes, usize::MAX >> 1));
        let lines: Vec<u64> = one.0.iter().map(|p| p.line).collect();
        // The bad latitude, the short row and the quote never closed, on their own lines.
        assert_eq!(lines, vec![5, 10, 12], "{:?}", one.0);
        let rows: Vec<(u32, &str)> = one.2.iter().map(|r| (r.0, r.4.as_str())).collect();
        assert_eq!(rows, vec![(2, "A"), (6, "C\r\n\r\nC"), (11, "D")]);
        for segment in 1..bytes.len() + 2 {
            assert_eq!(outcome(load_cut(bytes, segment)), one, "segment {segment}");
        }
    }

    #[test]
    fn windows_on_disk_equal_one_pass_in_memory() {
        // More than two windows, quoted line breaks everywhere, a record larger than a window,
        // and a file that is not UTF-8.
        let small = Tuning {
            segment: 64 << 10,
            parallel_min: 16 << 10,
        };
        let (mut s, _) = multiline_rows(small.segment * 5 + 12345);
        s.push_str(&format!(
            "1,2,2021-07-01,Big,\"{}\"\n",
            "x\n".repeat(small.segment + PIECE + 7)
        ));
        s.push_str("3,4,2021-07-02,Last,tail\n");
        let mut bytes = s.into_bytes();
        bytes.extend_from_slice(b"5,6,2021-07-03,Caf\xe9,\x93quoted\x94\n");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.csv");
        std::fs::write(&p, &bytes).unwrap();
        let mem = load("w.csv", p.clone(), bytes, &Overrides::default(), 0).unwrap();
        let f = std::fs::File::open(&p).unwrap();
        let stamp = crate::store::file::Stamp::of(&f).unwrap();
        let content = Content::Disk {
            file: std::sync::Arc::new(std::sync::Mutex::new(f)),
            stamp,
        };
        let ctl = Control::default();
        ctl.total
            .store(2 * stamp.len, std::sync::atomic::Ordering::Relaxed);
        let disk = load_tuned("w.csv", p, content, &Overrides::default(), 0, &ctl, small).unwrap();
        assert!((ctl.fraction() - 1.0).abs() < 1e-6, "{}", ctl.fraction());
        assert_eq!(mem.problems, disk.problems);
        assert_eq!(
            disk.problems
                .iter()
                .filter(|p| p.message == legacy_note())
                .count(),
            1
        );
        let (a, b) = (
            mem.builder.finish(vec![mem.source]),
            disk.builder.finish(vec![disk.source]),
        );
        assert_eq!(a.len(), b.len());
        assert_eq!(a.line, b.line);
        assert_eq!(a.rec_start, b.rec_start);
        assert_eq!(a.rec_len, b.rec_len);
        let last = b.len() - 1;
        let r = b.record(last).unwrap();
        assert_eq!(r.get("type").unwrap().text(), "Café");
        assert_eq!(r.get("notes").unwrap().text(), "“quoted”");
        assert_eq!(b.type_name(last), "Café");
    }
}
