//! The columnar incident store: one vector per field, sorted by time, strings interned, and the
//! original records kept as byte ranges into the loaded files (which stay on disk) instead of a
//! map per row. Original fields are read back through the record API ([`record`]).

pub mod file;
pub mod record;
mod sort;

use std::sync::{Arc, Mutex, OnceLock};

use rustc_hash::FxHashMap;

pub use file::{Content, Format, LoadedFile, ReadError};
pub use record::{Field, Record};
pub use sort::stable_order;

use crate::date::{Day, format_day};
use crate::model::{DatePrecision, LocPrecision, Row};

/// Interned strings: each distinct string stored once, referred to by a dense id.
#[derive(Debug, Clone, Default)]
pub struct Interner {
    names: Vec<Box<str>>,
    ids: FxHashMap<Box<str>, u32>,
}

impl Interner {
    /// The id of `s`, adding it if new.
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }

    /// The id of `s` if present.
    pub fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    /// The string of an id ("" for an unknown id).
    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map(|s| &**s).unwrap_or("")
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether nothing is interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// All strings in id order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|s| &**s)
    }
}

/// The last few searches' answers (see [`Store::role_hits`]): which columns, the words, the
/// bitset. Clones start empty.
#[derive(Debug, Default)]
pub struct TextCache(Mutex<Vec<Search>>);

/// One search of original fields: which columns, the words, and the incidents that hold them
/// (a bitset over incident indices).
type Search = (&'static str, String, Arc<Vec<u64>>);

impl Clone for TextCache {
    fn clone(&self) -> Self {
        TextCache::default()
    }
}

/// Incidents in columns. Index `i` across every vector is one incident; after [`Builder::finish`]
/// incidents are sorted by the start of their date span, then local time, then input order.
/// A store from [`Builder::finish_in_file_order`] is not (see [`Store::is_in_date_order`]) until
/// [`Store::date_order`] puts it so: every reader but an order-free summary needs that first.
#[derive(Debug, Clone, Default)]
pub struct Store {
    /// Loaded files.
    pub files: Vec<LoadedFile>,
    /// First day of the date span.
    pub day: Vec<Day>,
    /// Last day of the date span (inclusive).
    pub day_end: Vec<Day>,
    /// Local minute of day, -1 when unknown.
    pub minute: Vec<i16>,
    /// UTC offset in minutes, `i16::MIN` when unknown.
    pub offset: Vec<i16>,
    /// Date precision.
    pub date_precision: Vec<DatePrecision>,
    /// Location precision.
    pub loc_precision: Vec<LocPrecision>,
    /// Longitude.
    pub lon: Vec<f64>,
    /// Latitude.
    pub lat: Vec<f64>,
    /// Type id into [`Store::types`].
    pub type_id: Vec<u32>,
    /// Category id into [`Store::categories`] (0 is the empty category).
    pub category: Vec<u32>,
    /// Place id into [`Store::places`] (0 is the empty place).
    pub place: Vec<u32>,
    /// Fatalities, -1 when not reported.
    pub fatalities: Vec<i32>,
    /// Injuries, -1 when not reported.
    pub injuries: Vec<i32>,
    /// Sources disagree.
    pub disputed: Vec<bool>,
    /// Index into [`Store::files`].
    pub file: Vec<u16>,
    /// Byte offset of the original record in its file.
    pub rec_start: Vec<u64>,
    /// Byte length of the original record.
    pub rec_len: Vec<u32>,
    /// 1-based line where the original record starts.
    pub line: Vec<u32>,
    /// Interned type names.
    pub types: Interner,
    /// Interned category names.
    pub categories: Interner,
    /// Interned place names.
    pub places: Interner,
    /// Incident indices in file order, computed on first use.
    file_order: OnceLock<Vec<u32>>,
    /// Incidents still in the order they were pushed (see [`Builder::finish_in_file_order`]).
    in_file_order: bool,
    /// The last searches of original fields.
    text_cache: TextCache,
    /// Which incidents have evidence attached.
    pub evidence: EvidenceMarks,
    /// The types' colours, from their counts in the whole data (a table's: its summary's).
    pub colours: crate::style::TypeColours,
}

/// Which incidents have evidence attached: set by the source that knows where evidence is
/// kept (and set again when it changes), read by the `--evidence` filter and the map's badge.
#[derive(Debug, Default)]
pub struct EvidenceMarks(std::sync::RwLock<Arc<Vec<bool>>>);

impl Clone for EvidenceMarks {
    fn clone(&self) -> EvidenceMarks {
        EvidenceMarks(std::sync::RwLock::new(self.get()))
    }
}

impl EvidenceMarks {
    /// The marks now, by store index (shorter than the store: the rest have none).
    pub fn get(&self) -> Arc<Vec<bool>> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the marks.
    pub fn set(&self, marks: Vec<bool>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(marks);
    }

    /// Whether incident `i` has evidence.
    pub fn at(&self, i: usize) -> bool {
        self.0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(i)
            .copied()
            .unwrap_or(false)
    }
}

/// Where an incident's original record lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef {
    /// File index.
    pub file: u16,
    /// Byte offset.
    pub start: u64,
    /// Byte length.
    pub len: u32,
    /// 1-based line.
    pub line: u32,
}

