//! Splitting delimited text into records and fields: the same records, fields and byte ranges
//! as the `csv` crate's reader with its default settings (double quotes, `""` inside quotes,
//! `\r`, `\n` or `\r\n` ending a record, blank lines skipped, no comments), found faster.
//!
//! Why not `csv_core`: its state machine looks at every byte. Here sixteen bytes at a time are
//! compared with the four bytes that matter (delimiter, quote, `\r`, `\n`) with the `wide`
//! crate's SIMD vectors (SSE2 on x86-64, NEON on ARM, plain code elsewhere), and only those
//! positions are looked at; a 234-byte ACLED record has about 32
//! of them. Line breaks are counted on the way, so line numbers need no second pass. A field
//! is a byte range into the input; only a quoted field with `""` in it, or with text after its
//! closing quote, is copied to be unescaped, and only when it is asked for.

use std::borrow::Cow;

use wide::u8x16;

/// The positions, in order, of the bytes that matter to the record structure.
struct Structural<'a> {
    bytes: &'a [u8],
    /// Where the current 64-byte block starts.
    base: usize,
    /// The block's structural bytes not yet handed out (bit `i`: byte `base + i`).
    mask: u64,
    /// Which of the block's structural bytes are delimiters.
    delims: u64,
    /// The delimiter, quote, `\n` and `\r`, each in all sixteen lanes.
    splats: [u8x16; 4],
}

impl<'a> Structural<'a> {
    fn new(bytes: &'a [u8], delimiter: u8, from: usize) -> Structural<'a> {
        let mut s = Structural {
            bytes,
            base: from,
            mask: 0,
            delims: 0,
            splats: [delimiter, b'"', b'\n', b'\r'].map(u8x16::splat),
        };
        (s.mask, s.delims) = s.block(from);
        s
    }

    /// The structural bytes of the 64 bytes from `at`, and which of them are delimiters.
    #[inline(always)]
    fn block(&self, at: usize) -> (u64, u64) {
        match self.bytes.get(at..at + 64) {
            Some(b) => self.mask64(b),
            None => {
                // The tail, padded with a byte that is never structural.
                let mut b = [b'a'; 64];
                let rest = self.bytes.get(at..).unwrap_or(&[]);
                b[..rest.len()].copy_from_slice(rest);
                self.mask64(&b)
            }
        }
    }

    /// Sixteen bytes at a time against the four (SSE2 on x86-64: four compares and two
    /// `movemask`s a lane: every structural byte, and the delimiters among them).
    #[inline(always)]
    fn mask64(&self, b: &[u8]) -> (u64, u64) {
        let [d, q, n, r] = self.splats;
        let (mut m, mut dm) = (0, 0);
        for (i, w) in b.chunks_exact(16).enumerate() {
            let x = u8x16::new(w.try_into().unwrap_or([b'a'; 16]));
            let delimiter = x.simd_eq(d);
            let hit = delimiter | x.simd_eq(q) | x.simd_eq(n) | x.simd_eq(r);
            m |= (hit.to_bitmask() as u64) << (16 * i);
            dm |= (delimiter.to_bitmask() as u64) << (16 * i);
        }
        (m, dm)
    }

    /// The next structural position.
    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.base += 64;
            if self.base >= self.bytes.len() {
                return None;
            }
            (self.mask, self.delims) = self.block(self.base);
        }
        let at = self.base + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(at)
    }

    /// Hands the next structural positions to `each` for as long as they are delimiters (a
    /// whole run of them from the block's masks, no byte read), stopping before any other one.
    #[inline(always)]
    fn delimiters(&mut self, mut each: impl FnMut(usize)) {
        loop {
            let others = self.mask & !self.delims;
            // The bits below the first other structural byte (all when there is none).
            let before = if others == 0 {
                u64::MAX
            } else {
                (others & others.wrapping_neg()) - 1
            };
            let mut d = self.mask & before;
            self.mask &= !before;
            while d != 0 {
                each(self.base + d.trailing_zeros() as usize);
                d &= d - 1;
            }
            if self.mask != 0 || self.base + 64 >= self.bytes.len() {
                return;
            }
            self.base += 64;
            (self.mask, self.delims) = self.block(self.base);
        }
    }

    /// Hands `at`, the position [`Structural::next`] just gave, out again next time (it is in
    /// the current block, and every position before it was handed out).
    #[inline(always)]
    fn unread(&mut self, at: usize) {
        self.mask |= 1 << (at - self.base);
    }
}

