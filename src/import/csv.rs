//! Delimited text (CSV, TSV, `;`-separated, ACLED exports), read in windows and parsed in
//! parallel chunks.
//!
//! A file on disk is read a window at a time (32 MiB, more when a single record is larger), so
//! memory stays bounded whatever the file size; the store keeps only each record's position.
//! Within a window, chunks start at line breaks and are parsed speculatively on separate
//! threads; a chunk is kept only if the chunk before it really ended at its start (a quoted field
//! with a line break can straddle the cut). A chunk that started inside a quoted field is parsed
//! again from the true record boundary, and a record that runs past the end of a window is left
//! for the next one, so the result is always the same as one sequential pass over the file.

use std::path::PathBuf;

use csv::{ByteRecord, ReaderBuilder};

use super::columns::{Overrides, detect};
use super::{Control, FileError, LoadError, ParsedFile, row};
use crate::model::{ColumnMap, Problem};
use crate::store::RecordRef;
use crate::store::file::read_full_at;
use crate::store::{Builder, Content, Format, LoadedFile};
use crate::text::{LEGACY_ENCODING, decode};

/// How the file is cut up.
#[derive(Debug, Clone, Copy)]
struct Tuning {
    /// Bytes read from disk at a time.
    window: usize,
    /// Windows smaller than this are parsed on one thread.
    parallel_min: usize,
}

const TUNING: Tuning = Tuning {
    window: 32 << 20,
    parallel_min: 4 << 20,
};

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

/// What one chunk produced.
struct Chunk {
    builder: Builder,
    problems: Vec<Problem>,
    skipped: usize,
    /// Offset (in the window) just past the last record this chunk owns (its start when none).
    end: usize,
    /// A record that starts here runs past the end of the window: the next window starts at it.
    deferred: Option<usize>,
    /// Whether a record was not UTF-8.
    legacy: bool,
}

/// One window of the file and what is needed to parse it.
struct Ctx<'a> {
    ctl: &'a Control,
    bytes: &'a [u8],
    /// File offset of `bytes[0]`.
    base: u64,
    /// Line breaks in the file before `bytes[0]`.
    lines_base: u64,
    /// Whether the window reaches the end of the file.
    last: bool,
    name: &'a str,
    map: &'a ColumnMap,
    columns: &'a [String],
    delimiter: u8,
    file: u16,
    parallel_min: usize,
}