impl Store {
    /// The colours its types get from their counts in it.
    pub fn type_colours(&self) -> crate::style::TypeColours {
        let mut n = vec![0u64; self.types.len()];
        for &t in &self.type_id {
            n[t as usize] += 1;
        }
        crate::style::TypeColours::from_counts(self.types.names().zip(n))
    }

    /// Number of incidents.
    pub fn len(&self) -> usize {
        self.day.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.day.is_empty()
    }

    /// The type name of incident `i`.
    pub fn type_name(&self, i: usize) -> &str {
        self.types.name(self.type_id[i])
    }

    /// The place name of incident `i`.
    pub fn place_name(&self, i: usize) -> &str {
        self.places.name(self.place[i])
    }

    /// The category of incident `i`.
    pub fn category_name(&self, i: usize) -> &str {
        self.categories.name(self.category[i])
    }

    /// The date of incident `i` as `YYYY-MM-DD` (start of its span).
    pub fn date_string(&self, i: usize) -> String {
        format_day(self.day[i])
    }

    /// A store from CSV text (tests).
    #[cfg(test)]
    pub(crate) fn from_csv(text: &str) -> Store {
        let l = crate::import::load_bytes(
            "t.csv",
            "t.csv".into(),
            text.as_bytes().to_vec(),
            &Default::default(),
            0,
        )
        .unwrap_or_else(|e| panic!("test CSV: {e}"));
        l.builder.finish(vec![l.source])
    }

    /// Incident `i` as the validated row it was built from (names borrowed from the store):
    /// what building a store again takes.
    pub fn row(&self, i: usize) -> Row<'_> {
        Row {
            when: crate::date::When {
                day: self.day[i],
                end: self.day_end[i],
                precision: self.date_precision[i],
                minute: (self.minute[i] >= 0).then_some(self.minute[i] as u16),
                offset: (self.offset[i] != i16::MIN).then_some(self.offset[i]),
            },
            lon: self.lon[i],
            lat: self.lat[i],
            type_name: std::borrow::Cow::Borrowed(self.type_name(i)),
            category: std::borrow::Cow::Borrowed(self.category_name(i)),
            place: std::borrow::Cow::Borrowed(self.place_name(i)),
            loc_precision: self.loc_precision[i],
            fatalities: self.fatalities[i],
            injuries: self.injuries[i],
            disputed: self.disputed[i],
        }
    }

    /// Where incident `i`'s record is.
    pub fn record_ref(&self, i: usize) -> RecordRef {
        RecordRef {
            file: self.file[i],
            start: self.rec_start[i],
            len: self.rec_len[i],
            line: self.line[i],
        }
    }

    /// `[min_lon, min_lat, max_lon, max_lat]` of all incidents.
    pub fn bbox(&self) -> Option<[f64; 4]> {
        if self.is_empty() {
            return None;
        }
        let (x0, x1) = extent(&self.lon);
        let (y0, y1) = extent(&self.lat);
        Some([x0, y0, x1, y1])
    }

    /// Smallest and largest day over all spans, if any incident.
    pub fn day_range(&self) -> Option<(Day, Day)> {
        let first = match self.in_file_order {
            true => self.day.iter().copied().min()?,
            false => *self.day.first()?,
        };
        let last = self.day_end.iter().copied().max()?;
        Some((first, last))
    }

    /// Whether incidents are in date order (false only for a store from
    /// [`Builder::finish_in_file_order`] not yet put in order).
    pub fn is_in_date_order(&self) -> bool {
        !self.in_file_order
    }

    /// Puts a store from [`Builder::finish_in_file_order`] in date order (by day, minute,
    /// input order) and works out its type colours; nothing to do for any other.
    pub fn date_order(&mut self) {
        if self.in_file_order {
            self.sort(false);
        }
    }
}