/// Where one field's value is.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    /// The range is the raw field from its opening quote, to be unescaped.
    escaped: bool,
}

/// One record: where it is and its fields.
#[derive(Debug, Default)]
pub struct Record {
    /// Offset of its first byte (after any blank lines before it).
    pub start: usize,
    /// Offset just past it: past the `\r` or `\n` that ended it (the `\n` of a `\r\n` is left
    /// before the next record), or the end of the input.
    pub end: usize,
    /// Line breaks (`\n`) between where the reading began and [`Record::start`].
    pub newlines_before: u64,
    spans: Vec<Span>,
}

impl Record {
    /// Number of fields.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether it has no fields (never, for a record that was read).
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The bytes of field `i` (unescaped), from the `bytes` the record was read from.
    pub fn get<'b>(&self, bytes: &'b [u8], i: usize) -> Option<Cow<'b, [u8]>> {
        let s = self.spans.get(i)?;
        let raw = bytes.get(s.start..s.end)?;
        Some(if s.escaped {
            Cow::Owned(unescape(raw))
        } else {
            Cow::Borrowed(raw)
        })
    }

    /// Field `i` as text when the record's bytes are the valid UTF-8 `text` (which starts at
    /// [`Record::start`]).
    pub fn get_str<'b>(&self, text: &'b str, i: usize) -> Option<Cow<'b, str>> {
        let s = self.spans.get(i)?;
        let raw = text.get(s.start - self.start..s.end - self.start)?;
        Some(if s.escaped {
            Cow::Owned(String::from_utf8_lossy(&unescape(raw.as_bytes())).into_owned())
        } else {
            Cow::Borrowed(raw)
        })
    }
}

