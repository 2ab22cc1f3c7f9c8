//! A source of incidents: ONE interface ([`Source`]) that loaded files and a PostGIS table both
//! implement, covering everything the commands, the window and the export worker ask of data —
//! the `check` summary, the incidents matching a filter, cluster cells for a view, the legend and
//! timeline aggregates, one incident's details by key. A source is opened from its arguments by
//! [`open`]; nothing else asks which kind of source it holds.
//!
//! A new engine is one module implementing [`Source`] and one line in [`ENGINES`]; it is done
//! when it passes the conformance suite (`tests/conformance.rs`), which asks every engine the same
//! questions and wants the files' answers.

pub mod files;
pub mod postgis;
pub mod session;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use crate::cells::{Cell, CellSpan};
use crate::cluster::ClusterIndex;
use crate::details::Details;
use crate::edit::{Draft, HistoryEntry, Schema};
use crate::evidence::EvidenceStore;
use crate::import::{FileError, Overrides};
use crate::links::Links;
use crate::model::Problem;
use crate::progress::Control;
use crate::query::counts::{Aggregates, Summary};
use crate::query::{Filter, Selection};
use crate::store::{ReadError, Store};

/// Most incidents fetched one by one for an export, Export data or a command that draws or
/// writes them: a source holding more that match answers [`SourceError::TooMany`].
pub const FETCH_LIMIT: usize = 500_000;

/// An incident within its source: a table's `id`, a file's position in the loaded store. Keys
/// come with [`Incidents`] and are given back to [`Source::details`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(pub i64);

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why a source could not answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SourceError {
    /// A file's record could not be read back.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The database failed.
    #[error(transparent)]
    Db(crate::db::DbError),
    /// More incidents match than may be fetched one by one.
    #[error(
        "{count} incidents match, more than the {limit} drawn or written one by one; narrow the filters"
    )]
    TooMany {
        /// Matching incidents.
        count: u64,
        /// The most fetched.
        limit: u64,
    },
    /// The question was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// No incident has this key (any more).
    #[error("no incident {0} in the source")]
    NoSuchIncident(Key),
    /// A draft that cannot be saved, with every field's reason.
    #[error("not saved: {0}")]
    Invalid(crate::edit::Invalid),
    /// Someone changed the incident first: their version, to compare with the draft.
    #[error("incident {key} was changed by someone else first; nothing was overwritten")]
    Conflict {
        /// The incident.
        key: Key,
        /// Theirs, as it is now (none: they deleted it).
        theirs: Option<Box<crate::edit::Draft>>,
        /// Its version now.
        version: i64,
    },
    /// The file changed on disk since it was loaded.
    #[error("{file} changed on disk since it was loaded; reload it (nothing was written)")]
    Changed {
        /// The file.
        file: String,
    },
    /// The draft cannot be written in the file's bytes (its encoding, a missing column).
    #[error(transparent)]
    Splice(#[from] crate::edit::SpliceError),
    /// The source cannot be written: why (a format not written in place, a read-only role).
    #[error("{0}")]
    ReadOnly(String),
    /// Writing failed.
    #[error("{0}")]
    Write(String),
}

impl From<crate::edit::FileWriteError> for SourceError {
    fn from(e: crate::edit::FileWriteError) -> SourceError {
        match e {
            crate::edit::FileWriteError::Changed { file } => SourceError::Changed { file },
            other => SourceError::Write(other.to_string()),
        }
    }
}

/// A change written through a source.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// A new incident.
    Insert(Draft),
    /// An incident corrected, from the version the edit started from (a later one refuses it).
    Update {
        /// The incident.
        key: Key,
        /// The version edited.
        version: i64,
        /// What it becomes.
        draft: Draft,
    },
    /// An incident removed, as of the version the decision was made on.
    Delete {
        /// The incident.
        key: Key,
        /// The version seen.
        version: i64,
    },
}

pub use crate::edit::Find;

/// A row that could not be placed: it names a place but has no position (files only; a table
/// holds none). Its key is given to [`Source::draft`] and to a [`Edit::Update`] that places it.
#[derive(Debug, Clone, PartialEq)]
pub struct Unplaced {
    /// Its key.
    pub key: Key,
    /// Its fields.
    pub draft: Draft,
    /// Its version.
    pub version: i64,
    /// Where it is: `file:line`.
    pub origin: String,
    /// The place it names.
    pub place: String,
    /// The area it names (admin1, province…), when it does.
    pub area: String,
}

