//! Files as a source: CSV (ACLED included), GeoJSON, KML/KMZ, shapefiles and GeoPackages, loaded
//! once into the columnar store; every question is answered from it in this process. GeoJSON
//! and delimited text are written in place: a change splices the changed record's bytes (the
//! rest of the file copied around them, never parsed again), atomically, refused when the file
//! changed on disk; the store then follows without reading the file again.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use super::{
    Derived, Edit, Fetch, Find, Incidents, Key, OpenError, Report, Source, SourceError, Unplaced,
    Watch, Written,
};
use crate::cells::{Cell, CellSpan, store_cells};
use crate::details::Details;
use crate::edit::splice::{
    CsvStyle, Splice, csv_record, edit_feature, feature_cut, feature_insert, new_feature,
};
use crate::edit::{Draft, HistoryEntry, Schema};
use crate::evidence::EvidenceStore;
use crate::evidence::dir::DirStore;
use crate::import::{LoadResult, Overrides, load_paths_in_file_order};
use crate::progress::Control;
use crate::query::Filter;
use crate::query::counts::{Aggregates, Part, Summary, aggregates_of};
use crate::store::file::Stamp;
use crate::store::{Builder, Content, Format, LoadedFile, RecordRef, Store};

/// Loaded files.
pub struct Files {
    args: Vec<PathBuf>,
    name: String,
    ov: Overrides,
    state: Arc<RwLock<State>>,
    /// One write (or reload) at a time.
    writing: Mutex<()>,
    /// What the evidence marks of the store were worked out from: the store, and the stamp of
    /// each file's custody log.
    marked: Mutex<Option<(usize, Vec<Option<crate::store::file::Stamp>>)>>,
}

/// The incidents as they are now, with each one's key (kept across writes; a reload after
/// another program changed a file gives new keys, never an old key to another incident).
#[derive(Clone)]
struct State {
    store: Arc<Store>,
    derived: Arc<Derived>,
    keys: Arc<Vec<i64>>,
    next_key: i64,
    report: Arc<Report>,
    /// Rows without a position listed by [`Source::unplaced`]: key, file and byte where each
    /// starts (moved with the bytes by writes).
    unplaced: Arc<Vec<(i64, u16, u64)>>,
}

impl State {
    /// What was loaded, its keys counting from `first`.
    fn of(r: LoadResult, first: i64) -> State {
        let n = r.store.len() as i64;
        State {
            store: Arc::new(r.store),
            derived: Default::default(),
            keys: Arc::new((first..first + n).collect()),
            next_key: first + n,
            unplaced: Arc::default(),
            report: Arc::new(Report {
                problems: r.problems,
                errors: r.errors,
                skipped: r.skipped,
                timings: Some((r.parse_ms, r.index_ms)),
            }),
        }
    }

    fn incidents(&self, selection: crate::query::Selection) -> Incidents {
        Incidents {
            store: self.store.clone(),
            selection,
            keys: Some(self.keys.clone()),
            derived: self.derived.clone(),
        }
    }

    /// The store index of `key`.
    fn index(&self, key: Key) -> Result<usize, SourceError> {
        // Keys are store indices (from the first) until a write moves them.
        let at = key.0 - self.keys.first().copied().unwrap_or(0);
        if at >= 0 && (at as usize) < self.keys.len() && self.keys[at as usize] == key.0 {
            return Ok(at as usize);
        }
        self.keys
            .iter()
            .position(|&x| x == key.0)
            .ok_or(SourceError::NoSuchIncident(key))
    }
}

/// The files engine's opener: takes any arguments (it is asked last).
pub fn open(args: &[PathBuf], ov: &Overrides, ctl: &Control) -> Option<super::Opened> {
    let r = load_paths_in_file_order(args, ov, ctl);
    if r.cancelled {
        return Some(Err(OpenError::Cancelled));
    }
    Some(Ok(Arc::new(Files::with_overrides(
        args.to_vec(),
        r,
        ov.clone(),
    ))))
}

/// The files engine's check: every path exists.
pub fn check(args: &[PathBuf]) -> Option<Result<(), OpenError>> {
    Some(match args.iter().find(|p| !p.exists()) {
        Some(p) => Err(OpenError::NotFound(p.clone())),
        None => Ok(()),
    })
}

/// Whether records of this format are written in place (and the file is not sealed in a BagIt
/// bag, whose manifest an edit would break).
fn writable(f: &LoadedFile) -> bool {
    matches!(f.format, Format::GeoJson | Format::Csv)
        && matches!(f.content, Content::Disk { .. })
        && !in_bag(f)
}

/// Whether the file is a bag's data (`BAG/data/FILE`, beside `BAG/bagit.txt`).
fn in_bag(f: &LoadedFile) -> bool {
    f.path
        .parent()
        .filter(|d| d.file_name().is_some_and(|n| n == "data"))
        .and_then(|d| d.parent())
        .is_some_and(crate::import::bag::is_bag)
}

/// The schema of a loaded file.
fn schema_of(f: &LoadedFile) -> Schema {
    if f.columns.is_empty() && f.format == Format::GeoJson {
        return Schema::new_file();
    }
    Schema::of(f.columns.clone(), f.map.clone(), f.format == Format::Csv)
}

impl Files {
    /// The source of what was loaded from `args`.
    pub fn new(args: Vec<PathBuf>, r: LoadResult) -> Files {
        Files::with_overrides(args, r, Overrides::default())
    }

    fn with_overrides(args: Vec<PathBuf>, r: LoadResult, ov: Overrides) -> Files {
        let name = args
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        Files {
            args,
            name,
            ov,
            state: Arc::new(RwLock::new(State::of(r, 0))),
            writing: Mutex::new(()),
            marked: Mutex::new(None),
        }
    }

    /// The incidents as loaded (and as this source wrote them since), their evidence marks
    /// as the custody logs say now.
    fn state(&self) -> State {
        let st = self.current();
        self.mark_evidence(&st.store);
        st
    }