/// The smallest and largest of `v` (infinities when empty; a NaN is passed over, as by
/// `f64::min`), in eight independent lanes the compiler turns into vector instructions (the
/// longitudes and latitudes of 10M incidents: 58 → 18 ms of CPU, measured with perf).
fn extent(v: &[f64]) -> (f64, f64) {
    const L: usize = 8;
    let (mut lo, mut hi) = ([f64::INFINITY; L], [f64::NEG_INFINITY; L]);
    let chunks = v.chunks_exact(L);
    let rest = chunks.remainder();
    for c in chunks {
        for j in 0..L {
            // Comparisons, not `f64::min`, whose NaN handling keeps the compiler from vector
            // instructions: the same answer (a NaN compares false and is passed over).
            lo[j] = if c[j] < lo[j] { c[j] } else { lo[j] };
            hi[j] = if c[j] > hi[j] { c[j] } else { hi[j] };
        }
    }
    let lo = lo.iter().chain(rest).fold(f64::INFINITY, |a, &x| a.min(x));
    let hi = hi
        .iter()
        .chain(rest)
        .fold(f64::NEG_INFINITY, |a, &x| a.max(x));
    (lo, hi)
}

/// `(a(), b())`, with `a` on a second thread when `wide` (work over millions of incidents;
/// starting a thread costs tens of microseconds).
pub(crate) fn join<A: Send, B>(
    wide: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B,
) -> (A, B) {
    if !wide {
        return (a(), b());
    }
    std::thread::scope(|sc| {
        let h = sc.spawn(a);
        let b = b();
        (h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)), b)
    })
}

/// Accumulates incidents (possibly on several threads, one builder each) before sorting.
#[derive(Debug, Default)]
pub struct Builder {
    s: Store,
}

impl Builder {
    /// A builder expecting about `n` incidents.
    pub fn with_capacity(n: usize) -> Builder {
        let mut b = Builder::default();
        let s = &mut b.s;
        s.day.reserve(n);
        s.day_end.reserve(n);
        s.minute.reserve(n);
        s.offset.reserve(n);
        s.date_precision.reserve(n);
        s.loc_precision.reserve(n);
        s.lon.reserve(n);
        s.lat.reserve(n);
        s.type_id.reserve(n);
        s.category.reserve(n);
        s.place.reserve(n);
        s.fatalities.reserve(n);
        s.injuries.reserve(n);
        s.disputed.reserve(n);
        s.file.reserve(n);
        s.rec_start.reserve(n);
        s.rec_len.reserve(n);
        s.line.reserve(n);
        s.categories.intern("");
        s.places.intern("");
        b
    }

    /// Interns type names ahead of the rows (their ids then follow this order).
    pub fn intern_types(&mut self, names: &[String]) {
        for n in names {
            self.s.types.intern(n);
        }
    }

    /// Number of incidents so far.
    pub fn len(&self) -> usize {
        self.s.day.len()
    }

    /// Whether nothing was pushed yet.
    pub fn is_empty(&self) -> bool {
        self.s.day.is_empty()
    }

    /// Adds a validated row and where it came from.
    pub fn push(&mut self, row: &Row<'_>, at: RecordRef) {
        let s = &mut self.s;
        s.day.push(row.when.day);
        s.day_end.push(row.when.end);
        s.minute.push(row.when.minute.map_or(-1, |m| m as i16));
        s.offset.push(row.when.offset.unwrap_or(i16::MIN));
        s.date_precision.push(row.when.precision);
        s.loc_precision.push(row.loc_precision);
        s.lon.push(row.lon);
        s.lat.push(row.lat);
        let k = s.types.intern(&row.type_name);
        s.type_id.push(k);
        let c = s.categories.intern(&row.category);
        s.category.push(c);
        let p = s.places.intern(&row.place);
        s.place.push(p);
        s.fatalities.push(row.fatalities);
        s.injuries.push(row.injuries);
        s.disputed.push(row.disputed);
        s.file.push(at.file);
        s.rec_start.push(at.start);
        s.rec_len.push(at.len);
        s.line.push(at.line);
    }