/// An unplaced row's draft placed at `at`: its position, a location precision fitting the
/// place (an area: `region`; a town or a site: `near`), and a note of what it was placed from
/// (a `geocoded` field where the data can have one, else at the end of its description).
pub fn placed(u: &Unplaced, at: &crate::places::Found, schema: &Schema) -> Draft {
    use crate::model::Role;
    let mut d = u.draft.clone();
    (d.lon, d.lat) = (at.lon, at.lat);
    let precision = match (at.area, schema.coded_precisions()) {
        (true, true) => "3",
        (false, true) => "2",
        (true, false) => "region",
        (false, false) => "near",
    };
    if !d.set_role(schema, Role::LocPrecision, precision) {
        d.set_text(schema, "location_precision", precision);
    }
    let what = if u.place.trim().is_empty() {
        &u.area
    } else {
        &u.place
    };
    let note = format!(
        "position from {} \"{}\" ({}, {}) for the place \"{}\"",
        if at.source == "places" {
            "incident-map's place list"
        } else {
            at.source
        },
        at.label,
        crate::edit::draft::format_degrees(at.lat),
        crate::edit::draft::format_degrees(at.lon),
        what.trim()
    );
    let column = schema.columns.iter().any(|c| c == "geocoded") || !schema.position_in_columns;
    match schema.column(Role::Description) {
        _ if column => d.set_text(schema, "geocoded", &note),
        Some(c) => {
            let c = c.to_string();
            let text = d.text(&c);
            let joined = if text.trim().is_empty() {
                format!("[{note}]")
            } else {
                format!("{} [{note}]", text.trim_end())
            };
            d.set_text(schema, &c, &joined);
        }
        None => {}
    }
    d
}

/// What a write did.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// The incident written (none for a deletion).
    pub key: Option<Key>,
    /// Its version now.
    pub version: i64,
}

impl From<crate::db::DbError> for SourceError {
    fn from(e: crate::db::DbError) -> SourceError {
        use crate::db::DbError;
        match e {
            DbError::TooMany { count, limit } => SourceError::TooMany { count, limit },
            DbError::Timeout(m) if m.contains("user request") => SourceError::Cancelled,
            other => SourceError::Db(other),
        }
    }
}

/// Why a source could not be opened.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OpenError {
    /// No arguments.
    #[error("no source given")]
    Nothing,
    /// Arguments of two engines (a table with files).
    #[error("a table is a source on its own: give one URL and no files")]
    Mixed,
    /// A file or directory that is not there.
    #[error("{}: no such file or directory", .0.display())]
    NotFound(PathBuf),
    /// The table's URL cannot be used.
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    /// Loading was cancelled.
    #[error("loading cancelled")]
    Cancelled,
}

/// What opening a source found wrong with its rows and files (files; a table has none).
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Row problems, in file then line order.
    pub problems: Vec<Problem>,
    /// Files that could not be loaded.
    pub errors: Vec<FileError>,
    /// Rows skipped.
    pub skipped: usize,
    /// Milliseconds spent reading and parsing, and sorting (`check --timings`).
    pub timings: Option<(f64, f64)>,
}

/// How incidents are fetched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fetch {
    /// The most fetched one by one (more: [`SourceError::TooMany`]). An engine that holds its
    /// incidents in memory hands them all over whatever the limit: that costs nothing.
    pub limit: usize,
    /// Whether each incident's original record comes too (without it, details are read by key).
    pub records: bool,
    /// Type names the answer's store knows first, in this order (the window keeps its legend's
    /// type ids across answers).
    pub types: Vec<String>,
    /// Asked for the window's view: the answer must not wait on any question beyond the
    /// incidents themselves (what else the store carries, like the types' colours, the window
    /// takes from the source's aggregates).
    pub view: bool,
}

impl Fetch {
    /// At most `limit`, with their records.
    pub fn up_to(limit: usize) -> Fetch {
        Fetch {
            limit,
            records: true,
            types: Vec::new(),
            view: false,
        }
    }
}

/// What is worked out from incidents once, when first needed.
#[derive(Default)]
pub(crate) struct Derived {
    index: OnceLock<Arc<ClusterIndex>>,
    links: OnceLock<Arc<Links>>,
}