    /// Marks the incidents with evidence attached, when the store or a custody log changed
    /// since the marks were worked out (a stat of each log otherwise).
    fn mark_evidence(&self, store: &Arc<Store>) {
        let logs: Vec<PathBuf> = store
            .files
            .iter()
            .map(|f| DirStore::beside(&f.path).log())
            .collect();
        let stamps: Vec<Option<crate::store::file::Stamp>> = logs
            .iter()
            .map(|p| {
                // Only a plain file is opened (a pipe there would block every reader).
                std::fs::symlink_metadata(p)
                    .is_ok_and(|m| m.is_file())
                    .then(|| std::fs::File::open(p).ok())
                    .flatten()
                    .and_then(|f| crate::store::file::Stamp::of(&f).ok())
            })
            .collect();
        let now = (Arc::as_ptr(store) as usize, stamps);
        let mut marked = self.marked.lock().unwrap_or_else(|p| p.into_inner());
        if marked.as_ref() == Some(&now) {
            return;
        }
        store.evidence.set(evidence_marks(store));
        *marked = Some(now);
    }

    /// The state held, its incidents in date order: a load leaves them in file order (a
    /// summary needs none, and `check` then skips the order's column moves); the first reader
    /// that needs the order puts them in it, once.
    fn current(&self) -> State {
        let st = self.loaded();
        if st.store.is_in_date_order() {
            return st;
        }
        drop(st);
        let mut w = self.state.write().unwrap_or_else(|p| p.into_inner());
        if !w.store.is_in_date_order() {
            let t = std::time::Instant::now();
            Arc::make_mut(&mut w.store).date_order();
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            let mut report = (*w.report).clone();
            report.timings = report.timings.map(|(parse, _)| (parse, ms));
            w.report = Arc::new(report);
        }
        w.clone()
    }

    /// The state held, as it is (its incidents perhaps in file order still).
    fn loaded(&self) -> State {
        self.state.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The loaded store, as it is now.
    pub fn store(&self) -> Arc<Store> {
        self.state().store
    }

    fn select(&self, st: &State, f: &Filter) -> Result<crate::query::Selection, SourceError> {
        Ok(st.store.select(f)?)
    }
}

/// Whether a problem says the row had no position (what placing it mends).
fn no_position(message: &str) -> bool {
    matches!(
        message,
        "missing latitude" | "missing longitude" | "feature has no geometry"
    )
}

impl State {
    /// The file and byte where the unplaced row `key` starts.
    fn unplaced_at(&self, key: Key) -> Option<(usize, usize)> {
        self.unplaced
            .iter()
            .find(|u| u.0 == key.0)
            .map(|&(_, f, start)| (f as usize, start as usize))
    }
}

/// The record that starts at byte `start` of a file (a feature, or a delimited-text record).
fn record_from(file: &LoadedFile, start: usize) -> Option<Vec<u8>> {
    let Content::Disk { stamp, .. } = &file.content else {
        return None;
    };
    // A record is read from a window after its start (16 MiB: far more than any row).
    let n = (stamp.len as usize).saturating_sub(start).min(16 << 20);
    let mut bytes = Vec::new();
    file.read_into(start as u64, n, &mut bytes).ok()?;
    let r = if file.format == Format::GeoJson {
        0..crate::edit::splice::value_end_at(&bytes, 0)?
    } else {
        crate::edit::splice::record_at(&bytes, 0, file.delimiter)?
    };
    Some(bytes[r].to_vec())
}

/// Whether a file of `store` is no longer the file loaded (another program saved it).
fn changed_on_disk(store: &Store) -> bool {
    disk_changes(&read_from_disk(store)).is_some()
}

/// The files of `store` read from disk, with the stamp each had when read.
fn read_from_disk(store: &Store) -> Vec<(PathBuf, Stamp)> {
    store
        .files
        .iter()
        .filter_map(|f| match &f.content {
            Content::Disk { stamp, .. } => Some((f.path.clone(), *stamp)),
            Content::Memory(_) => None,
        })
        .collect()
}

/// Each file's stamp now (`None`: it cannot be opened), if any differs from when it was read.
fn disk_changes(files: &[(PathBuf, Stamp)]) -> Option<Vec<Option<Stamp>>> {
    let now: Vec<Option<Stamp>> = files
        .iter()
        .map(|(p, _)| std::fs::File::open(p).and_then(|h| Stamp::of(&h)).ok())
        .collect();
    let changed = now.iter().zip(files).any(|(n, (_, was))| *n != Some(*was));
    changed.then_some(now)
}

/// The files' change feed: another program saving one of them (this source's own writes are
/// not news: the state already holds them). Each new state of the files on disk is told once:
/// a reading again that was cancelled leaves them differing from what is held, and is not
/// started again until they change again.
struct FileWatch {
    state: Arc<RwLock<State>>,
    /// The files' stamps on disk last told as a change.
    told: Option<Vec<Option<Stamp>>>,
}

/// How often the files are looked at.
const POLL: std::time::Duration = std::time::Duration::from_millis(200);

impl Watch for FileWatch {
    fn wait(&mut self, timeout: std::time::Duration) -> super::Change {
        let end = std::time::Instant::now() + timeout;
        loop {
            // The paths and stamps copied out under the lock, the files looked at outside it
            // (no clone of the store either: putting it in date order then never copies it).
            let files = read_from_disk(&self.state.read().unwrap_or_else(|p| p.into_inner()).store);
            match disk_changes(&files) {
                Some(now) if self.told.as_ref() != Some(&now) => {
                    self.told = Some(now);
                    return super::Change::Changed;
                }
                Some(_) => {}
                None => self.told = None,
            }
            let now = std::time::Instant::now();
            if now >= end {
                return super::Change::Quiet;
            }
            std::thread::sleep(POLL.min(end - now));
        }
    }
}

/// How `check` names a loaded file's format.
fn format_name(f: &LoadedFile) -> &'static str {
    match f.format {
        Format::Csv if f.map.acled => "acled-csv",
        Format::Csv => "csv",
        Format::GeoJson => "geojson",
        Format::Kml | Format::Kmz => "kml",
        Format::Shapefile => "shapefile",
        Format::GeoPackage => "geopackage",
    }
}

