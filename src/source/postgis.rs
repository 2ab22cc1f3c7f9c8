//! A PostgreSQL/PostGIS table as a source (`postgresql://USER@HOST:PORT/DB?table=NAME`): every
//! question is answered by the server ([`crate::db`]); individual incidents are fetched only as
//! many as asked for. Connections are pooled (one per thread asking at once) and a question is
//! cancelled on the server through its [`Control`].

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{
    Edit, Fetch, Find, Incidents, Key, OpenError, Report, Source, SourceError, Watch, Written,
};
use crate::cells::{Cell, CellSpan};
use crate::db::evidence::TableStore;
use crate::db::fetch::{fetch_id, fetch_on};
use crate::db::query::{
    aggregates_on, cells_on, filter_sql, open as connect, summary_on, type_counts_on,
};
use crate::db::{DbError, DbSource, write};
use crate::details::Details;
use crate::edit::{Draft, HistoryEntry, Schema};
use crate::evidence::EvidenceStore;
use crate::import::Overrides;
use crate::model::Role;
use crate::progress::Control;
use crate::query::Filter;
use crate::query::counts::{Aggregates, Summary};

/// An incident table.
pub struct Table {
    db: DbSource,
    /// Connections not in use.
    idle: Mutex<Vec<postgres::Client>>,
    report: Arc<Report>,
    /// The types' colours, from the table's counts when first asked (the whole table's, so
    /// every fetch colours a type the same).
    colours: Mutex<Option<crate::style::TypeColours>>,
}

/// The table the arguments name: one `postgresql://` URL, alone (`None`: no URL at all).
fn table_of(args: &[PathBuf]) -> Option<Result<DbSource, OpenError>> {
    let urls = args
        .iter()
        .filter(|a| super::is_table(&a.to_string_lossy()))
        .count();
    match (urls, args.len()) {
        (0, _) => None,
        (1, 1) => Some(DbSource::parse(&args[0].to_string_lossy()).map_err(OpenError::from)),
        _ => Some(Err(OpenError::Mixed)),
    }
}

/// The PostGIS engine's opener (nothing is asked of the server yet).
pub fn open(args: &[PathBuf], _ov: &Overrides, _ctl: &Control) -> Option<super::Opened> {
    Some(table_of(args)?.map(|db| Arc::new(Table::new(db)) as Arc<dyn Source>))
}

/// The PostGIS engine's check: the URL's form.
pub fn check(args: &[PathBuf]) -> Option<Result<(), OpenError>> {
    Some(table_of(args)?.map(|_| ()))
}

impl Table {
    /// The source of a table (nothing is asked of the server yet).
    pub fn new(db: DbSource) -> Table {
        Table {
            db,
            idle: Mutex::new(Vec::new()),
            report: Arc::default(),
            colours: Mutex::new(None),
        }
    }

    /// Keeps the types' colours from the whole table's counts, the first time they are known
    /// (a table's colours stay for the session, whatever is written meanwhile).
    fn learn_colours(&self, counts: &std::collections::BTreeMap<String, u64>) {
        let mut colours = self.colours.lock().unwrap_or_else(|p| p.into_inner());
        if colours.is_none() {
            *colours = Some(crate::style::TypeColours::from_counts(
                counts.iter().map(|(t, &n)| (t.as_str(), n)),
            ));
        }
    }

    /// The table's connection settings.
    pub fn db(&self) -> &DbSource {
        &self.db
    }

    /// Runs `ask` on a pooled connection (a new one checks the table), cancellable through
    /// `ctl`. A connection that broke is not kept.
    fn ask<T>(
        &self,
        ctl: &Control,
        ask: impl FnOnce(&mut postgres::Client) -> Result<T, DbError>,
    ) -> Result<T, SourceError> {
        if ctl.cancelled() {
            return Err(SourceError::Cancelled);
        }
        let pooled = self.idle.lock().ok().and_then(|mut v| v.pop());
        let mut c = match pooled {
            Some(c) if !c.is_closed() => c,
            _ => connect(&self.db)?,
        };
        let db = self.db.clone();
        let token = c.cancel_token();
        let r = ctl.with_canceller(Box::new(move || db.cancel(&token)), || {
            if ctl.cancelled() {
                return Err(SourceError::Cancelled);
            }
            ask(&mut c).map_err(SourceError::from)
        });
        if !c.is_closed()
            && let Ok(mut idle) = self.idle.lock()
        {
            idle.push(c);
        }
        r
    }
}

impl Source for Table {
    fn name(&self) -> &str {
        &self.db.display
    }