    /// Appends another builder's incidents, re-mapping its interned ids into ours.
    pub fn append(&mut self, mut other: Builder) {
        self.take_from(&mut other, 0);
    }

    /// Moves `other`'s incidents to the end of this builder, re-mapping its interned ids into
    /// ours and adding `lines` to their line numbers (an importer that parsed a piece of a file
    /// on its own counted lines from the piece's start). `other` is left empty, as
    /// [`Builder::with_capacity`] makes it, but keeps its room, so it can be filled again.
    pub fn take_from(&mut self, other: &mut Builder, lines: u32) {
        let o = &mut other.s;
        let remap = |mine: &mut Interner, theirs: &Interner| -> Vec<u32> {
            theirs.names().map(|n| mine.intern(n)).collect()
        };
        let (tk, tc, tp) = (
            remap(&mut self.s.types, &o.types),
            remap(&mut self.s.categories, &o.categories),
            remap(&mut self.s.places, &o.places),
        );
        let s = &mut self.s;
        s.type_id
            .extend(o.type_id.drain(..).map(|k| tk[k as usize]));
        s.category
            .extend(o.category.drain(..).map(|k| tc[k as usize]));
        s.place.extend(o.place.drain(..).map(|k| tp[k as usize]));
        s.line
            .extend(o.line.drain(..).map(|l| l.wrapping_add(lines)));
        s.day.append(&mut o.day);
        s.day_end.append(&mut o.day_end);
        s.minute.append(&mut o.minute);
        s.offset.append(&mut o.offset);
        s.date_precision.append(&mut o.date_precision);
        s.loc_precision.append(&mut o.loc_precision);
        s.lon.append(&mut o.lon);
        s.lat.append(&mut o.lat);
        s.fatalities.append(&mut o.fatalities);
        s.injuries.append(&mut o.injuries);
        s.disputed.append(&mut o.disputed);
        s.file.append(&mut o.file);
        s.rec_start.append(&mut o.rec_start);
        s.rec_len.append(&mut o.rec_len);
        o.types = Interner::default();
        o.categories = Interner::default();
        o.places = Interner::default();
        o.categories.intern("");
        o.places.intern("");
    }

    /// Sorts by (day, minute, input order) and returns the store owning `files`.
    pub fn finish(self, files: Vec<LoadedFile>) -> Store {
        let mut s = self.finish_in_file_order(files);
        s.sort(false);
        s
    }

    /// [`Builder::finish`], also giving the order: store index `j` holds the incident pushed
    /// `order[j]`-th.
    pub fn finish_ordered(self, files: Vec<LoadedFile>) -> (Store, Vec<u32>) {
        let mut s = self.finish_in_file_order(files);
        let order = s.sort(true);
        let n = s.len() as u32;
        (s, order.unwrap_or_else(|| (0..n).collect()))
    }

    /// The store owning `files`, its incidents in the order they were pushed and without type
    /// colours: enough for a summary (counts, day range, area), which then skips the date
    /// order's column moves (a fifth of loading 10M rows). [`Store::date_order`] before any
    /// other use.
    pub fn finish_in_file_order(self, files: Vec<LoadedFile>) -> Store {
        let mut s = self.s;
        s.files = files;
        s.in_file_order = true;
        s
    }
}

impl Store {
    /// Puts the incidents in date order and works out the type colours; gives the order if
    /// `want_order` and the incidents were not pushed in date order already.
    fn sort(&mut self, want_order: bool) -> Option<Vec<u32>> {
        let s = self;
        // What was read or marked in the old order is stale.
        s.file_order = OnceLock::new();
        s.text_cache = TextCache::default();
        s.evidence = EvidenceMarks::default();
        let n = s.day.len();
        let key = |i: usize| ((s.day[i] as i64) << 16) | (s.minute[i] as i64 + 1);
        let (colours, places) = join(
            n >= 1 << 20,
            || s.type_colours(),
            || sort::Places::of(n, key),
        );
        s.colours = colours;
        let Some(places) = places else {
            s.in_file_order = false;
            return None;
        };
        let order = want_order.then(|| places.order());
        // Two groups of columns on two threads (for a large store), of about the same time
        // (measured with 10M rows: narrow columns cost more a byte); within a group, columns of
        // one type one after the other (see `Places::apply`).
        fn apply<T: Copy + Default>(places: &sort::Places, columns: &mut [&mut Vec<T>]) {
            let mut spare = Vec::new();
            for v in columns {
                places.apply(v, &mut spare);
            }
        }
        let Store {
            day,
            day_end,
            minute,
            offset,
            date_precision,
            loc_precision,
            lon,
            lat,
            type_id,
            category,
            place,
            fatalities,
            injuries,
            disputed,
            file,
            rec_start,
            rec_len,
            line,
            ..
        } = &mut *s;
        let p = &places;
        join(
            n >= 1 << 20,
            move || {
                apply(p, &mut [lon, lat]);
                apply(p, &mut [rec_start]);
                apply(p, &mut [type_id, category, place]);
                apply(p, &mut [file]);
            },
            move || {
                apply(p, &mut [day, day_end, fatalities, injuries]);
                apply(p, &mut [minute, offset]);
                apply(p, &mut [date_precision]);
                apply(p, &mut [loc_precision]);
                apply(p, &mut [disputed]);
                apply(p, &mut [rec_len, line]);
            },
        );
        s.in_file_order = false;
        order
    }
}