/// Incidents a source handed over: a store, the incidents in it that match (with their counts),
/// each one's key, and their cluster index and links, built when first asked for.
#[derive(Clone)]
pub struct Incidents {
    /// The incidents (a file source's whole store; a table's fetched rows).
    pub store: Arc<Store>,
    /// Those that match the filter asked for.
    pub selection: Selection,
    /// Key of each store index (`None`: the index is the key).
    keys: Option<Arc<Vec<i64>>>,
    derived: Arc<Derived>,
}

impl Incidents {
    /// Fetched incidents, all matching, with their keys (`keys[i]` is store index `i`'s).
    fn fetched(store: Store, keys: Vec<i64>) -> Incidents {
        let selection = Selection::all(&store);
        Incidents {
            store: Arc::new(store),
            selection,
            keys: Some(Arc::new(keys)),
            derived: Default::default(),
        }
    }

    /// Nothing.
    pub fn empty() -> Incidents {
        Incidents::fetched(Store::default(), Vec::new())
    }

    /// The key of store index `i`.
    pub fn key(&self, i: u32) -> Key {
        match &self.keys {
            Some(k) => Key(k.get(i as usize).copied().unwrap_or(-1)),
            None => Key(i as i64),
        }
    }

    /// The store index of `key`, if these incidents hold it.
    pub fn position(&self, key: Key) -> Option<u32> {
        match &self.keys {
            Some(k) => k.iter().position(|&x| x == key.0).map(|i| i as u32),
            None => (key.0 >= 0 && (key.0 as usize) < self.store.len()).then_some(key.0 as u32),
        }
    }

    /// Their cluster index (built on first use, then shared).
    pub fn index(&self) -> Arc<ClusterIndex> {
        self.derived
            .index
            .get_or_init(|| Arc::new(ClusterIndex::build(&self.store)))
            .clone()
    }

    /// The links between them (worked out on first use, then shared).
    pub fn links(&self) -> Arc<Links> {
        self.derived
            .links
            .get_or_init(|| Arc::new(crate::links::links(&self.store)))
            .clone()
    }

    /// The same incidents with another selection of them.
    pub fn with_selection(&self, selection: Selection) -> Incidents {
        Incidents {
            selection,
            ..self.clone()
        }
    }
}

/// What a change feed says after waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing happened.
    Quiet,
    /// Someone changed the data: what was read before may be out of date.
    Changed,
}

/// Changes made to a source by anyone (another window, SQL, another program), as they happen.
pub trait Watch: Send {
    /// Waits up to `timeout` for a change. A lost connection is re-established here; coming
    /// back from a loss is a change (anything may have happened meanwhile).
    fn wait(&mut self, timeout: std::time::Duration) -> Change;
}

/// A source of incidents. Every question takes a [`Control`]: its [`Control::cancel`] stops the
/// question (on a server too), and the answer is then [`SourceError::Cancelled`].
pub trait Source: Send + Sync {
    /// The source as the user names it, without any password (messages, captions).
    fn name(&self) -> &str;

    /// What opens it again (files, or the URL without its password): settings, saved views.
    fn arguments(&self) -> Vec<PathBuf>;

    /// What opening it found wrong with its rows and files.
    fn report(&self) -> Arc<Report>;

    /// The `check` summary.
    fn summary(&self, ctl: &Control) -> Result<Summary, SourceError>;

    /// The types' colours from the whole data's counts, when known without asking anything
    /// (a table knows them once it has answered a summary, its aggregates or a fetch). Fetched stores carry
    /// them; a window drawing a table's cells with no incidents fetched asks here.
    fn known_colours(&self) -> Option<crate::style::TypeColours> {
        None
    }

    /// The incidents matching `filter`, fetched as `fetch` says.
    fn incidents(
        &self,
        filter: &Filter,
        fetch: &Fetch,
        ctl: &Control,
    ) -> Result<Incidents, SourceError>;

    /// Counts per type (under all filters but the types) and per day (all but the dates).
    fn aggregates(&self, filter: &Filter, ctl: &Control) -> Result<Aggregates, SourceError>;

    /// The cluster cells of the incidents matching `filter` in `span` at `level`, in row then
    /// column order.
    fn cells(
        &self,
        filter: &Filter,
        level: u32,
        span: CellSpan,
        ctl: &Control,
    ) -> Result<Vec<Cell>, SourceError>;