    fn arguments(&self) -> Vec<PathBuf> {
        vec![PathBuf::from(&self.db.display)]
    }

    fn report(&self) -> Arc<Report> {
        self.report.clone()
    }

    fn known_colours(&self) -> Option<crate::style::TypeColours> {
        self.colours.lock().map(|c| c.clone()).unwrap_or(None)
    }

    fn summary(&self, ctl: &Control) -> Result<Summary, SourceError> {
        let s = self.ask(ctl, |c| summary_on(c, &self.db))?;
        self.learn_colours(&s.types);
        Ok(s)
    }

    fn incidents(
        &self,
        filter: &Filter,
        fetch: &Fetch,
        ctl: &Control,
    ) -> Result<Incidents, SourceError> {
        let mut f = self.ask(ctl, |c| {
            fetch_on(
                c,
                &self.db,
                filter_sql(filter, &self.db),
                fetch.limit,
                &fetch.types,
                fetch.records,
            )
        })?;
        // The badge of incidents with evidence (asked only of a table that keeps some).
        if self.db.keeps_evidence() && !f.ids.is_empty() {
            let with = self.ask(ctl, |c| write::with_evidence_on(c, &self.db))?;
            if !with.is_empty() {
                let marks = f
                    .ids
                    .iter()
                    .map(|id| with.binary_search(id).is_ok())
                    .collect();
                f.result.store.evidence.set(marks);
            }
        }
        // The whole table's colours: asked once (a cheap question) unless the fetch is the
        // window's view, which must not wait for it (its aggregates bring them).
        if self.known_colours().is_none() && !fetch.view && !f.ids.is_empty() {
            let counts = self.ask(ctl, |c| type_counts_on(c, &self.db))?;
            self.learn_colours(&counts);
        }
        if let Some(c) = self.known_colours() {
            f.result.store.colours = c;
        }
        Ok(Incidents::fetched(f.result.store, f.ids))
    }

    fn aggregates(&self, filter: &Filter, ctl: &Control) -> Result<Aggregates, SourceError> {
        let (a, counts) = self.ask(ctl, |c| aggregates_on(c, &self.db, filter))?;
        self.learn_colours(&counts);
        Ok(a)
    }

    fn cells(
        &self,
        filter: &Filter,
        level: u32,
        span: CellSpan,
        ctl: &Control,
    ) -> Result<Vec<Cell>, SourceError> {
        self.ask(ctl, |c| cells_on(c, &self.db, filter, level.min(31), span))
    }

    fn details(&self, key: Key, ctl: &Control) -> Result<Details, SourceError> {
        let f = self.ask(ctl, |c| fetch_id(c, &self.db, key.0))?;
        if f.result.store.is_empty() {
            return Err(SourceError::NoSuchIncident(key));
        }
        Ok(crate::details::details(&f.result.store, 0)?)
    }

    fn watch(&self) -> Option<Box<dyn Watch>> {
        Some(Box::new(Listen {
            db: self.db.clone(),
            client: None,
            was_lost: false,
        }))
    }

    fn read_only(&self, ctl: &Control) -> Option<String> {
        match self.ask(ctl, |c| write::read_only(c, &self.db)) {
            Ok(why) => why,
            Err(e) => Some(format!("the table cannot be reached to write: {e}")),
        }
    }

    fn schema(&self, ctl: &Control) -> Result<Schema, SourceError> {
        let columns = self.ask(ctl, |c| write::columns_on(c, &self.db))?;
        if columns.is_empty() {
            return Ok(Schema::new_file());
        }
        let map = crate::import::columns::detect(&columns, &Default::default()).unwrap_or_default();
        let in_columns = (0..columns.len()).any(|c| map.role(c) == Role::Latitude)
            && (0..columns.len()).any(|c| map.role(c) == Role::Longitude);
        Ok(Schema::of(columns, map, in_columns))
    }

    fn find(&self, by: &Find, ctl: &Control) -> Result<Vec<Key>, SourceError> {
        let ids = self.ask(ctl, |c| write::find_on(c, &self.db, by))?;
        Ok(ids.into_iter().map(Key).collect())
    }

    fn draft(&self, key: Key, ctl: &Control) -> Result<(Draft, i64), SourceError> {
        self.ask(ctl, |c| write::draft_on(c, &self.db, key.0))?
            .ok_or(SourceError::NoSuchIncident(key))
    }