#[cfg(test)]
mod tests {
    use super::{Builder, RecordRef, Store};

    /// Every column of incident `i`, names resolved.
    fn incident(s: &Store, i: usize) -> String {
        format!(
            "{:?} {} {} {} {:?} {}",
            s.row(i),
            s.file[i],
            s.rec_start[i],
            s.rec_len[i],
            s.loc_precision[i],
            s.line[i]
        )
    }

    /// A store left in file order reports the day range and area of its incidents (the first
    /// incident is not the earliest), and put in date order later it is the store
    /// `Builder::finish` makes at once, colours too.
    #[test]
    fn a_store_in_file_order_summarises_and_is_ordered_later() {
        let mut text = String::from("lat,lon,date,type\n");
        for (k, d) in ["2021-06-05", "2021-03-01", "2021-09-30", "2021-03-01"]
            .iter()
            .enumerate()
        {
            text += &format!("{},{},{d},{}\n", 30 + k, 44 - k, ["IED", "Drone"][k % 2]);
        }
        let src = Store::from_csv(&text);
        let builder = || {
            let mut b = Builder::with_capacity(0);
            // Pushed in file order (`src` came sorted): line 2 first, and so on.
            let mut rows: Vec<usize> = (0..src.len()).collect();
            rows.sort_by_key(|&i| src.line[i]);
            for (k, i) in rows.into_iter().enumerate() {
                let a = RecordRef {
                    file: 0,
                    start: k as u64,
                    len: 1,
                    line: k as u32 + 2,
                };
                b.push(&src.row(i), a);
            }
            b
        };
        let mut loaded = builder().finish_in_file_order(Vec::new());
        assert!(!loaded.is_in_date_order());
        assert_eq!(loaded.day[0], crate::date::parse_ymd("2021-06-05").unwrap());
        let day = |t| crate::date::parse_ymd(t).unwrap();
        assert_eq!(
            loaded.day_range(),
            Some((day("2021-03-01"), day("2021-09-30")))
        );
        assert_eq!(loaded.bbox(), Some([41.0, 30.0, 44.0, 33.0]));
        loaded.date_order();
        assert!(loaded.is_in_date_order());
        let at_once = builder().finish(Vec::new());
        for i in 0..at_once.len() {
            assert_eq!(incident(&loaded, i), incident(&at_once, i), "incident {i}");
        }
        assert_eq!(loaded.colours, at_once.colours);
        assert_eq!(loaded.day_range(), at_once.day_range());
    }