    /// One incident, with every original field.
    fn details(&self, key: Key, ctl: &Control) -> Result<Details, SourceError>;

    /// Reads the data again when another program changed it underneath (files; a table is
    /// always asked as it is now); whether it did. Keys given before do not name incidents of
    /// what is read again.
    fn reload(&self, ctl: &Control) -> Result<bool, SourceError> {
        let _ = ctl;
        Ok(false)
    }

    /// A feed of changes made by anyone, when the source has one.
    fn watch(&self) -> Option<Box<dyn Watch>>;

    /// Why the source cannot be written, when it cannot (a format not written in place, a role
    /// that may only read).
    fn read_only(&self, ctl: &Control) -> Option<String>;

    /// The fields a new incident has, and what each means.
    fn schema(&self, ctl: &Control) -> Result<Schema, SourceError>;

    /// The incidents a command names (several when the data repeats an id).
    fn find(&self, by: &Find, ctl: &Control) -> Result<Vec<Key>, SourceError>;

    /// The rows that name a place but have no position, to place (none by default).
    fn unplaced(&self, ctl: &Control) -> Result<Vec<Unplaced>, SourceError> {
        let _ = ctl;
        Ok(Vec::new())
    }

    /// One incident to edit: its draft, and the version it is at.
    fn draft(&self, key: Key, ctl: &Control) -> Result<(Draft, i64), SourceError>;

    /// Writes a change: checked like a load, refused when the incident (or the file) changed
    /// since its version, recorded in the history under `editor`.
    fn write(&self, edit: &Edit, editor: &str, ctl: &Control) -> Result<Written, SourceError>;

    /// The history of one incident (by key), or of all, oldest first.
    fn history(&self, key: Option<Key>, ctl: &Control) -> Result<Vec<HistoryEntry>, SourceError>;

    /// Where the source keeps evidence: a data file's `DATA.evidence/` beside it (one per
    /// file), a table's `NAME_evidence` and `NAME_custody`.
    fn evidence_stores(&self) -> Vec<Arc<dyn EvidenceStore>>;

    /// The store keeping one incident's evidence, and the incident's name there (its own id,
    /// else a file's `FILE:LINE` or a table's row id).
    fn evidence_of(
        &self,
        key: Key,
        ctl: &Control,
    ) -> Result<(Arc<dyn EvidenceStore>, String), SourceError>;
}

/// What an engine's opener gives for arguments of its kind.
pub type Opened = Result<Arc<dyn Source>, OpenError>;

/// An engine: how it opens its arguments, and how it checks them without opening (for the
/// window's command line). Each gives `None` when the arguments are not its kind.
struct Engine {
    open: fn(&[PathBuf], &Overrides, &Control) -> Option<Opened>,
    check: fn(&[PathBuf]) -> Option<Result<(), OpenError>>,
}

/// Every engine, asked in order; the first that knows the arguments opens them. Files come
/// last: they take any path.
const ENGINES: &[Engine] = &[
    Engine {
        open: postgis::open,
        check: postgis::check,
    },
    Engine {
        open: files::open,
        check: files::check,
    },
];

/// Opens a source from its arguments: a PostGIS table's URL (alone), or files and directories.
/// Files are loaded here (with `ctl`'s progress and Cancel); a table is only checked for the
/// form of its URL (questions connect).
pub fn open(args: &[PathBuf], ov: &Overrides, ctl: &Control) -> Result<Arc<dyn Source>, OpenError> {
    if args.is_empty() {
        return Err(OpenError::Nothing);
    }
    ENGINES
        .iter()
        .find_map(|e| (e.open)(args, ov, ctl))
        .unwrap_or(Err(OpenError::Nothing))
}

/// Checks the arguments as [`open`] would take them, without loading or connecting: the form of
/// a table's URL, that files exist.
pub fn check(args: &[PathBuf]) -> Result<(), OpenError> {
    ENGINES
        .iter()
        .find_map(|e| (e.check)(args))
        .unwrap_or(Ok(()))
}

/// Whether an argument names a table (a `postgresql://` URL) rather than a file.
pub fn is_table(arg: &str) -> bool {
    crate::db::is_db_url(arg)
}