    fn write(&self, edit: &Edit, editor: &str, ctl: &Control) -> Result<Written, SourceError> {
        let schema = self.schema(ctl)?;
        let checked = match edit {
            Edit::Insert(d) | Edit::Update { draft: d, .. } => Some((
                d.check(&schema).map_err(SourceError::Invalid)?,
                d.record(&schema),
            )),
            Edit::Delete { .. } => None,
        };
        let who = crate::edit::editor_name(editor);
        let outcome = self.ask(ctl, |c| {
            let mut tx = c.transaction().map_err(|e| self.db.error(e))?;
            write::upgrade(&mut tx, &self.db)?;
            let row = checked.as_ref().map(|(row, record)| (row, record));
            let o = match (edit, row) {
                (Edit::Insert(_), Some(r)) => write::insert_on(&mut tx, &self.db, r, &who)?,
                (Edit::Update { key, version, .. }, Some(r)) => {
                    write::update_on(&mut tx, &self.db, (key.0, *version), r, &who)?
                }
                (Edit::Delete { key, version }, _) => {
                    write::delete_on(&mut tx, &self.db, (key.0, *version), &who)?
                }
                _ => unreachable!("a draft is checked for every insert and update"),
            };
            tx.commit().map_err(|e| self.db.error(e))?;
            Ok(o)
        })?;
        match (outcome, edit) {
            (write::Outcome::Done { version, .. }, Edit::Delete { .. }) => {
                Ok(Written { key: None, version })
            }
            (write::Outcome::Done { id, version }, _) => Ok(Written {
                key: Some(Key(id)),
                version,
            }),
            (
                write::Outcome::Conflict(theirs),
                Edit::Update { key, .. } | Edit::Delete { key, .. },
            ) => Err(SourceError::Conflict {
                key: *key,
                version: theirs.as_ref().map_or(0, |t| t.1),
                theirs: theirs.map(|t| Box::new(t.0)),
            }),
            (write::Outcome::Conflict(_), Edit::Insert(_)) => Err(SourceError::Write(
                "the new incident was not inserted".into(),
            )),
        }
    }

    fn history(&self, key: Option<Key>, ctl: &Control) -> Result<Vec<HistoryEntry>, SourceError> {
        self.ask(ctl, |c| write::history_on(c, &self.db, key.map(|k| k.0)))
    }

    fn evidence_stores(&self) -> Vec<Arc<dyn EvidenceStore>> {
        vec![Arc::new(TableStore::new(self.db.clone()))]
    }

    fn evidence_of(
        &self,
        key: Key,
        ctl: &Control,
    ) -> Result<(Arc<dyn EvidenceStore>, String), SourceError> {
        let name = self.ask(ctl, |c| write::incident_name_on(c, &self.db, key.0))?;
        Ok((Arc::new(TableStore::new(self.db.clone())), name))
    }
}

/// How long the change feed waits before connecting again after a loss.
const RECONNECT: Duration = Duration::from_secs(2);

/// The change trigger's notifications (`LISTEN`), reconnecting when the connection is lost.
struct Listen {
    db: DbSource,
    client: Option<postgres::Client>,
    was_lost: bool,
}

impl Watch for Listen {
    fn wait(&mut self, timeout: Duration) -> super::Change {
        use super::Change;
        let client = match &mut self.client {
            Some(c) => c,
            None => {
                let listening = self.db.connect().ok().and_then(|mut c| {
                    c.batch_execute(&format!("LISTEN \"{}\"", self.db.table.channel()))
                        .ok()
                        .map(|_| c)
                });
                match listening {
                    Some(c) => {
                        self.client = Some(c);
                        // Back after a loss: whatever happened meanwhile is news.
                        if std::mem::take(&mut self.was_lost) {
                            return Change::Changed;
                        }
                        return Change::Quiet;
                    }
                    None => {
                        // The server is away: try again in a while (the questions report it).
                        self.was_lost = true;
                        std::thread::sleep(RECONNECT.max(timeout));
                        return Change::Quiet;
                    }
                }
            }
        };
        let mut changed = false;
        let mut lost = false;
        {
            let mut n = client.notifications();
            let mut it = n.timeout_iter(timeout);
            loop {
                match postgres::fallible_iterator::FallibleIterator::next(&mut it) {
                    Ok(Some(_)) => changed = true,
                    Ok(None) => break,
                    Err(_) => {
                        lost = true;
                        break;
                    }
                }
            }
        }
        if lost || client.is_closed() {
            self.client = None;
            self.was_lost = true;
        }
        if changed {
            Change::Changed
        } else {
            Change::Quiet
        }
    }
}