    /// The lanes of `extent` give what one running minimum and maximum give, for every length
    /// around the lane count and with a NaN passed over.
    #[test]
    fn extent_is_the_smallest_and_largest() {
        let mut rng = crate::synth::Rng::new(7);
        for n in 0..40 {
            let mut v: Vec<f64> = (0..n)
                .map(|_| (rng.next_u64() % 2001) as f64 / 10.0 - 100.0)
                .collect();
            if n % 5 == 3 {
                v[n / 2] = f64::NAN;
            }
            let one = v
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                    (a.min(x), b.max(x))
                });
            assert_eq!(super::extent(&v), one, "{v:?}");
        }
    }

    /// Builders taken into others (before and after pushes, and builders holding taken ones
    /// taken again) finish as one builder that had every incident pushed in the same order.
    #[test]
    fn taken_builders_finish_as_one() {
        let mut rng = crate::synth::Rng::new(0x51_7cc1_b727_220a);
        let types = ["IED", "Rocket attack", "Drone attack", "Interception"];
        let places = ["", "Ain al-Asad", "Baghdad", "Erbil", "Balad"];
        let mut text = String::from("lat,lon,date,type,location,time\n");
        for _ in 0..3000 {
            let r = rng.next_u64();
            let time = ["", "10:30", "00:05"][(r % 3) as usize];
            text += &format!(
                "{},{},2021-{:02}-{:02},{},{},{time}\n",
                30 + (r >> 8) % 7,
                40 + (r >> 16) % 7,
                1 + (r >> 24) % 12,
                1 + (r >> 32) % 28,
                types[((r >> 40) % 4) as usize],
                places[((r >> 44) % 5) as usize],
            );
        }
        let src = Store::from_csv(&text);
        let at = |i: usize| RecordRef {
            file: (i % 3) as u16,
            start: i as u64 * 10,
            len: i as u32,
            line: i as u32,
        };
        // Cut into pieces of random lengths; each piece its own builder with its own ids.
        let mut pieces = Vec::new();
        let mut i = 0;
        while i < src.len() {
            let n = (1 + rng.next_u64() % 700) as usize;
            let mut b = Builder::with_capacity(0);
            // Types interned in another order than the whole's.
            b.intern_types(&[types[(i / 7) % 4].to_string()]);
            let rows = i..(i + n).min(src.len());
            for j in rows.clone() {
                let mut a = at(j);
                a.line -= i as u32;
                b.push(&src.row(j), a);
            }
            pieces.push((b, rows));
            i += n;
        }
        // `seq`: the incidents in the order the whole gets them.
        let (mut whole, mut inner) = (Builder::with_capacity(0), Builder::with_capacity(0));
        let (mut seq, mut inner_seq) = (Vec::new(), Vec::new());
        for (k, (mut b, rows)) in pieces.into_iter().enumerate() {
            let lines = rows.start as u32;
            match k % 3 {
                // Rows pushed straight into the whole between taken pieces.
                0 => {
                    if k % 9 == 0 {
                        // The pieces gathered so far (several: their ids were mapped to
                        // `inner`'s, and are mapped again to the whole's).
                        whole.take_from(&mut inner, 0);
                        seq.append(&mut inner_seq);
                    }
                    for j in 0..b.len() {
                        let mut a = b.s.record_ref(j);
                        a.line += lines;
                        whole.push(&b.s.row(j), a);
                    }
                    seq.extend(rows);
                }
                1 => {
                    whole.take_from(&mut b, lines);
                    seq.extend(rows);
                }
                // Gathered in a builder that is itself taken later.
                _ => {
                    inner.take_from(&mut b, lines);
                    inner_seq.extend(rows);
                }
            }
            assert!(k % 3 == 0 || b.is_empty());
        }
        whole.take_from(&mut inner, 0);
        seq.append(&mut inner_seq);
        assert_eq!(whole.len(), src.len());
        let (got, order) = whole.finish_ordered(Vec::new());
        let mut one = Builder::with_capacity(0);
        for &j in &seq {
            one.push(&src.row(j), at(j));
        }
        let (expected, expected_order) = one.finish_ordered(Vec::new());
        assert_eq!(order, expected_order);
        for i in 0..got.len() {
            assert_eq!(incident(&got, i), incident(&expected, i), "incident {i}");
        }
        assert_eq!(got.colours, expected.colours);
        // And not only alike: each incident holds every column of the row pushed `order[j]`-th,
        // in (day, minute) order, ties in the order pushed.
        let key = |j: usize| (got.day[j], got.minute[j]);
        for j in 0..got.len() {
            let i = seq[order[j] as usize];
            assert_eq!(format!("{:?}", got.row(j)), format!("{:?}", src.row(i)));
            assert_eq!(got.loc_precision[j], src.loc_precision[i]);
            let (r, a) = (got.record_ref(j), at(i));
            assert_eq!(
                (r.file, r.start, r.len, r.line),
                (a.file, a.start, a.len, a.line)
            );
            if j > 0 {
                let tie_in_order = key(j - 1) == key(j) && order[j - 1] < order[j];
                assert!(key(j - 1) < key(j) || tie_in_order, "incident {j}");
            }
        }
    }
}