impl Source for Files {
    fn name(&self) -> &str {
        &self.name
    }

    fn arguments(&self) -> Vec<PathBuf> {
        self.args.clone()
    }

    fn report(&self) -> Arc<Report> {
        self.loaded().report
    }

    fn summary(&self, _ctl: &Control) -> Result<Summary, SourceError> {
        // Counts, ranges and area need no order: a store just loaded is summarised as it is.
        let st = self.loaded();
        let s = &*st.store;
        // Dates and area on a second thread for a large store (memory-bound passes over
        // columns of 10M incidents took 0.1 s on one core).
        let ((days, bbox), (counts, per_file, disputed)) = crate::store::join(
            s.len() >= 1 << 20,
            || (s.day_range(), s.bbox()),
            || {
                let mut counts = vec![0u64; s.types.len()];
                for &k in &s.type_id {
                    counts[k as usize] += 1;
                }
                let mut per_file = vec![0u64; s.files.len()];
                for &f in &s.file {
                    per_file[f as usize] += 1;
                }
                let disputed = s.disputed.iter().filter(|&&d| d).count() as u64;
                (counts, per_file, disputed)
            },
        );
        let types = s
            .types
            .names()
            .zip(counts)
            .filter(|(_, c)| *c > 0)
            .map(|(n, c)| (n.to_string(), c))
            .collect();
        let files = s
            .files
            .iter()
            .zip(per_file)
            .map(|(f, n)| Part {
                file: f.name.clone(),
                format: format_name(f).into(),
                incidents: n,
            })
            .collect();
        let mut sum = Summary::new(s.len() as u64, disputed, days, types, bbox, files);
        sum.skipped = st.report.skipped as u64;
        Ok(sum)
    }

    fn incidents(
        &self,
        filter: &Filter,
        _fetch: &Fetch,
        _ctl: &Control,
    ) -> Result<Incidents, SourceError> {
        let st = self.state();
        let sel = self.select(&st, filter)?;
        Ok(st.incidents(sel))
    }

    fn aggregates(&self, filter: &Filter, _ctl: &Control) -> Result<Aggregates, SourceError> {
        let st = self.state();
        let facet = self.select(
            &st,
            &Filter {
                types: Vec::new(),
                ..filter.clone()
            },
        )?;
        let undated = self.select(
            &st,
            &Filter {
                from: None,
                to: None,
                ..filter.clone()
            },
        )?;
        Ok(aggregates_of(&st.store, &facet, &undated))
    }

    fn cells(
        &self,
        filter: &Filter,
        level: u32,
        span: CellSpan,
        _ctl: &Control,
    ) -> Result<Vec<Cell>, SourceError> {
        let st = self.state();
        let sel = self.select(&st, filter)?;
        let index = st.incidents(Default::default()).index();
        Ok(store_cells(&st.store, &index, &sel, span, level))
    }

    fn details(&self, key: Key, _ctl: &Control) -> Result<Details, SourceError> {
        let st = self.state();
        let i = st.index(key)?;
        Ok(crate::details::details(&st.store, i)?)
    }

    fn reload(&self, ctl: &Control) -> Result<bool, SourceError> {
        let _one = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        let st = self.loaded();
        if !changed_on_disk(&st.store) {
            return Ok(false);
        }
        let r = load_paths_in_file_order(&self.args, &self.ov, ctl);
        if r.cancelled {
            return Err(SourceError::Cancelled);
        }
        *self.state.write().unwrap_or_else(|p| p.into_inner()) = State::of(r, st.next_key);
        Ok(true)
    }

    fn watch(&self) -> Option<Box<dyn Watch>> {
        Some(Box::new(FileWatch {
            state: self.state.clone(),
            told: None,
        }))
    }

    fn read_only(&self, _ctl: &Control) -> Option<String> {
        // Only the files are read: no date order needed (the window asks from its thread).
        let st = self.loaded();
        if st.store.files.iter().any(writable) {
            return None;
        }
        if st.store.files.iter().any(in_bag) {
            return Some(
                "a case bundle is sealed (an edit would break its BagIt manifest): save a copy as GeoJSON"
                    .into(),
            );
        }
        Some(
            "these files cannot be written in place (only GeoJSON and CSV are): save a copy as GeoJSON"
                .into(),
        )
    }

    fn schema(&self, _ctl: &Control) -> Result<Schema, SourceError> {
        // Only the files are read: no date order needed (the window asks from its thread).
        let st = self.loaded();
        Ok(st
            .store
            .files
            .iter()
            .find(|f| writable(f))
            .map_or_else(Schema::new_file, schema_of))
    }

    fn find(&self, by: &Find, ctl: &Control) -> Result<Vec<Key>, SourceError> {
        let st = self.state();
        let s = &*st.store;
        let found: Vec<usize> = match by {
            Find::Line(n) => (0..s.len()).filter(|&i| s.line[i] == *n).collect(),
            Find::Id(id) => {
                let all: Vec<u32> = (0..s.len() as u32).collect();
                let mut v = Vec::new();
                for (k, (i, r)) in s.records(&all).enumerate() {
                    if k % 8192 == 0 && ctl.cancelled() {
                        return Err(SourceError::Cancelled);
                    }
                    if crate::links::incident_id(&r?.fields).as_deref() == Some(id.as_str()) {
                        v.push(i as usize);
                    }
                }
                v
            }
        };
        Ok(found.into_iter().map(|i| Key(st.keys[i])).collect())
    }