impl Ctx<'_> {
    fn problem(&self, line: u64, column: Option<usize>, message: String, skipped: bool) -> Problem {
        Problem {
            file: self.name.to_string(),
            line,
            column: column.and_then(|c| self.columns.get(c).cloned()),
            message,
            skipped,
        }
    }

    /// Parses the records that start in `[start, stop)`, reading past `stop` to finish the last.
    fn parse(&self, start: usize, stop: usize) -> Chunk {
        let bytes = self.bytes;
        let lines_before =
            self.lines_base + memchr::memchr_iter(b'\n', &bytes[..start]).count() as u64;
        let estimate = memchr::memchr_iter(b'\n', &bytes[start..stop]).count() + 1;
        let mut out = Chunk {
            builder: Builder::with_capacity(estimate),
            problems: Vec::new(),
            skipped: 0,
            end: start,
            deferred: None,
            legacy: false,
        };
        let mut rdr = ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .from_reader(&bytes[start..]);
        let mut rec = ByteRecord::new();
        let required = [self.map.lat, self.map.lon, self.map.date]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(0);
        // One UTF-8 check for the whole chunk; rows are checked one by one only if it fails.
        let all_utf8 = std::str::from_utf8(&bytes[start..stop]).is_ok();
        let mut records = 0u32;
        loop {
            records = records.wrapping_add(1);
            if records.is_multiple_of(8192) && self.ctl.cancelled() {
                break;
            }
            match rdr.read_byte_record(&mut rec) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    // Only I/O errors are possible on a byte slice; report and stop this chunk.
                    out.problems.push(self.problem(
                        lines_before + 1,
                        None,
                        format!("read error: {e}"),
                        true,
                    ));
                    break;
                }
            }
            let Some(pos) = rec.position() else { break };
            // Skip the line breaks csv counts as part of the position before the record.
            let mut rs = start + pos.byte() as usize;
            let mut line = lines_before + pos.line();
            while rs < bytes.len() && (bytes[rs] == b'\n' || bytes[rs] == b'\r') {
                if bytes[rs] == b'\n' {
                    line += 1;
                }
                rs += 1;
            }
            if rs >= stop {
                break;
            }
            let re = start + rdr.position().byte() as usize;
            if re >= bytes.len() && !self.last {
                // It may go on in the next window.
                out.deferred = Some(rs);
                break;
            }
            out.end = re;
            let at = RecordRef {
                file: self.file,
                start: self.base + rs as u64,
                len: (re - rs) as u32,
                line: line as u32,
            };
            self.take(&mut out, &rec, at, (rs, re), (all_utf8, required));
        }
        out
    }

    /// Checks one record (the bytes `[rs, re)` of the window) and adds it to `out`, or the
    /// problem that keeps it out. `checks`: whether the whole chunk is UTF-8, and the last
    /// column a record needs.
    #[inline]
    fn take(
        &self,
        out: &mut Chunk,
        rec: &ByteRecord,
        at: RecordRef,
        (rs, re): (usize, usize),
        (all_utf8, required): (bool, usize),
    ) {
        let bytes = self.bytes;
        let line = at.line as u64;
        if rec.len() == 1
            && rec
                .get(0)
                .is_some_and(|f| f.iter().all(|c| c.is_ascii_whitespace()))
        {
            return; // a line of spaces
        }
        // A record that runs to the end of the file with an odd number of quotes was opened by
        // a quote that never closes: it swallowed every line after it.
        let unclosed =
            re >= bytes.len() && memchr::memchr_iter(b'"', &bytes[rs..re]).count() % 2 == 1;
        if unclosed || rec.len() <= required {
            let msg = if unclosed {
                "a quote opened on this line is never closed; it runs to the end of the file"
                    .to_string()
            } else {
                format!(
                    "has {} fields, the header has {}",
                    rec.len(),
                    self.columns.len()
                )
            };
            out.problems.push(self.problem(line, None, msg, true));
            out.skipped += 1;
            return;
        }
        if !all_utf8 && !out.legacy && std::str::from_utf8(&bytes[rs..re]).is_err() {
            out.legacy = true;
            out.problems
                .push(self.problem(line, None, legacy_note(), false));
        }
        let get = |i: usize| rec.get(i).map(decode);
        match row::build(self.map, get, None) {
            Ok((r, warnings)) => {
                for w in warnings {
                    out.problems
                        .push(self.problem(line, w.column, w.message, false));
                }
                out.builder.push(&r, at);
            }
            Err(issue) => {
                out.problems
                    .push(self.problem(line, issue.column, issue.message, true));
                out.skipped += 1;
            }
        }
    }

    /// Parses the window: the chunks that hold, in order, and where the next window starts.
    fn parse_window(&self) -> (Vec<Chunk>, usize) {
        let bytes = self.bytes;
        let n = bytes.len();
        let threads = if n >= self.parallel_min {
            std::thread::available_parallelism()
                .map_or(1, |t| t.get())
                .min(16)
        } else {
            1
        };
        let mut cuts = vec![0];
        for k in 1..threads {
            let nominal = n * k / threads;
            let cut = memchr::memchr(b'\n', &bytes[nominal..]).map_or(n, |i| nominal + i + 1);
            if cut > *cuts.last().unwrap_or(&0) && cut < n {
                cuts.push(cut);
            }
        }
        cuts.push(n);
        let mut chunks: Vec<Chunk> = if cuts.len() == 2 {
            vec![self.parse(cuts[0], cuts[1])]
        } else {
            std::thread::scope(|sc| {
                let handles: Vec<_> = cuts
                    .windows(2)
                    .map(|w| sc.spawn(|| self.parse(w[0], w[1])))
                    .collect();
                handles
                    .into_iter()
                    .zip(cuts.windows(2))
                    .map(|(h, w)| h.join().unwrap_or_else(|_| self.parse(w[0], w[1])))
                    .collect()
            })
        };
        // Keep a chunk only if the previous one ended where it began; otherwise parse it again
        // from the true boundary. Stop at a deferred record: the next window starts there.
        let mut kept: Vec<Chunk> = Vec::with_capacity(chunks.len());
        let mut next = n;
        for (i, mut c) in chunks.drain(..).enumerate() {
            if let Some(prev) = kept.last() {
                let prev_end = prev.end;
                let clean = prev_end <= cuts[i]
                    && bytes[prev_end..cuts[i]]
                        .iter()
                        .all(|&b| b == b'\n' || b == b'\r');
                if !clean {
                    // The previous record ran past the cut: this chunk started inside a quote.
                    let from = prev_end.max(cuts[i]).min(n);
                    c = self.parse(from, cuts[i + 1].max(from));
                    c.end = c.end.max(from);
                }
            }
            let deferred = c.deferred;
            next = c.end;
            kept.push(c);
            if let Some(d) = deferred {
                next = d;
                break;
            }
        }
        if self.last {
            next = n;
        }
        (kept, next)
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

/// The bytes of a window: borrowed from memory, or read from disk into a reused buffer.
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

/// [`load`] for any content, with progress and cancellation. Progress counts each byte once
/// when it is read and once when it is parsed.
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
    let io = |e: std::io::Error| err(LoadError::from_io(&e));
    let total = content_len(&content);
    let disk = matches!(content, Content::Disk { .. });
    let mut buf = Vec::new();
    let (columns, data_start, delimiter) =
        read_header(&content, &mut buf, total, tuning.window).map_err(err)?;
    let map = detect(&columns, ov).map_err(err)?;
    if map.lat.is_none() || map.lon.is_none() {
        return Err(err(LoadError::NoCoordinates { columns }));
    }
    if map.date.is_none() {
        return Err(err(LoadError::NoDate { columns }));
    }

    let mut rows = Rows::default();
    let mut want;
    let mut pos = data_start as u64;
    let mut lines_base = 0u64;
    let mut read_mark = 0u64;
    // The header's own line breaks.
    {
        let w = window(&content, &mut buf, 0, data_start).map_err(io)?;
        lines_base += memchr::memchr_iter(b'\n', &w[..data_start.min(w.len())]).count() as u64;
    }
    ctl.advance(2 * data_start as u64);
    read_mark = read_mark.max(data_start as u64);
    want = tuning.window;
    loop {
        if ctl.cancelled() {
            break;
        }
        let bytes = window(&content, &mut buf, pos, want).map_err(io)?;
        let last = pos + bytes.len() as u64 >= total;
        let end_read = pos + bytes.len() as u64;
        if disk && end_read > read_mark {
            ctl.advance(end_read - read_mark);
            read_mark = end_read;
        }
        let ctx = Ctx {
            ctl,
            bytes,
            base: pos,
            lines_base,
            last,
            name,
            map: &map,
            columns: &columns,
            delimiter,
            file,
            parallel_min: tuning.parallel_min,
        };
        let (chunks, next) = ctx.parse_window();
        if next == 0 && !last {
            // One record is larger than the window: read more at once.
            want = want.saturating_mul(2);
            continue;
        }
        want = tuning.window;
        if rows.builder.is_empty() && !last {
            // Reserve for the whole file from this window's density.
            let n: usize = chunks.iter().map(|c| c.builder.len()).sum();
            let est = (n as f64 * total as f64 / next.max(1) as f64 * 1.02) as usize;
            rows.builder = Builder::with_capacity(est);
        }
        rows.take(chunks);
        lines_base += memchr::memchr_iter(b'\n', &bytes[..next]).count() as u64;
        pos += next as u64;
        ctl.advance(next as u64 + if disk { 0 } else { next as u64 });
        if last {
            break;
        }
    }
    drop(buf);
    let source = LoadedFile {
        path,
        name: name.to_string(),
        format: Format::Csv,
        delimiter,
        utf8: !rows.legacy,
        columns,
        map,
        content,
    };
    Ok(ParsedFile {
        builder: rows.builder,
        source,
        problems: rows.problems,
        skipped: rows.skipped,
    })
}

