//! Delimited text (CSV, TSV, `;`-separated, ACLED exports), parsed in parallel chunks.
//!
//! Chunks start at line breaks and are parsed speculatively on separate threads; a chunk is
//! kept only if the chunk before it really ended at its start (a quoted field with a line break
//! can straddle the cut). A chunk that started inside a quoted field is parsed again from the
//! true record boundary, so the result is always the same as one sequential pass.

use std::borrow::Cow;

use csv::{ByteRecord, ReaderBuilder};

use super::columns::{ColumnMap, Overrides};
use super::row;
use super::{Control, FileError, Loaded};
use crate::model::Problem;
use crate::store::{Builder, Format, RecordRef, SourceFile};

/// Files smaller than this are parsed on one thread.
const PARALLEL_MIN_BYTES: usize = 4 << 20;

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

/// Decodes a field: UTF-8 when valid, otherwise Latin-1 (every byte is a character), so that
/// spreadsheets saved in a legacy encoding still load.
pub fn text(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(b.iter().map(|&c| c as char).collect()),
    }
}

/// Reads the header. Returns column names, the byte offset where data starts, and the delimiter.
fn header(bytes: &[u8], start: usize) -> Result<(Vec<String>, usize, u8), String> {
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
        Ok(false) => return Err("empty file".into()),
        Err(e) => return Err(format!("cannot read the header: {e}")),
    }
    let cols: Vec<String> = rec.iter().map(|f| text(f).trim().to_string()).collect();
    Ok((cols, start + rdr.position().byte() as usize, delimiter))
}

/// What one chunk produced.
struct Chunk {
    builder: Builder,
    problems: Vec<Problem>,
    skipped: usize,
    /// Byte offset just past the last record this chunk owns (its start when it owns none).
    end: usize,
}

struct Ctx<'a> {
    ctl: &'a Control,
    bytes: &'a [u8],
    name: &'a str,
    map: &'a ColumnMap,
    columns: &'a [String],
    delimiter: u8,
    file: u16,
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
        let lines_before = memchr::memchr_iter(b'\n', &bytes[..start]).count() as u64;
        let estimate = memchr::memchr_iter(b'\n', &bytes[start..stop]).count() + 1;
        let mut out = Chunk {
            builder: Builder::with_capacity(estimate),
            problems: Vec::new(),
            skipped: 0,
            end: start,
        };
        let mut rdr = ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .from_reader(&bytes[start..]);
        let mut rec = ByteRecord::new();
        let ncols = self.columns.len();
        let required = [self.map.lat, self.map.lon, self.map.date]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(0);
        // One UTF-8 check for the whole chunk; rows are checked one by one only if it fails.
        let all_utf8 = std::str::from_utf8(&bytes[start..stop]).is_ok();
        let mut warned_latin1 = false;
        let mut reported = start;
        let mut records = 0u32;
        loop {
            records = records.wrapping_add(1);
            if records.is_multiple_of(8192) {
                let here = (start + rdr.position().byte() as usize).min(stop);
                self.ctl.advance(here.saturating_sub(reported) as u64);
                reported = here.max(reported);
                if self.ctl.cancelled() {
                    break;
                }
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
            out.end = re;
            let at = RecordRef {
                file: self.file,
                start: rs as u64,
                len: (re - rs) as u32,
                line: line as u32,
            };
            if rec.len() == 1
                && rec
                    .get(0)
                    .is_some_and(|f| f.iter().all(|c| c.is_ascii_whitespace()))
            {
                continue; // a line of spaces
            }
            // A record that runs to the end of the file with an odd number of quotes was
            // opened by a quote that never closes: it swallowed every line after it.
            let unclosed =
                re >= bytes.len() && memchr::memchr_iter(b'"', &bytes[rs..re]).count() % 2 == 1;
            if unclosed || rec.len() <= required {
                let msg = if unclosed {
                    "a quote opened on this line is never closed; it runs to the end of the file"
                        .to_string()
                } else {
                    format!("has {} fields, the header has {ncols}", rec.len())
                };
                out.problems.push(self.problem(line, None, msg, true));
                out.skipped += 1;
                continue;
            }
            if !all_utf8 && !warned_latin1 && std::str::from_utf8(&bytes[rs..re]).is_err() {
                warned_latin1 = true;
                out.problems.push(self.problem(
                    line,
                    None,
                    "not valid UTF-8; read as Latin-1".into(),
                    false,
                ));
            }
            let get = |i: usize| rec.get(i).map(text);
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
        self.ctl.advance(stop.saturating_sub(reported) as u64);
        out
    }
}

/// Loads a delimited file already read into `bytes`.
pub fn load(
    name: &str,
    path: std::path::PathBuf,
    bytes: Vec<u8>,
    ov: &Overrides,
    file: u16,
) -> Result<Loaded, FileError> {
    load_with(name, path, bytes, ov, file, &Control::default())
}