    fn unplaced(&self, ctl: &Control) -> Result<Vec<Unplaced>, SourceError> {
        let _one = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        let st = self.current();
        let mut out = Vec::new();
        let mut found = Vec::new();
        for (f, file) in st.store.files.iter().enumerate() {
            let lines: Vec<u64> = st
                .report
                .problems
                .iter()
                .filter(|p| p.file == file.name && p.skipped && no_position(&p.message))
                .map(|p| p.line)
                .collect();
            if lines.is_empty() || !writable(file) {
                continue;
            }
            if ctl.cancelled() {
                return Err(SourceError::Cancelled);
            }
            let bytes = whole(file)?;
            let geojson = file.format == Format::GeoJson;
            let schema = schema_of(file);
            for line in lines {
                let Some(r) =
                    crate::edit::splice::record_at_line(&bytes, line, geojson, file.delimiter)
                else {
                    continue;
                };
                let raw = &bytes[r.clone()];
                let draft =
                    Draft::of_record(&crate::store::record::parse(file, raw), f64::NAN, f64::NAN);
                let place = draft.role_text(&schema, crate::model::Role::Place);
                let area = draft.role_text(&schema, crate::model::Role::Area);
                if place.trim().is_empty() && area.trim().is_empty() {
                    continue;
                }
                found.push((f as u16, r.start as u64));
                out.push(Unplaced {
                    key: Key(-1),
                    version: crate::edit::record_version(raw),
                    draft,
                    origin: format!("{}:{line}", file.name),
                    place,
                    area,
                });
            }
        }
        // Keys of their own (after every store key), kept in the state for the writes.
        let mut new = st.clone();
        let first = new.next_key;
        new.next_key += out.len() as i64;
        for (k, u) in out.iter_mut().enumerate() {
            u.key = Key(first + k as i64);
        }
        new.unplaced = Arc::new(
            found
                .into_iter()
                .enumerate()
                .map(|(k, (f, start))| (first + k as i64, f, start))
                .collect(),
        );
        *self.state.write().unwrap_or_else(|p| p.into_inner()) = new;
        Ok(out)
    }

    fn draft(&self, key: Key, _ctl: &Control) -> Result<(Draft, i64), SourceError> {
        let st = self.state();
        if let Some((f, start)) = st.unplaced_at(key) {
            let file = st
                .store
                .files
                .get(f)
                .ok_or(SourceError::NoSuchIncident(key))?;
            let raw = record_from(file, start).ok_or(SourceError::NoSuchIncident(key))?;
            let record = crate::store::record::parse(file, &raw);
            return Ok((
                Draft::of_record(&record, f64::NAN, f64::NAN),
                crate::edit::record_version(&raw),
            ));
        }
        let i = st.index(key)?;
        let raw = st.store.raw_record(i)?;
        let f = &st.store.files[st.store.file[i] as usize];
        let record = crate::store::record::parse(f, &raw);
        Ok((
            Draft::of_record(&record, st.store.lon[i], st.store.lat[i]),
            crate::edit::record_version(&raw),
        ))
    }

    fn write(&self, edit: &Edit, editor: &str, ctl: &Control) -> Result<Written, SourceError> {
        let _one = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        if ctl.cancelled() {
            return Err(SourceError::Cancelled);
        }
        // The state as loaded: a file changed since is refused below, not read again here.
        let st = self.current();
        let plan = plan(&st, edit)?;
        let file = &st.store.files[plan.file as usize];
        let Content::Disk { stamp, .. } = &file.content else {
            return Err(SourceError::ReadOnly(format!(
                "{} is not a file on disk",
                file.name
            )));
        };
        // The history must be able to take the entry before the file is written (a folder or
        // a pipe there used to be found only after the edit was saved).
        crate::edit::check_history(&file.path)
            .map_err(|e| SourceError::Write(format!("nothing was written: {e}")))?;
        let done = crate::edit::write_spliced(&file.path, &file.name, *stamp, &plan.splice)?;
        // Named as the history names it from now on: its own id, else where it is now.
        let incident = match &plan.record {
            Some(r) => plan
                .after
                .as_ref()
                .and_then(Draft::own_id)
                .unwrap_or_else(|| {
                    let nl = memchr::memchr_iter(b'\n', &plan.splice.bytes[..r.at]).count();
                    format!("{}:{}", file.name, done.lines_before + nl as u64 + 1)
                }),
            None => plan.incident.clone(),
        };
        let entry = HistoryEntry {
            at: crate::edit::utc_now(),
            editor: crate::edit::editor_name(editor),
            op: plan.op.into(),
            incident,
            before: plan.before.as_ref().map(crate::edit::history_value),
            after: plan.after.as_ref().map(crate::edit::history_value),
        };
        // The file is written: its history line at once (before the store is rebuilt, which
        // takes a second for millions of rows); one that cannot be appended is said, not undone.
        let history = crate::edit::append_history(&file.path, &entry);
        let (new, key) = self.follow(&st, &plan, done)?;
        let version = plan
            .record
            .as_ref()
            .map_or(0, |r| crate::edit::record_version(&r.bytes));
        *self.state.write().unwrap_or_else(|p| p.into_inner()) = new;
        history
            .map_err(|e| SourceError::Write(format!("written, but the history was not: {e}")))?;
        Ok(Written { key, version })
    }

    fn history(&self, key: Option<Key>, _ctl: &Control) -> Result<Vec<HistoryEntry>, SourceError> {
        let st = self.state();
        let id = match key {
            Some(k) => Some(incident_name(&st.store, st.index(k)?)),
            None => None,
        };
        let mut out = Vec::new();
        for f in &st.store.files {
            let h = crate::edit::read_history(&f.path)
                .map_err(|e| SourceError::Write(format!("{}: {e}", f.name)))?;
            out.extend(
                h.into_iter()
                    .filter(|e| id.as_ref().is_none_or(|i| &e.incident == i)),
            );
        }
        Ok(out)
    }

    fn evidence_stores(&self) -> Vec<Arc<dyn EvidenceStore>> {
        let st = self.state();
        let mut seen = std::collections::BTreeSet::new();
        st.store
            .files
            .iter()
            .filter(|f| seen.insert(f.path.clone()))
            .map(|f| Arc::new(DirStore::beside(&f.path)) as Arc<dyn EvidenceStore>)
            .collect()
    }