/// The rows of every window so far.
#[derive(Default)]
struct Rows {
    builder: Builder,
    problems: Vec<Problem>,
    skipped: usize,
    /// Whether text that is not UTF-8 was noted already (once per file).
    legacy: bool,
}

impl Rows {
    /// Takes a window's chunks, in order.
    fn take(&mut self, chunks: Vec<Chunk>) {
        for c in chunks {
            self.builder.append(c.builder);
            for p in c.problems {
                if p.message == legacy_note() {
                    if self.legacy {
                        continue;
                    }
                    self.legacy = true;
                }
                self.problems.push(p);
            }
            self.skipped += c.skipped;
        }
    }
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

    /// Rows whose quoted notes contain line breaks.
    fn multiline_rows(min_bytes: usize) -> (String, usize) {
        let mut s = String::from("lat,lon,date,type,notes\n");
        let mut i = 0;
        while s.len() < min_bytes {
            s.push_str(&format!(
                "{}.5,44.1,2021-06-{:02},T{},\"line one\nline two, {i}\nthree\"\n",
                i % 80,
                i % 28 + 1,
                i % 7
            ));
            i += 1;
        }
        (s, i)
    }

    #[test]
    fn parallel_chunks_equal_one_pass_even_when_quotes_straddle_cuts() {
        let (s, i) = multiline_rows(TUNING.parallel_min * 2);
        let par = load_str(&s).unwrap();
        assert!(par.problems.is_empty(), "{:?}", &par.problems[..1]);
        assert_eq!(par.builder.len(), i);
        let store = par.builder.finish(vec![par.source]);
        let mut lines: Vec<u32> = store.line.clone();
        lines.sort_unstable();
        let expected: Vec<u32> = (0..i as u32).map(|k| 2 + 3 * k).collect();
        assert_eq!(lines, expected);
    }

    #[test]
    fn windows_on_disk_equal_one_pass_in_memory() {
        // More than two windows, quoted line breaks everywhere, a record larger than a window,
        // and a file that is not UTF-8.
        let small = Tuning {
            window: 256 << 10,
            parallel_min: 64 << 10,
        };
        let (mut s, _) = multiline_rows(small.window * 5 + 12345);
        s.push_str(&format!(
            "1,2,2021-07-01,Big,\"{}\"\n",
            "x\n".repeat(small.window + 7)
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