/// The value of a raw field that starts with a quote: `""` inside the quotes is one quote, and
/// text after the closing quote is kept as it is.
fn unescape(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut quoted = true;
    let mut i = 1;
    while i < raw.len() {
        let c = raw[i];
        if quoted && c == b'"' {
            if raw.get(i + 1) == Some(&b'"') {
                out.push(b'"');
                i += 2;
                continue;
            }
            quoted = false;
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

/// What [`Records::next`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// A record (in the record passed in).
    Record,
    /// No record starts before the stop (or the input ended).
    Done,
    /// The input given ends inside a record, or in blank lines before one, and more input
    /// follows: read more and start again from the record's start.
    Incomplete,
}

/// Where the reader is within a record.
#[derive(Clone, Copy)]
enum State {
    /// At the start of a field.
    FieldStart,
    /// In an unquoted field (or in text after a closing quote, then `escaped`).
    Unquoted { escaped: bool },
    /// Inside quotes that opened at `fs`.
    Quoted { escaped: bool },
    /// Just after a quote inside quotes at `q`: it closes them, or starts `""`.
    AfterQuote { q: usize, escaped: bool },
}

/// Reads records one after another from a byte slice.
pub struct Records<'a> {
    bytes: &'a [u8],
    delimiter: u8,
    s: Structural<'a>,
    /// Where the next record (or the blank lines before it) begins.
    pos: usize,
    /// Records start before this offset.
    stop: usize,
    /// Whether `bytes` reaches the end of the input.
    eof: bool,
    /// Line breaks dealt with so far.
    newlines: u64,
}

impl<'a> Records<'a> {
    /// Reads the records of `bytes` that start in `[from, stop)` (after blank lines), reading
    /// past `stop` to finish the last. `eof`: whether `bytes` ends where the input ends.
    /// `newlines`: the line breaks counted before `from` (line counts go on from there).
    pub fn new(
        bytes: &'a [u8],
        delimiter: u8,
        (from, stop): (usize, usize),
        eof: bool,
        newlines: u64,
    ) -> Self {
        Records {
            bytes,
            delimiter,
            s: Structural::new(bytes, delimiter, from),
            pos: from,
            stop,
            eof,
            newlines,
        }
    }

    /// Line breaks (`\n`) from the start to where reading is: the end of the record just read
    /// (after [`Next::Record`]).
    pub fn newlines(&self) -> u64 {
        self.newlines
    }

    #[inline(always)]
    fn event(&mut self) -> Option<usize> {
        self.s.next()
    }

    /// Reads the next record into `rec`.
    pub fn next(&mut self, rec: &mut Record) -> Next {
        // Blank lines (any run of `\r` and `\n`) before the record.
        let mut first = None;
        while let Some(e) = self.event() {
            let c = self.bytes[e];
            if e == self.pos && (c == b'\n' || c == b'\r') {
                self.newlines += (c == b'\n') as u64;
                self.pos += 1;
            } else {
                first = Some(e);
                break;
            }
        }
        if let Some(e) = first {
            // Read again as the record's first byte (or the next call's).
            self.s.unread(e);
        }
        if self.pos >= self.stop {
            return Next::Done;
        }
        if first.is_none() && self.pos >= self.bytes.len() {
            return if self.eof {
                Next::Done
            } else {
                Next::Incomplete
            };
        }
        rec.start = self.pos;
        rec.newlines_before = self.newlines;
        rec.spans.clear();
        self.fields(rec)
    }

    /// Reads the fields of a record that starts at `rec.start`.
    #[inline(always)]
    fn fields(&mut self, rec: &mut Record) -> Next {
        let (quote, delimiter) = (b'"', self.delimiter);
        let mut fs = rec.start;
        let mut st = State::FieldStart;
        let mut newlines = self.newlines;
        loop {
            if matches!(st, State::FieldStart | State::Unquoted { escaped: false }) {
                // Most structural bytes are delimiters ending unquoted fields: those first,
                // straight from the masks, without the general match.
                let (spans, start) = (&mut rec.spans, fs);
                self.s.delimiters(|e| {
                    spans.push(Span {
                        start: fs,
                        end: e,
                        escaped: false,
                    });
                    fs = e + 1;
                });
                if fs != start {
                    st = State::FieldStart;
                }
            }
            let Some(e) = self.event() else {
                return self.at_end(rec, fs, st, newlines);
            };
            let c = self.bytes[e];
            newlines += (c == b'\n') as u64;
            // Either the byte is inside the field (go on), or it ends the field.
            match st {
                State::FieldStart if e == fs => {
                    if c == quote {
                        st = State::Quoted { escaped: false };
                        continue;
                    }
                    rec.spans.push(Span {
                        start: fs,
                        end: fs,
                        escaped: false,
                    });
                }
                State::FieldStart | State::Unquoted { .. } => {
                    let escaped = matches!(st, State::Unquoted { escaped: true });
                    if c == quote {
                        st = State::Unquoted { escaped };
                        continue;
                    }
                    rec.spans.push(Span {
                        start: fs,
                        end: e,
                        escaped,
                    });
                }
                State::Quoted { escaped } => {
                    if c == quote {
                        st = State::AfterQuote { q: e, escaped };
                    }
                    continue;
                }
                State::AfterQuote { q, escaped } if e == q + 1 => {
                    if c == quote {
                        st = State::Quoted { escaped: true };
                        continue;
                    }
                    rec.spans.push(quoted(fs, q, escaped));
                }
                State::AfterQuote { .. } => {
                    // Text after the closing quote: the field goes on, unquoted.
                    if c == quote {
                        st = State::Unquoted { escaped: true };
                        continue;
                    }
                    rec.spans.push(Span {
                        start: fs,
                        end: e,
                        escaped: true,
                    });
                }
            }
            if c == delimiter {
                fs = e + 1;
                st = State::FieldStart;
                continue;
            }
            // A line break ends the record.
            rec.end = e + 1;
            self.pos = e + 1;
            self.newlines = newlines;
            return Next::Record;
        }
    }

    /// The record runs to the end of `bytes`.
    fn at_end(&mut self, rec: &mut Record, fs: usize, st: State, newlines: u64) -> Next {
        if !self.eof {
            return Next::Incomplete;
        }
        let end = self.bytes.len();
        rec.spans.push(match st {
            State::FieldStart => Span {
                start: fs,
                end,
                escaped: false,
            },
            State::Unquoted { escaped } => Span {
                start: fs,
                end,
                escaped,
            },
            State::Quoted { escaped } => {
                if escaped {
                    Span {
                        start: fs,
                        end,
                        escaped,
                    }
                } else {
                    Span {
                        start: fs + 1,
                        end,
                        escaped,
                    }
                }
            }
            State::AfterQuote { q, escaped } if q + 1 == end => quoted(fs, q, escaped),
            State::AfterQuote { .. } => Span {
                start: fs,
                end,
                escaped: true,
            },
        });
        rec.end = end;
        self.pos = end;
        self.newlines = newlines;
        Next::Record
    }
}

/// The span of a quoted field that opened at `fs` and closed at `q`.
#[inline(always)]
fn quoted(fs: usize, q: usize, escaped: bool) -> Span {
    if escaped {
        Span {
            start: fs,
            end: q + 1,
            escaped,
        }
    } else {
        Span {
            start: fs + 1,
            end: q,
            escaped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the `csv` crate reads: each record's fields, its start (after blank lines), its
    /// end and its line.
    fn reference(bytes: &[u8], delimiter: u8) -> Vec<(Vec<Vec<u8>>, usize, usize, u64)> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(bytes);
        let mut rec = csv::ByteRecord::new();
        let mut out = Vec::new();
        while rdr.read_byte_record(&mut rec).unwrap() {
            let mut rs = rec.position().unwrap().byte() as usize;
            let mut line = rec.position().unwrap().line();
            while rs < bytes.len() && (bytes[rs] == b'\n' || bytes[rs] == b'\r') {
                line += (bytes[rs] == b'\n') as u64;
                rs += 1;
            }
            let re = rdr.position().byte() as usize;
            out.push((rec.iter().map(|f| f.to_vec()).collect(), rs, re, line));
        }
        out
    }

    fn ours(bytes: &[u8], delimiter: u8) -> Vec<(Vec<Vec<u8>>, usize, usize, u64)> {
        let mut r = Records::new(bytes, delimiter, (0, bytes.len()), true, 0);
        let mut rec = Record::default();
        let mut out = Vec::new();
        while r.next(&mut rec) == Next::Record {
            let fields = (0..rec.len())
                .map(|i| rec.get(bytes, i).unwrap().into_owned())
                .collect();
            out.push((fields, rec.start, rec.end, rec.newlines_before + 1));
        }
        out
    }

    #[test]
    fn same_records_as_the_csv_crate() {
        for s in [
            "a,b\nc,d\n",
            "a,b\r\nc,d\r\n\r\n\r\ne\r\n",
            "\n\n\"x\ny\",\"\"\n,\n,,\r",
            "\"a\"\"b\",\"c\"x\"y,d\"e\n\"",
            "\"abc\"",
            "\"abc\"de",
            "\"ab\"\"",
            "a,\"b\r\nc\"\r\n",
            "  ,\" \",\n",
            "x",
            "",
            "\r",
            "a\rb\r\nc",
            "\"\"\"\"\"\n\"",
        ] {
            assert_eq!(
                ours(s.as_bytes(), b','),
                reference(s.as_bytes(), b','),
                "{s:?}"
            );
        }
    }

    /// Random text from the bytes that matter, compared with the `csv` crate.
    #[test]
    fn same_records_as_the_csv_crate_on_random_text() {
        let alphabet = b"ab,;\"\"\r\n\n \t\xc3";
        let mut rng = crate::synth::Rng::new(0x2545_f491_4f6c_dd1d);
        let mut rnd = move || rng.next_u64();
        // Mostly plain text and delimiters, with long runs of them over the 64-byte blocks.
        let plain = b"abc,,,;;;\t\t\tdefgh,;\t";
        for round in 0..20_000 {
            let long = round % 4 == 3;
            let len = (rnd() % if long { 300 } else { 40 }) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| match rnd() % 16 {
                    0 | 1 if long => alphabet[(rnd() % alphabet.len() as u64) as usize],
                    _ if long => plain[(rnd() % plain.len() as u64) as usize],
                    _ => alphabet[(rnd() % alphabet.len() as u64) as usize],
                })
                .collect();
            let delimiter = [b',', b';', b'\t'][round % 3];
            assert_eq!(
                ours(&bytes, delimiter),
                reference(&bytes, delimiter),
                "{:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }

    #[test]
    fn stops_and_asks_for_more() {
        let s = b"a,b\nc,\"d\ne\"\nf,g\n";
        // Records starting before 5: the second one, which starts at 4, is finished past 5.
        let mut r = Records::new(s, b',', (0, 5), false, 0);
        let mut rec = Record::default();
        assert_eq!(r.next(&mut rec), Next::Record);
        assert_eq!(r.next(&mut rec), Next::Record);
        assert_eq!((rec.start, rec.end, rec.newlines_before), (4, 12, 1));
        assert_eq!(r.newlines(), 3);
        assert_eq!(r.next(&mut rec), Next::Done);
        // Cut inside the quotes, not at the end of the input: more is needed.
        let mut r = Records::new(&s[..8], b',', (0, 8), false, 0);
        assert_eq!(r.next(&mut rec), Next::Record);
        assert_eq!(r.next(&mut rec), Next::Incomplete);
    }
}