    fn evidence_of(
        &self,
        key: Key,
        _ctl: &Control,
    ) -> Result<(Arc<dyn EvidenceStore>, String), SourceError> {
        let st = self.state();
        let i = st.index(key)?;
        let file = &st.store.files[st.store.file[i] as usize];
        Ok((
            Arc::new(DirStore::beside(&file.path)),
            evidence_name(&st.store, i),
        ))
    }
}

/// Which incidents of `store` have evidence attached, by store index (empty when none).
fn evidence_marks(store: &Store) -> Vec<bool> {
    let ctl = Control::default();
    let mut marks = Vec::new();
    for (f, file) in store.files.iter().enumerate() {
        let ev = DirStore::beside(&file.path);
        let names: std::collections::HashSet<String> = ev
            .lines(&ctl)
            .ok()
            .and_then(|l| crate::evidence::attached(&ev.location(), &l).ok())
            .unwrap_or_default()
            .into_iter()
            .map(|a| a.incident)
            .collect();
        if names.is_empty() {
            continue;
        }
        let mine: Vec<u32> = (0..store.len() as u32)
            .filter(|&i| store.file[i as usize] as usize == f)
            .collect();
        marks.resize(store.len(), false);
        for (i, r) in store.records(&mine) {
            let name = r
                .ok()
                .and_then(|r| crate::links::incident_id(&r.fields))
                .unwrap_or_else(|| line_name(file, store.line[i as usize]));
            if names.contains(&name) {
                marks[i as usize] = true;
            }
        }
    }
    marks
}

/// An incident's name in its evidence store: its own id, else its file's name (the store is
/// beside the file: where the folder is does not matter) and its line.
fn evidence_name(store: &Store, i: usize) -> String {
    own_id_else(store, i, || {
        line_name(&store.files[store.file[i] as usize], store.line[i])
    })
}

/// An incident's own id (its record's `id` field), else what `otherwise` names it by.
fn own_id_else(store: &Store, i: usize, otherwise: impl FnOnce() -> String) -> String {
    store
        .record(i)
        .ok()
        .and_then(|r| crate::links::incident_id(&r.fields))
        .unwrap_or_else(otherwise)
}

/// `FILE:LINE`, with the file's name only.
fn line_name(file: &crate::store::LoadedFile, line: u32) -> String {
    let name = file
        .path
        .file_name()
        .map_or_else(|| file.name.clone(), |n| n.to_string_lossy().into_owned());
    format!("{name}:{line}")
}

/// An incident's name in the history: its own id, else its file and line.
fn incident_name(store: &Store, i: usize) -> String {
    own_id_else(store, i, || {
        format!(
            "{}:{}",
            store.files[store.file[i] as usize].name, store.line[i]
        )
    })
}

/// A record a write puts in the file: its bytes, where they start in the splice, its row.
struct NewRecord {
    bytes: Vec<u8>,
    at: usize,
    row: crate::model::Row<'static>,
}

/// A write, worked out before anything is written.
struct Plan {
    file: u16,
    splice: Splice,
    /// The bytes the splice replaces.
    old: Vec<u8>,
    /// The incident removed or replaced (store index).
    remove: Option<usize>,
    /// The record written (none for a deletion).
    record: Option<NewRecord>,
    /// A new field name a GeoJSON file gains.
    new_columns: Vec<String>,
    op: &'static str,
    incident: String,
    before: Option<Draft>,
    after: Option<Draft>,
    key: Option<i64>,
    /// A row skipped for lack of a position that this write places: its line (its problem
    /// goes).
    placed: Option<u64>,
    /// Its key among the unplaced rows.
    placed_key: Option<i64>,
}

/// Works out a change: the incident (and its file), its checks, the splice.
fn plan(st: &State, edit: &Edit) -> Result<Plan, SourceError> {
    let s = &*st.store;
    match edit {
        Edit::Insert(draft) => {
            let f = s.files.iter().position(writable).ok_or_else(|| {
                SourceError::ReadOnly(
                    "no file here is written in place (only GeoJSON and CSV are)".into(),
                )
            })?;
            let name = &s.files[f].name;
            if let Some(p) = st
                .report
                .problems
                .iter()
                .find(|p| p.file == *name && p.message == crate::import::csv::UNCLOSED_QUOTE)
            {
                return Err(crate::edit::SpliceError::OpenQuote(p.line).into());
            }
            insert_plan(s, f as u16, draft)
        }
        Edit::Update {
            key,
            version,
            draft,
        } if st.unplaced_at(*key).is_some() => place_plan(st, *key, *version, draft),
        Edit::Update {
            key,
            version,
            draft,
        } => {
            let i = st.index(*key)?;
            let raw = current(st, i, *key, *version)?;
            update_plan(s, i, raw, draft, key.0)
        }
        Edit::Delete { key, version } => {
            let i = st.index(*key)?;
            let raw = current(st, i, *key, *version)?;
            delete_plan(s, i, raw, key.0)
        }
    }
}

/// The record of incident `i` as the file holds it now, when it is still at `version` (else
/// the conflict, with theirs).
fn current(st: &State, i: usize, key: Key, version: i64) -> Result<Vec<u8>, SourceError> {
    let s = &*st.store;
    let f = &s.files[s.file[i] as usize];
    in_place(f)?;
    let raw = s.raw_record(i)?;
    let now = crate::edit::record_version(&raw);
    if now != version {
        let theirs = Draft::of_record(&crate::store::record::parse(f, &raw), s.lon[i], s.lat[i]);
        return Err(SourceError::Conflict {
            key,
            theirs: Some(Box::new(theirs)),
            version: now,
        });
    }
    Ok(raw)
}