/// [`load`] with progress and cancellation.
pub fn load_with(
    name: &str,
    path: std::path::PathBuf,
    bytes: Vec<u8>,
    ov: &Overrides,
    file: u16,
    ctl: &Control,
) -> Result<Loaded, FileError> {
    let err = |m: String| FileError {
        file: name.to_string(),
        message: m,
    };
    let bom = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    if bytes[bom..].iter().all(|c| c.is_ascii_whitespace()) {
        return Err(err("empty file".into()));
    }
    let (columns, data_start, delimiter) = header(&bytes, bom).map_err(err)?;
    ctl.advance(data_start as u64);
    let map = ColumnMap::detect(&columns, ov).map_err(err)?;
    let listed = || columns.join(", ");
    if map.lat.is_none() || map.lon.is_none() {
        return Err(err(format!(
            "no latitude/longitude columns found (columns: {}); name them with --lat and --lon",
            listed()
        )));
    }
    if map.date.is_none() {
        return Err(err(format!(
            "no date column found (columns: {}); name it with --date",
            listed()
        )));
    }
    let ctx = Ctx {
        ctl,
        bytes: &bytes,
        name,
        map: &map,
        columns: &columns,
        delimiter,
        file,
    };

    let n = bytes.len();
    let threads = if n - data_start >= PARALLEL_MIN_BYTES {
        std::thread::available_parallelism()
            .map_or(1, |t| t.get())
            .min(16)
    } else {
        1
    };
    let mut cuts = vec![data_start];
    for k in 1..threads {
        let nominal = data_start + (n - data_start) * k / threads;
        let cut = memchr::memchr(b'\n', &bytes[nominal..]).map_or(n, |i| nominal + i + 1);
        if cut > *cuts.last().unwrap_or(&0) && cut < n {
            cuts.push(cut);
        }
    }
    cuts.push(n);
    let mut chunks: Vec<Chunk> = if cuts.len() == 2 {
        vec![ctx.parse(cuts[0], cuts[1])]
    } else {
        std::thread::scope(|sc| {
            let handles: Vec<_> = cuts
                .windows(2)
                .map(|w| sc.spawn(|| ctx.parse(w[0], w[1])))
                .collect();
            handles
                .into_iter()
                .zip(cuts.windows(2))
                .map(|(h, w)| h.join().unwrap_or_else(|_| ctx.parse(w[0], w[1])))
                .collect()
        })
    };
    // Keep a chunk only if the previous one ended where it began; otherwise parse it again from
    // the true boundary.
    for i in 1..chunks.len() {
        let prev_end = chunks[i - 1].end;
        let clean = prev_end <= cuts[i]
            && bytes[prev_end..cuts[i]]
                .iter()
                .all(|&c| c == b'\n' || c == b'\r');
        if !clean {
            // The previous record ran past the cut: this chunk started inside a quoted field.
            let from = prev_end.max(cuts[i]).min(n);
            let mut again = ctx.parse(from, cuts[i + 1].max(from));
            again.end = again.end.max(from);
            chunks[i] = again;
        }
    }
    let mut chunks = chunks.into_iter();
    let Some(first) = chunks.next() else {
        return Err(err("nothing to read".into()));
    };
    let mut builder = first.builder;
    let mut problems = first.problems;
    let mut skipped = first.skipped;
    let mut latin1 = problems
        .iter()
        .any(|p| p.message.starts_with("not valid UTF-8"));
    for c in chunks {
        builder.append(c.builder);
        for p in c.problems {
            let is_latin1 = p.message.starts_with("not valid UTF-8");
            if is_latin1 && latin1 {
                continue;
            }
            latin1 |= is_latin1;
            problems.push(p);
        }
        skipped += c.skipped;
    }
    let source = SourceFile {
        path,
        name: name.to_string(),
        format: Format::Csv { delimiter },
        columns,
        map,
        bytes,
    };
    Ok(Loaded {
        builder,
        source,
        problems,
        skipped,
    })
}

/// Reads back the original fields of the record at `start` in a delimited file.
pub fn read_record(bytes: &[u8], start: usize, delimiter: u8) -> Vec<String> {
    let mut rdr = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(&bytes[start.min(bytes.len())..]);
    let mut rec = ByteRecord::new();
    match rdr.read_byte_record(&mut rec) {
        Ok(true) => rec.iter().map(|f| text(f).into_owned()).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(s: &str) -> Result<Loaded, FileError> {
        load(
            "t.csv",
            "t.csv".into(),
            s.as_bytes().to_vec(),
            &Overrides::default(),
            0,
        )
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
        assert_eq!(s.raw(0), b"1,2,2021-01-01,\"two\nlines\"\n");
    }

    #[test]
    fn parallel_chunks_equal_one_pass_even_when_quotes_straddle_cuts() {
        // Rows whose quoted notes contain line breaks, enough bytes to go parallel.
        let mut s = String::from("lat,lon,date,type,notes\n");
        let mut i = 0;
        while s.len() < PARALLEL_MIN_BYTES * 2 {
            s.push_str(&format!(
                "{}.5,44.1,2021-06-{:02},T{},\"line one\nline two, {i}\nthree\"\n",
                i % 80,
                i % 28 + 1,
                i % 7
            ));
            i += 1;
        }
        let par = load_str(&s).unwrap();
        assert!(par.problems.is_empty(), "{:?}", &par.problems[..1]);
        assert_eq!(par.builder.len(), i);
        let store = par.builder.finish(vec![par.source]);
        let mut lines: Vec<u32> = store.line.clone();
        lines.sort_unstable();
        let expected: Vec<u32> = (0..i as u32).map(|k| 2 + 3 * k).collect();
        assert_eq!(lines, expected);
    }
}