/// A record's body and the end of its line that it holds (delimited text keeps its own; the
/// reader ends a CRLF record after its `\r`, the `\n` then follows the record).
fn split_eol(raw: &[u8]) -> (&[u8], &[u8]) {
    let n = raw.len();
    if raw.ends_with(b"\r\n") {
        (&raw[..n - 2], &raw[n - 2..])
    } else if raw.ends_with(b"\n") || raw.ends_with(b"\r") {
        (&raw[..n - 1], &raw[n - 1..])
    } else {
        (raw, &[])
    }
}

/// The whole of a file (GeoJSON: to find where features go), checked to be the file loaded.
fn whole(f: &LoadedFile) -> Result<Vec<u8>, SourceError> {
    let Content::Disk { stamp, .. } = &f.content else {
        return Err(SourceError::ReadOnly(format!(
            "{} is not a file on disk",
            f.name
        )));
    };
    let mut out = Vec::new();
    f.read_into(0, stamp.len as usize, &mut out)?;
    Ok(out)
}

/// The style of a delimited file (its first 64 KiB tell the line ending).
fn csv_style(f: &LoadedFile) -> Result<CsvStyle, SourceError> {
    let Content::Disk { stamp, .. } = &f.content else {
        return Err(SourceError::ReadOnly(format!(
            "{} is not a file on disk",
            f.name
        )));
    };
    let mut head = Vec::new();
    f.read_into(0, (stamp.len as usize).min(64 << 10), &mut head)?;
    Ok(CsvStyle::of(&head, f.delimiter, f.utf8))
}

fn insert_plan(s: &Store, f: u16, draft: &Draft) -> Result<Plan, SourceError> {
    let file = &s.files[f as usize];
    let schema = schema_of(file);
    let row = draft.check(&schema).map_err(SourceError::Invalid)?;
    let saved = draft.saved(&schema);
    let (splice, at, bytes) = match file.format {
        Format::GeoJson => {
            let b = whole(file)?;
            let feature = new_feature(&saved, crate::edit::splice::JsonStyle::of(&b));
            let (splice, at) = feature_insert(&b, feature.clone())?;
            (splice, at, feature)
        }
        _ => {
            let style = csv_style(file)?;
            let record = csv_record(&file.columns, None, &saved, style)?;
            let Content::Disk { stamp, .. } = &file.content else {
                return Err(SourceError::ReadOnly(file.name.clone()));
            };
            let len = stamp.len as usize;
            let mut last = Vec::new();
            file.read_into(stamp.len.saturating_sub(1), len.min(1), &mut last)?;
            let mut bytes = Vec::new();
            if !last.is_empty() && last != b"\n" {
                bytes.extend_from_slice(style.eol());
            }
            let at = bytes.len();
            let mut rec = record;
            rec.extend_from_slice(style.eol());
            bytes.extend_from_slice(&rec);
            (
                Splice {
                    range: len..len,
                    bytes,
                },
                at,
                rec,
            )
        }
    };
    let new_columns = new_columns(&saved, file);
    let incident = incident_of(draft).unwrap_or_else(|| format!("{}:new", file.name));
    Ok(Plan {
        file: f,
        splice,
        old: Vec::new(),
        remove: None,
        record: Some(NewRecord {
            bytes,
            at,
            row: owned(row),
        }),
        new_columns,
        op: "insert",
        incident,
        before: None,
        after: Some(saved),
        key: None,
        placed: None,
        placed_key: None,
    })
}

fn update_plan(
    s: &Store,
    i: usize,
    raw: Vec<u8>,
    draft: &Draft,
    key: i64,
) -> Result<Plan, SourceError> {
    let f = s.file[i];
    let file = &s.files[f as usize];
    let (row, saved, bytes) = rewritten(file, &raw, draft)?;
    let start = s.rec_start[i] as usize;
    let before = Draft::of_record(&crate::store::record::parse(file, &raw), s.lon[i], s.lat[i]);
    let new_columns = new_columns(&saved, file);
    Ok(Plan {
        file: f,
        splice: Splice {
            range: start..start + raw.len(),
            bytes: bytes.clone(),
        },
        old: raw,
        remove: Some(i),
        record: Some(NewRecord {
            bytes,
            at: 0,
            row: owned(row),
        }),
        new_columns,
        op: "update",
        incident: incident_of(&before).unwrap_or_else(|| incident_name(s, i)),
        before: Some(before),
        after: Some(saved),
        key: Some(key),
        placed: None,
        placed_key: None,
    })
}

fn delete_plan(s: &Store, i: usize, raw: Vec<u8>, key: i64) -> Result<Plan, SourceError> {
    let f = s.file[i];
    let file = &s.files[f as usize];
    let start = s.rec_start[i] as usize;
    let splice = match file.format {
        Format::GeoJson => feature_cut(&whole(file)?, start..start + raw.len())?,
        _ => {
            // A CRLF record ends at its `\r`: its `\n` goes with it.
            let mut end = start + raw.len();
            let len = match &file.content {
                Content::Disk { stamp, .. } => stamp.len as usize,
                Content::Memory(b) => b.len(),
            };
            if raw.ends_with(b"\r") && end < len {
                let mut next = Vec::new();
                file.read_into(end as u64, 1, &mut next)?;
                if next == b"\n" {
                    end += 1;
                }
            }
            Splice {
                range: start..end,
                bytes: Vec::new(),
            }
        }
    };
    let mut old = Vec::new();
    file.read_into(splice.range.start as u64, splice.range.len(), &mut old)?;
    let before = Draft::of_record(&crate::store::record::parse(file, &raw), s.lon[i], s.lat[i]);
    Ok(Plan {
        file: f,
        splice,
        old,
        remove: Some(i),
        record: None,
        new_columns: Vec::new(),
        op: "delete",
        incident: incident_of(&before).unwrap_or_else(|| incident_name(s, i)),
        before: Some(before),
        after: None,
        key: Some(key),
        placed: None,
        placed_key: None,
    })
}

/// Places a row that had no position: the record replaced in place (it was never loaded), the
/// row then loaded.
fn place_plan(st: &State, key: Key, version: i64, draft: &Draft) -> Result<Plan, SourceError> {
    let s = &*st.store;
    let (f, start) = st
        .unplaced_at(key)
        .ok_or(SourceError::NoSuchIncident(key))?;
    let file = s.files.get(f).ok_or(SourceError::NoSuchIncident(key))?;
    in_place(file)?;
    let raw = record_from(file, start).ok_or(SourceError::NoSuchIncident(key))?;
    let before = Draft::of_record(&crate::store::record::parse(file, &raw), f64::NAN, f64::NAN);
    let now = crate::edit::record_version(&raw);
    if now != version {
        return Err(SourceError::Conflict {
            key,
            theirs: Some(Box::new(before)),
            version: now,
        });
    }
    let (row, saved, bytes) = rewritten(file, &raw, draft)?;
    let mut lines = Vec::new();
    file.read_into(0, start, &mut lines)?;
    let line = memchr::memchr_iter(b'\n', &lines).count() as u64 + 1;
    let new_columns = new_columns(&saved, file);
    Ok(Plan {
        file: f as u16,
        splice: Splice {
            range: start..start + raw.len(),
            bytes: bytes.clone(),
        },
        old: raw,
        remove: None,
        record: Some(NewRecord {
            bytes,
            at: 0,
            row: owned(row),
        }),
        new_columns,
        op: "update",
        incident: incident_of(&before).unwrap_or_else(|| format!("{}:{line}", file.name)),
        before: Some(before),
        after: Some(saved),
        // The row keeps its key once placed.
        key: Some(key.0),
        placed: Some(line),
        placed_key: Some(key.0),
    })
}

/// The record `raw` of `file` rewritten as `draft` says (checked first): the validated row,
/// the draft as saved, and the new bytes (a feature's changed values spliced in; a row's
/// unchanged fields kept as they were, with its line ending).
fn rewritten(
    file: &LoadedFile,
    raw: &[u8],
    draft: &Draft,
) -> Result<(crate::model::Row<'static>, Draft, Vec<u8>), SourceError> {
    let schema = schema_of(file);
    let row = draft.check(&schema).map_err(SourceError::Invalid)?;
    let saved = draft.saved(&schema);
    let bytes = match file.format {
        Format::GeoJson => edit_feature(raw, &saved)?,
        _ => {
            let (body, eol) = split_eol(raw);
            let mut b = csv_record(&file.columns, Some(body), &saved, csv_style(file)?)?;
            b.extend_from_slice(eol);
            b
        }
    };
    Ok((row, saved, bytes))
}

/// The fields of `saved` that `file` has no column for yet (a GeoJSON file gains them).
fn new_columns(saved: &Draft, file: &LoadedFile) -> Vec<String> {
    saved
        .fields
        .iter()
        .map(|(n, _)| n.clone())
        .filter(|n| !file.columns.contains(n))
        .collect()
}

/// Whether `file` is written in place; the reason when it is not.
fn in_place(file: &LoadedFile) -> Result<(), SourceError> {
    if writable(file) {
        return Ok(());
    }
    if in_bag(file) {
        return Err(SourceError::ReadOnly(format!(
            "{} is sealed in a BagIt bag (an edit would break its manifest): save a copy as GeoJSON",
            file.name
        )));
    }
    Err(SourceError::ReadOnly(format!(
        "{} cannot be written in place (only GeoJSON and CSV are): save a copy as GeoJSON",
        file.name
    )))
}

/// A draft's own id (its `id`-like field), if it has one.
fn incident_of(d: &Draft) -> Option<String> {
    crate::links::ID_NAMES
        .iter()
        .map(|n| d.text(n))
        .find(|t| !t.trim().is_empty())
}

/// A row that owns its strings.
fn owned(r: crate::model::Row<'_>) -> crate::model::Row<'static> {
    use std::borrow::Cow;
    crate::model::Row {
        type_name: Cow::Owned(r.type_name.into_owned()),
        category: Cow::Owned(r.category.into_owned()),
        place: Cow::Owned(r.place.into_owned()),
        when: r.when,
        lon: r.lon,
        lat: r.lat,
        loc_precision: r.loc_precision,
        fatalities: r.fatalities,
        injuries: r.injuries,
        disputed: r.disputed,
    }
}

impl Files {
    /// The load report after a write: the problem of a row it placed gone, the lines of the
    /// problems after the change moved as the rows did.
    fn report_after(&self, st: &State, plan: &Plan, (line_delta, first): (i64, u64)) -> Report {
        let mut r = (*st.report).clone();
        if line_delta == 0 && plan.placed.is_none() {
            return r;
        }
        let name = &st.store.files[plan.file as usize].name;
        let at = plan.placed;
        r.problems
            .retain(|p| !(p.file == *name && Some(p.line) == at));
        if at.is_some() {
            r.skipped = r.skipped.saturating_sub(1);
        }
        // Lines after the change (the changed record's own start line stays).
        for p in &mut r.problems {
            if p.file == *name && p.line > first {
                p.line = (p.line as i64 + line_delta).max(1) as u64;
            }
        }
        r
    }

    /// The state after a write: the store built again from its rows (no file read), the
    /// written file reopened, the records after the change moved, the keys kept.
    fn follow(
        &self,
        st: &State,
        plan: &Plan,
        done: crate::edit::Spliced,
    ) -> Result<(State, Option<Key>), SourceError> {
        let s = &*st.store;
        let f = plan.file;
        let mut files = s.files.clone();
        let file = &mut files[f as usize];
        let reopened = std::fs::File::open(&file.path)
            .map_err(|e| SourceError::Write(format!("{}: {e}", file.name)))?;
        file.content = Content::Disk {
            file: Arc::new(Mutex::new(reopened)),
            stamp: done.stamp,
        };
        if !plan.new_columns.is_empty() {
            file.columns.extend(plan.new_columns.iter().cloned());
            file.map = crate::import::columns::detect(&file.columns, &self.ov)
                .unwrap_or_else(|_| file.map.clone());
        }
        let range = &plan.splice.range;
        let delta = plan.splice.bytes.len() as i64 - range.len() as i64;
        let nl = |b: &[u8]| memchr::memchr_iter(b'\n', b).count() as i64;
        let line_delta = nl(&plan.splice.bytes) - nl(&plan.old);
        let mut b = Builder::with_capacity(s.len() + 1);
        b.intern_types(&s.types.names().map(String::from).collect::<Vec<_>>());
        let mut pushed = Vec::with_capacity(s.len() + 1);
        for i in 0..s.len() {
            if Some(i) == plan.remove {
                continue;
            }
            let mut at = s.record_ref(i);
            if at.file == f && at.start >= range.end as u64 {
                at.start = (at.start as i64 + delta) as u64;
                at.line = (at.line as i64 + line_delta) as u32;
            }
            b.push(&s.row(i), at);
            pushed.push(st.keys[i]);
        }
        let mut next_key = st.next_key;
        let mut key = plan.key.map(Key);
        if let Some(r) = &plan.record {
            let k = plan.key.unwrap_or_else(|| {
                next_key += 1;
                next_key - 1
            });
            let line = done.lines_before + nl(&plan.splice.bytes[..r.at]) as u64 + 1;
            let at = RecordRef {
                file: f,
                start: (range.start + r.at) as u64,
                len: r.bytes.len() as u32,
                line: line as u32,
            };
            b.push(&r.row, at);
            pushed.push(k);
            key = Some(Key(k));
        }
        let (store, order) = b.finish_ordered(files);
        let keys: Vec<i64> = order.iter().map(|&j| pushed[j as usize]).collect();
        let new = State {
            store: Arc::new(store),
            derived: Default::default(),
            keys: Arc::new(keys),
            next_key,
            report: Arc::new(self.report_after(st, plan, (line_delta, done.lines_before + 1))),
            unplaced: Arc::new(
                st.unplaced
                    .iter()
                    .filter(|u| Some(u.0) != plan.placed_key)
                    .map(|&(k, file, start)| {
                        let moved = file == f && start >= range.end as u64;
                        (
                            k,
                            file,
                            if moved {
                                (start as i64 + delta) as u64
                            } else {
                                start
                            },
                        )
                    })
                    .collect(),
            ),
        };
        Ok((new, if plan.record.is_some() { key } else { None }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Fetch;

    /// Another program's save is told once: a reading again that is cancelled is not started
    /// again until the file changes again; once read, the feed is quiet.
    #[test]
    fn each_new_state_of_the_files_is_told_once() {
        use crate::source::Change;
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("watched.csv");
        std::fs::write(
            &p,
            "date,type,lat,lon,source\n2021-06-05,IED,33.1,44.1,AFP\n",
        )
        .unwrap();
        let ctl = Control::default();
        let f = open(std::slice::from_ref(&p), &Overrides::default(), &ctl)
            .unwrap()
            .unwrap();
        let mut feed = f.watch().unwrap();
        let wait = std::time::Duration::from_millis(300);
        let add = |row: &str| {
            let mut h = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
            h.write_all(row.as_bytes()).unwrap();
        };
        assert_eq!(feed.wait(wait), Change::Quiet);
        add("2021-06-06,IED,33.2,44.2,AFP\n");
        assert_eq!(feed.wait(wait), Change::Changed);
        // Not read again (as when the reading was cancelled): nothing new to tell.
        assert_eq!(feed.wait(wait), Change::Quiet);
        add("2021-06-07,IED,33.3,44.3,AFP\n");
        assert_eq!(feed.wait(wait), Change::Changed);
        assert!(f.reload(&ctl).unwrap());
        assert_eq!(feed.wait(wait), Change::Quiet);
        assert_eq!(f.summary(&ctl).unwrap().incidents, 3);
        // Changed again after a reading: told again.
        add("2021-06-08,IED,33.4,44.4,AFP\n");
        assert_eq!(feed.wait(wait), Change::Changed);
    }

    /// A summary reads the incidents as loaded, in file order (`check` then never orders
    /// them); the first reader that needs the date order gets it, and the report then holds
    /// how long that took.
    #[test]
    fn a_summary_leaves_the_file_order_until_a_reader_needs_the_date_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("late-first.csv");
        std::fs::write(
            &p,
            "date,type,lat,lon,source\n\
             2021-06-05,IED,33.1,44.1,AFP 2021-06-05\n\
             2021-05-08,Drone attack,33.8,42.4,AFP 2021-05-08\n\
             2021-06-06,Interception,33.79,42.44,SOFREP 2021-06-06\n",
        )
        .unwrap();
        let ctl = Control::default();
        let r = load_paths_in_file_order(std::slice::from_ref(&p), &Overrides::default(), &ctl);
        let f = Files::with_overrides(vec![p], r, Overrides::default());
        let sum = f.summary(&ctl).unwrap();
        assert_eq!(
            (sum.date_min.as_deref(), sum.date_max.as_deref()),
            (Some("2021-05-08"), Some("2021-06-06"))
        );
        assert_eq!(sum.incidents, 3);
        assert!(
            !f.loaded().store.is_in_date_order(),
            "a summary orders nothing"
        );
        assert_eq!(f.report().timings.map(|t| t.1), Some(0.0));
        let all = f
            .incidents(&Filter::default(), &Fetch::up_to(0), &ctl)
            .unwrap();
        assert!(all.store.is_in_date_order());
        let days: Vec<String> = (0..3).map(|i| all.store.date_string(i)).collect();
        assert_eq!(days, ["2021-05-08", "2021-06-05", "2021-06-06"]);
        assert!(
            f.loaded().store.is_in_date_order(),
            "ordered once, and kept"
        );
        assert!(f.report().timings.is_some_and(|t| t.1 > 0.0));
        // The summary is the same either way.
        assert_eq!(
            serde_json::to_value(f.summary(&ctl).unwrap()).unwrap(),
            serde_json::to_value(sum).unwrap()
        );
    }
}
