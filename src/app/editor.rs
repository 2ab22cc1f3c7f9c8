//! Recording and correcting incidents in the window: the form's state, writes through the open
//! source on a worker (the map keeps drawing), undo and redo of the edits made since the window
//! opened, the conflict met when someone else changed the incident first, and the pending edits
//! re-applied after the file was read again. The windows that show all this are in
//! `panels/edit_windows.rs`.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};

use serde_json::Value;

use crate::edit::{Draft, FieldProblem, HistoryEntry, Schema, draft::format_degrees};
use crate::model::Role;
use crate::progress::Control;
use crate::source::{Edit, Find, Key, Source, SourceError, Written};

/// What the form edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A new incident.
    New,
    /// An incident of the source, from its version.
    Existing {
        /// The incident.
        key: Key,
        /// The version the form started from.
        version: i64,
    },
}

/// One field of the form.
#[derive(Debug, Clone, PartialEq)]
pub struct FormField {
    /// Its column (or property) name.
    pub name: String,
    /// What it means.
    pub role: Role,
    /// What is typed.
    pub text: String,
    original: String,
}

/// One account of the incident (a source's version of it).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Account {
    /// Publisher and date.
    pub source: String,
    /// Address of the report.
    pub source_url: String,
    /// Its date, when it differs.
    pub date: String,
    /// What it says, in our words.
    pub claim: String,
    /// Its counts, when it gives them.
    pub fatalities: String,
    /// Injuries it reports.
    pub injuries: String,
    /// Other keys it had, kept.
    rest: serde_json::Map<String, Value>,
}

impl Account {
    fn of(v: &Value) -> Account {
        let mut rest = v.as_object().cloned().unwrap_or_default();
        let mut take = |k: &str| match rest.remove(k) {
            Some(Value::String(s)) => s,
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        Account {
            source: take("source"),
            source_url: take("source_url"),
            date: take("date"),
            claim: take("claim"),
            fatalities: take("fatalities"),
            injuries: take("injuries"),
            rest,
        }
    }

    fn value(&self) -> Value {
        let mut m = serde_json::Map::new();
        let mut put = |k: &str, v: &str, count: bool| {
            let v = v.trim();
            if v.is_empty() {
                return;
            }
            let value = match v.parse::<u64>() {
                Ok(n) if count => Value::from(n),
                _ => Value::String(v.to_string()),
            };
            m.insert(k.to_string(), value);
        };
        put("source", &self.source, false);
        put("source_url", &self.source_url, false);
        put("date", &self.date, false);
        put("fatalities", &self.fatalities, true);
        put("injuries", &self.injuries, true);
        put("claim", &self.claim, false);
        for (k, v) in &self.rest {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }
}

/// The incident form.
#[derive(Debug, Clone)]
pub struct Form {
    /// What it edits.
    pub target: Target,
    /// The source's fields.
    pub schema: Schema,
    base: Draft,
    /// Every field shown, in the schema's order (the position's columns are the position).
    pub fields: Vec<FormField>,
    /// The position as typed (decimal, DMS or MGRS).
    pub position: String,
    base_position: String,
    /// The accounts, when the data has a column for them.
    pub accounts: Vec<Account>,
    base_accounts: Vec<Account>,
    /// Why it cannot be saved, by field (shown once a save was tried).
    pub problems: Vec<FieldProblem>,
    /// A save was tried.
    pub tried: bool,
    /// Possible duplicates of the new incident (store indices), asked about before adding.
    pub duplicates: Option<Vec<u32>>,
    /// The place search inside the form.
    pub place_query: String,
    /// The types the data has (offered).
    pub types: Vec<String>,
}

/// The position as the form shows it.
fn position_text(d: &Draft) -> String {
    if d.lon.is_finite() && d.lat.is_finite() {
        format!("{}, {}", format_degrees(d.lat), format_degrees(d.lon))
    } else {
        String::new()
    }
}

/// A value as the form's text.
fn text_of(v: Option<&Value>, role: Role) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) if role == Role::Related => a
            .iter()
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join("; "),
        Some(other) => other.to_string(),
    }
}

impl Form {
    /// A form on `draft` (a new incident's, or an incident's as it is at `target`'s version).
    pub fn new(target: Target, schema: Schema, draft: Draft, types: Vec<String>) -> Form {
        let mut names: Vec<String> = schema.columns.clone();
        for (n, _) in &draft.fields {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
        let fields = names
            .into_iter()
            .filter_map(|name| {
                let role = schema
                    .columns
                    .iter()
                    .position(|c| *c == name)
                    .map_or(Role::Other, |c| schema.map.role(c));
                if matches!(role, Role::Latitude | Role::Longitude | Role::Accounts) {
                    return None;
                }
                let text = text_of(draft.get(&name), role);
                Some(FormField {
                    name,
                    role,
                    original: text.clone(),
                    text,
                })
            })
            .collect();
        let accounts: Vec<Account> = schema
            .column(Role::Accounts)
            .and_then(|c| draft.get(c))
            .map(|v| match v {
                Value::String(s) => serde_json::from_str::<Value>(s).unwrap_or(Value::Null),
                other => other.clone(),
            })
            .and_then(|v| v.as_array().map(|a| a.iter().map(Account::of).collect()))
            .unwrap_or_default();
        let position = position_text(&draft);
        Form {
            target,
            schema,
            base: draft,
            fields,
            base_position: position.clone(),
            position,
            base_accounts: accounts.clone(),
            accounts,
            problems: Vec::new(),
            tried: false,
            duplicates: None,
            place_query: String::new(),
            types,
        }
    }

    /// The draft the form started from.
    pub fn base(&self) -> &Draft {
        &self.base
    }

    /// The field of `role`, if the form has one.
    pub fn field_mut(&mut self, role: Role) -> Option<&mut FormField> {
        self.fields.iter_mut().find(|f| f.role == role)
    }

    /// The draft's fields as the form holds them, at the position it started from.
    fn draft_fields(&self) -> Draft {
        let mut d = self.base.clone();
        for f in &self.fields {
            if f.text == f.original {
                continue;
            }
            if f.role == Role::Related && !self.schema.position_in_columns {
                let ids: Vec<Value> = f
                    .text
                    .split([';', ','])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(|t| Value::String(t.to_string()))
                    .collect();
                d.set(
                    &f.name,
                    if ids.is_empty() {
                        Value::Null
                    } else {
                        Value::Array(ids)
                    },
                );
            } else {
                d.set_text(&self.schema, &f.name, &f.text);
            }
        }
        if self.accounts != self.base_accounts
            && let Some(c) = self.schema.column(Role::Accounts)
        {
            let list: Vec<Value> = self.accounts.iter().map(Account::value).collect();
            let v = if list.is_empty() {
                Value::Null
            } else if self.schema.position_in_columns {
                Value::String(Value::Array(list).to_string())
            } else {
                Value::Array(list)
            };
            d.set(c, v);
        }
        d
    }

    /// The position typed: `(lon, lat)`, NaN when empty, unchanged when not edited.
    fn typed_position(&self) -> Result<(f64, f64), FieldProblem> {
        if self.position == self.base_position {
            return Ok((self.base.lon, self.base.lat));
        }
        if self.position.trim().is_empty() {
            return Ok((f64::NAN, f64::NAN));
        }
        crate::places::parse_position(&self.position)
            .map(|(lat, lon)| (lon, lat))
            .ok_or_else(|| FieldProblem {
                field: "position".into(),
                message: "not a position: decimal degrees (33.786, 42.441), DMS or MGRS".into(),
            })
    }

    /// The draft the form holds now; a position that cannot be read is a problem.
    pub fn draft(&self) -> Result<Draft, FieldProblem> {
        let mut d = self.draft_fields();
        (d.lon, d.lat) = self.typed_position()?;
        Ok(d)
    }

    /// Checks the form as it would be saved: the draft and its row, or every field's problem
    /// (kept in [`Form::problems`]).
    pub fn check(&mut self) -> Option<(Draft, crate::model::Row<'static>)> {
        self.problems.clear();
        let mut d = self.draft_fields();
        let typed = self.typed_position();
        if let Ok(p) = typed {
            (d.lon, d.lat) = p;
        }
        let checked = d.check(&self.schema);
        if let Err(p) = typed {
            self.problems.push(p);
        }
        match checked {
            Ok(row) if self.problems.is_empty() => Some((d, row)),
            Ok(_) => None,
            Err(why) => {
                let had_position = !self.problems.is_empty();
                self.problems.extend(
                    why.0
                        .into_iter()
                        .filter(|p| !(had_position && p.field == "position")),
                );
                None
            }
        }
    }

    /// The problem of a field (by name), if any.
    pub fn problem(&self, field: &str) -> Option<&str> {
        self.problems
            .iter()
            .find(|p| p.field == field)
            .map(|p| p.message.as_str())
    }

    /// Whether anything was changed.
    pub fn changed(&self) -> bool {
        self.fields.iter().any(|f| f.text != f.original)
            || self.position != self.base_position
            || self.accounts != self.base_accounts
    }
}

/// An edit that was written: the incident now (`after`, at `key` and `version`) and before.
#[derive(Debug, Clone, PartialEq)]
pub struct Done {
    /// The incident (none: it was deleted).
    pub key: Option<Key>,
    /// Its version now.
    pub version: i64,
    /// Before the edit (none: it was added).
    pub before: Option<Draft>,
    /// After it (none: it was deleted).
    pub after: Option<Draft>,
}

impl Done {
    /// The edit that takes it back.
    fn inverse(&self) -> Option<Edit> {
        match (&self.before, &self.after, self.key) {
            (None, Some(_), Some(key)) => Some(Edit::Delete {
                key,
                version: self.version,
            }),
            (Some(b), Some(_), Some(key)) => Some(Edit::Update {
                key,
                version: self.version,
                draft: b.clone(),
            }),
            (Some(b), None, _) => Some(Edit::Insert(b.clone())),
            _ => None,
        }
    }
}

/// Why a write was asked for (what to do with its outcome).
#[derive(Debug, Clone, PartialEq)]
pub enum Purpose {
    /// A new edit (the form, a move, a deletion, a history restore): undoable.
    Edit,
    /// Taking back the last edit.
    Undo,
    /// Doing again what was taken back.
    Redo,
}

/// A write asked of the source.
#[derive(Debug, Clone)]
pub struct Request {
    /// What is written.
    pub edit: Edit,
    /// The incident before (none for an insert).
    pub before: Option<Draft>,
    /// What it becomes (none for a deletion).
    pub after: Option<Draft>,
    /// How it came.
    pub purpose: Purpose,
    /// Its name for messages.
    pub what: String,
    /// The form it came from stays open until it is written.
    pub from_form: bool,
}

impl Request {
    /// A new edit (undoable): `edit`, the incident `before` and `after` it, named `what`.
    pub fn new(edit: Edit, (before, after): (Option<Draft>, Option<Draft>), what: &str) -> Request {
        Request {
            edit,
            before,
            after,
            purpose: Purpose::Edit,
            what: what.to_string(),
            from_form: false,
        }
    }

    /// The same, from the form (which stays open until it is written).
    pub fn from_form(mut self) -> Request {
        self.from_form = true;
        self
    }
}

/// Someone else changed (or deleted) the incident first: theirs and mine, to choose from.
#[derive(Debug, Clone)]
pub struct Conflict {
    /// The incident.
    pub key: Key,
    /// Its version now.
    pub version: i64,
    /// Theirs (none: they deleted it).
    pub theirs: Option<Draft>,
    /// Mine.
    pub mine: Draft,
    /// What it was before my edit (for the history of the undo).
    pub before: Option<Draft>,
    /// Fields that differ, with whether mine is kept (the position is `position`).
    pub fields: Vec<(String, String, String, bool)>,
    /// Its name for messages.
    pub what: String,
}

impl Conflict {
    fn new(key: Key, version: i64, theirs: Option<Draft>, req: &Request) -> Conflict {
        let mine = req.after.clone().unwrap_or_else(|| {
            req.before.clone().unwrap_or(Draft {
                fields: Vec::new(),
                lon: f64::NAN,
                lat: f64::NAN,
            })
        });
        let mut fields = Vec::new();
        if let Some(t) = &theirs {
            let mut names: Vec<&str> = t.fields.iter().map(|(n, _)| n.as_str()).collect();
            for (n, _) in &mine.fields {
                if !names.contains(&n.as_str()) {
                    names.push(n);
                }
            }
            // Mine is kept where I changed something; theirs where I did not.
            let base = req.before.as_ref();
            for n in names {
                let (a, b) = (
                    text_of(t.get(n), Role::Other),
                    text_of(mine.get(n), Role::Other),
                );
                if a != b {
                    let changed = base.is_none_or(|o| text_of(o.get(n), Role::Other) != b);
                    fields.push((n.to_string(), a, b, changed));
                }
            }
            let (a, b) = (position_text(t), position_text(&mine));
            if a != b {
                let changed = base.is_none_or(|o| position_text(o) != b);
                fields.push(("position".into(), a, b, changed));
            }
        }
        Conflict {
            key,
            version,
            theirs,
            mine,
            before: req.before.clone(),
            fields,
            what: req.what.clone(),
        }
    }

    /// Mine where chosen, theirs elsewhere.
    pub fn merged(&self) -> Draft {
        let Some(t) = &self.theirs else {
            return self.mine.clone();
        };
        let mut d = t.clone();
        for (name, _, _, mine) in &self.fields {
            if !mine {
                continue;
            }
            if name == "position" {
                (d.lon, d.lat) = (self.mine.lon, self.mine.lat);
            } else {
                d.set(name, self.mine.get(name).cloned().unwrap_or(Value::Null));
            }
        }
        d
    }
}

/// An edit to apply again once the data is read again (the file changed underneath).
#[derive(Debug, Clone)]
pub struct Pending {
    /// The write as it was asked.
    pub request: Request,
    /// Why it is shown (not re-applied), once known.
    pub why: Option<String>,
}

/// What a worker's write came to.
enum Outcome {
    Written(Written),
    Failed(SourceError),
    /// Re-applying: the incident is no longer there.
    Gone,
}

impl From<Result<Written, SourceError>> for Outcome {
    fn from(r: Result<Written, SourceError>) -> Outcome {
        match r {
            Ok(w) => Outcome::Written(w),
            Err(e) => Outcome::Failed(e),
        }
    }
}

/// A write running on a worker: what it was asked, and its outcome.
struct Job {
    rx: Receiver<(Outcome, Request)>,
    control: Arc<Control>,
}

/// The work of a job: writes through the source under an editor's name; gives the outcome and
/// the request as written (its before and after filled in when the worker read them).
type Work = Box<dyn FnOnce(&dyn Source, &str, &Control) -> (Outcome, Request) + Send>;

/// A row that names a place but has no position, and where it may be.
#[derive(Debug, Clone)]
pub struct Placing {
    /// The row.
    pub row: crate::source::Unplaced,
    /// The places its name matches, best first.
    pub candidates: Vec<crate::places::Found>,
}

/// An incident's draft and version read for an action confirmed next (with what it needs).
type Prepared<T> = (Key, Result<(Draft, i64), SourceError>, T);

/// An incident's history as read.
pub type HistoryRead = Result<Vec<HistoryEntry>, SourceError>;

/// Runs `work` on a worker thread named `name`; `ctx` is repainted when it is done. The
/// receiver of its answer (none: no thread could be started).
pub(super) fn on_worker<T: Send + 'static>(
    name: &str,
    ctx: &egui::Context,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<Receiver<T>> {
    let (tx, rx) = channel();
    let ctx = ctx.clone();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let _ = tx.send(work());
            ctx.request_repaint();
        })
        .ok()
        .map(|_| rx)
}

/// The window's editing.
#[derive(Default)]
pub struct Editor {
    /// The incident form, when open.
    pub form: Option<Form>,
    /// An incident whose deletion waits for confirmation: its key, version and name.
    pub confirm_delete: Option<(Key, i64, Draft, String)>,
    /// A move waiting for confirmation: the incident, its version and draft, and where to.
    pub confirm_move: Option<(Key, i64, Draft, (f64, f64))>,
    /// An incident being dragged: its store index and where the pointer is (lon, lat).
    pub dragging: Option<(u32, (f64, f64))>,
    /// Someone else's change met while writing.
    pub conflict: Option<Conflict>,
    /// A write refused because the file changed underneath: re-apply after reading it again?
    pub changed: Option<(Request, String)>,
    /// Edits waiting for the data to be read again.
    pending: Vec<Pending>,
    /// Edits that could not be re-applied, shown until dismissed.
    pub unapplied: Vec<Pending>,
    job: Option<Job>,
    undo: Vec<Done>,
    redo: Vec<Done>,
    /// Why the source cannot be written (none: it can; unknown until asked).
    pub read_only: Option<Option<String>>,
    read_only_rx: Option<Receiver<(Option<String>, Option<Schema>)>>,
    /// The form opening on an incident, its draft being read.
    opening: Option<Receiver<Result<Form, SourceError>>>,
    /// A deletion being prepared.
    deleting: Option<Receiver<Prepared<String>>>,
    /// A move being prepared.
    moving: Option<Receiver<Prepared<(f64, f64)>>>,
    /// The selected incident's history: its key and what was read.
    pub history: Option<(Key, HistoryRead)>,
    history_rx: Option<(Key, Receiver<HistoryRead>)>,
    /// The incident to select once the data is read again.
    pub select_after: Option<Key>,
    /// The source's fields (read with its permissions when it was opened).
    pub schema: Option<Schema>,
    /// A copy being saved as GeoJSON: where, once written.
    copying: Option<Receiver<Result<std::path::PathBuf, crate::output::OutputError>>>,
    /// Place incidents without a position: the rows and each one's candidates (open when set).
    pub placing: Option<Result<Vec<Placing>, SourceError>>,
    placing_rx: Option<Receiver<Result<Vec<Placing>, SourceError>>>,
    /// File → New incident file: the path typed.
    pub new_file: Option<String>,
    /// Save a copy as GeoJSON: the path typed.
    pub save_copy: Option<String>,
}

impl Editor {
    /// Asks (on a worker) whether `source` can be written.
    pub fn source_opened(&mut self, source: &Arc<dyn Source>, ctx: &egui::Context) {
        self.read_only = None;
        self.history = None;
        self.undo.clear();
        self.redo.clear();
        self.schema = None;
        let s = source.clone();
        self.read_only_rx = on_worker("incident-map-can-write", ctx, move || {
            let c = Control::default();
            (s.read_only(&c), s.schema(&c).ok())
        });
    }

    /// Writes every incident of `store` as GeoJSON to `path` (on a worker).
    pub fn save_copy_to(
        &mut self,
        store: Arc<crate::store::Store>,
        path: std::path::PathBuf,
        ctx: &egui::Context,
    ) {
        self.copying = on_worker("incident-map-copy", ctx, move || {
            let all = crate::query::Selection::all(&store);
            crate::output::write_file(&store, &all, crate::output::OutFormat::Geojson, &path)
                .map(|_| path)
        });
    }

    /// Lists (on a worker) the rows without a position and their candidates, the places near
    /// `near` (the data) first.
    pub fn ask_unplaced(
        &mut self,
        source: &Arc<dyn Source>,
        near: Option<(f64, f64)>,
        ctx: &egui::Context,
    ) {
        let s = source.clone();
        self.placing_rx = on_worker("incident-map-unplaced", ctx, move || {
            s.unplaced(&Control::default()).map(|rows| {
                rows.into_iter()
                    .map(|row| Placing {
                        candidates: crate::places::candidates(&row.place, &row.area, near, 6),
                        row,
                    })
                    .collect()
            })
        });
    }

    /// A copy saved as GeoJSON, once written: where (to continue there), or why not.
    pub fn copy_done(&mut self) -> Option<Result<std::path::PathBuf, crate::output::OutputError>> {
        let r = self.copying.as_ref()?.try_recv().ok()?;
        self.copying = None;
        Some(r)
    }

    /// Restores incident `key` to `draft` (from its history), from its version now.
    pub fn restore(
        &mut self,
        source: &Arc<dyn Source>,
        editor: &str,
        key: Key,
        draft: Draft,
        ctx: &egui::Context,
    ) {
        self.spawn(
            source,
            editor,
            ctx,
            Box::new(move |s, who, c| {
                let mut req = Request::new(
                    Edit::Insert(draft.clone()),
                    (None, Some(draft.clone())),
                    "the restored version",
                );
                let out = match s.draft(key, c) {
                    // Still there: updated to that version.
                    Ok((now, version)) => {
                        req.edit = Edit::Update {
                            key,
                            version,
                            draft: draft.clone(),
                        };
                        req.before = Some(now);
                        s.write(&req.edit, who, c)
                    }
                    // Deleted since: added back.
                    Err(SourceError::NoSuchIncident(_)) => s.write(&req.edit, who, c),
                    Err(e) => Err(e),
                };
                (Outcome::from(out), req)
            }),
        );
    }

    /// Why editing is off now (`None`: it is on).
    pub fn why_not(&self) -> Option<String> {
        match &self.read_only {
            None => Some("checking whether the data can be written…".into()),
            Some(why) => why.clone(),
        }
    }

    /// Whether a write is running.
    pub fn busy(&self) -> bool {
        self.job.is_some()
    }

    /// Whether there is an edit to undo / to redo.
    pub fn can_undo(&self) -> (bool, bool) {
        (!self.undo.is_empty(), !self.redo.is_empty())
    }

    /// Starts `req` on a worker.
    pub fn start(
        &mut self,
        source: &Arc<dyn Source>,
        editor: &str,
        req: Request,
        ctx: &egui::Context,
    ) {
        self.spawn(
            source,
            editor,
            ctx,
            Box::new(move |s, who, c| {
                let out = Outcome::from(s.write(&req.edit, who, c));
                (out, req)
            }),
        );
    }

    /// Runs `work` on a worker (one at a time).
    fn spawn(&mut self, source: &Arc<dyn Source>, editor: &str, ctx: &egui::Context, work: Work) {
        if self.job.is_some() {
            return;
        }
        let control = Arc::new(Control::default());
        let (s, c, who) = (source.clone(), control.clone(), editor.to_string());
        if let Some(rx) = on_worker("incident-map-write", ctx, move || work(&*s, &who, &c)) {
            self.job = Some(Job { rx, control });
        }
    }

    /// Re-applies `p` on a worker: finds its incident in what was read again, writes it when
    /// the incident is as the edit found it, else it is a conflict.
    fn reapply(&mut self, source: &Arc<dyn Source>, editor: &str, p: Pending, ctx: &egui::Context) {
        let req = p.request;
        self.spawn(
            source,
            editor,
            ctx,
            Box::new(move |s, who, c| (reapply_on(s, &req, who, c), req)),
        );
    }

    /// Opens the form on incident `key` once its draft is read (on a worker).
    pub fn open_existing(
        &mut self,
        source: &Arc<dyn Source>,
        key: Key,
        types: Vec<String>,
        ctx: &egui::Context,
    ) {
        let s = source.clone();
        self.opening = on_worker("incident-map-draft", ctx, move || {
            let c = Control::default();
            s.schema(&c)
                .and_then(|schema| Ok((schema, s.draft(key, &c)?)))
                .map(|(schema, (d, v))| {
                    Form::new(Target::Existing { key, version: v }, schema, d, types)
                })
        });
    }

    /// Asks (on a worker) for incident `key`'s draft and version, to delete it once confirmed.
    pub fn ask_delete(
        &mut self,
        source: &Arc<dyn Source>,
        key: Key,
        what: String,
        ctx: &egui::Context,
    ) {
        let s = source.clone();
        self.deleting = on_worker("incident-map-draft", ctx, move || {
            (key, s.draft(key, &Control::default()), what)
        });
    }

    /// Asks (on a worker) for incident `key`'s draft and version, to move it to `to` once
    /// confirmed.
    pub fn ask_move(
        &mut self,
        source: &Arc<dyn Source>,
        key: Key,
        to: (f64, f64),
        ctx: &egui::Context,
    ) {
        let s = source.clone();
        self.moving = on_worker("incident-map-draft", ctx, move || {
            (key, s.draft(key, &Control::default()), to)
        });
    }

    /// Adds the form's new incident as another account of incident `key` (on a worker): its
    /// source, date, counts and description join that incident's accounts, which is marked
    /// disputed when they differ.
    pub fn add_as_account(
        &mut self,
        source: &Arc<dyn Source>,
        editor: &str,
        key: Key,
        new: Draft,
        ctx: &egui::Context,
    ) {
        self.spawn(
            source,
            editor,
            ctx,
            Box::new(move |s, who, c| {
                let mut req =
                    Request::new(Edit::Insert(new.clone()), (None, None), "another account")
                        .from_form();
                let out = (|| {
                    let schema = s.schema(c)?;
                    let (theirs, version) = s.draft(key, c)?;
                    let mut merged = theirs.clone();
                    add_account(&mut merged, &schema, &new)?;
                    req.edit = Edit::Update {
                        key,
                        version,
                        draft: merged.clone(),
                    };
                    req.before = Some(theirs);
                    req.after = Some(merged);
                    s.write(&req.edit, who, c)
                })();
                let out = Outcome::from(out);
                (out, req)
            }),
        );
    }

    /// Cancels a running write (a table's statement is cancelled on the server).
    pub fn cancel(&mut self) {
        if let Some(j) = &self.job {
            j.control.cancel_soon();
        }
    }

    /// Takes back the last edit.
    pub fn undo(
        &mut self,
        source: &Arc<dyn Source>,
        editor: &str,
        ctx: &egui::Context,
    ) -> Option<String> {
        self.step(source, editor, ctx, Purpose::Undo)
    }

    /// Does again what was taken back.
    pub fn redo(
        &mut self,
        source: &Arc<dyn Source>,
        editor: &str,
        ctx: &egui::Context,
    ) -> Option<String> {
        self.step(source, editor, ctx, Purpose::Redo)
    }

    fn step(
        &mut self,
        source: &Arc<dyn Source>,
        editor: &str,
        ctx: &egui::Context,
        purpose: Purpose,
    ) -> Option<String> {
        if self.job.is_some() {
            return Some("a save is still running".into());
        }
        let stack = if purpose == Purpose::Undo {
            &mut self.undo
        } else {
            &mut self.redo
        };
        let done = stack.pop()?;
        let edit = done.inverse()?;
        let what = if purpose == Purpose::Undo {
            "undo"
        } else {
            "redo"
        };
        let req = Request {
            edit,
            before: done.after.clone(),
            after: done.before.clone(),
            purpose,
            what: what.into(),
            from_form: false,
        };
        self.start(source, editor, req, ctx);
        None
    }

    /// Reads the selected incident's history on a worker.
    pub fn ask_history(&mut self, source: &Arc<dyn Source>, key: Key, ctx: &egui::Context) {
        if self.history_rx.as_ref().is_some_and(|(k, _)| *k == key) {
            return;
        }
        let s = source.clone();
        self.history_rx = on_worker("incident-map-history", ctx, move || {
            s.history(Some(key), &Control::default())
        })
        .map(|rx| (key, rx));
    }

    /// What came back from the workers this frame: a message for the status bar, and whether
    /// the data must be read again.
    pub fn poll(
        &mut self,
        source: Option<&Arc<dyn Source>>,
        editor: &str,
        ctx: &egui::Context,
    ) -> (Option<String>, bool) {
        if let Some(rx) = &self.read_only_rx
            && let Ok((why, schema)) = rx.try_recv()
        {
            self.read_only = Some(why);
            self.schema = schema;
            self.read_only_rx = None;
        }
        if let Some((key, rx)) = &self.history_rx
            && let Ok(h) = rx.try_recv()
        {
            self.history = Some((*key, h));
            self.history_rx = None;
        }
        if let Some(rx) = &self.placing_rx
            && let Ok(r) = rx.try_recv()
        {
            self.placing = Some(r);
            self.placing_rx = None;
        }
        let mut message = self.poll_opening();
        let Some(job) = &self.job else {
            return (message, false);
        };
        let Ok((out, req)) = job.rx.try_recv() else {
            return (message, false);
        };
        self.job = None;
        let r = self.finished(req, out);
        message = r.0.or(message);
        let r = (message, r.1);
        // The next pending edit, once this one is done.
        if self.job.is_none()
            && let (Some(s), Some(p)) = (source, self.next_pending())
        {
            self.reapply(s, editor, p, ctx);
        }
        r
    }

    /// Forms and confirmations whose drafts were read.
    fn poll_opening(&mut self) -> Option<String> {
        let mut message = None;
        if let Some(rx) = &self.opening
            && let Ok(r) = rx.try_recv()
        {
            self.opening = None;
            match r {
                Ok(f) => self.form = Some(f),
                Err(e) => message = Some(format!("Cannot edit it: {e}")),
            }
        }
        if let Some(rx) = &self.deleting
            && let Ok((key, r, what)) = rx.try_recv()
        {
            self.deleting = None;
            match r {
                Ok((d, v)) => self.confirm_delete = Some((key, v, d, what)),
                Err(e) => message = Some(format!("Cannot delete it: {e}")),
            }
        }
        if let Some(rx) = &self.moving
            && let Ok((key, r, to)) = rx.try_recv()
        {
            self.moving = None;
            match r {
                Ok((d, v)) => self.confirm_move = Some((key, v, d, to)),
                Err(e) => message = Some(format!("Cannot move it: {e}")),
            }
        }
        message
    }

    fn next_pending(&mut self) -> Option<Pending> {
        (!self.pending.is_empty()).then(|| self.pending.remove(0))
    }

    /// The outcome of a write.
    fn finished(&mut self, req: Request, out: Outcome) -> (Option<String>, bool) {
        match out {
            Outcome::Written(w) => {
                let done = Done {
                    key: w.key,
                    version: w.version,
                    before: req.before.clone(),
                    after: req.after.clone(),
                };
                match req.purpose {
                    Purpose::Edit => {
                        self.undo.push(done);
                        self.redo.clear();
                    }
                    Purpose::Undo => self.redo.push(done),
                    Purpose::Redo => self.undo.push(done),
                }
                if req.from_form {
                    self.form = None;
                }
                self.select_after = w.key;
                self.history = None;
                (Some(format!("Saved: {}", req.what)), true)
            }
            Outcome::Gone => {
                self.unapplied.push(Pending {
                    why: Some("the incident is no longer in the data".into()),
                    request: req,
                });
                (None, true)
            }
            Outcome::Failed(SourceError::Conflict {
                key,
                theirs,
                version,
            }) => {
                self.conflict = Some(Conflict::new(key, version, theirs.map(|t| *t), &req));
                (
                    Some(format!("{}: someone else changed it first", req.what)),
                    true,
                )
            }
            // The data was read again since the edit began (another program saved the file):
            // the edit is re-applied where its incident is now.
            Outcome::Failed(SourceError::NoSuchIncident(_))
                if req.before.is_some() && !matches!(req.edit, Edit::Insert(_)) =>
            {
                self.pending.insert(
                    0,
                    Pending {
                        request: req,
                        why: None,
                    },
                );
                (None, false)
            }
            Outcome::Failed(SourceError::Changed { file }) => {
                let m = format!("{file} changed on disk since it was loaded; nothing was written");
                self.changed = Some((req, m.clone()));
                (Some(m), false)
            }
            Outcome::Failed(SourceError::Invalid(why)) if req.from_form => {
                if let Some(f) = &mut self.form {
                    f.problems = why.0;
                    f.tried = true;
                }
                (Some("Not saved: see the form".into()), false)
            }
            Outcome::Failed(e) => (Some(format!("Not saved ({}): {e}", req.what)), false),
        }
    }

    /// The file changed underneath: read it again, then re-apply the edit (called with the
    /// user's yes).
    pub fn reload_and_reapply(&mut self) {
        if let Some((req, _)) = self.changed.take() {
            self.pending.push(Pending {
                request: req,
                why: None,
            });
        }
    }

    /// The data was read again: re-apply what waits (one at a time, on a worker).
    pub fn data_read_again(&mut self, source: &Arc<dyn Source>, editor: &str, ctx: &egui::Context) {
        if self.job.is_none()
            && let Some(p) = self.next_pending()
        {
            self.reapply(source, editor, p, ctx);
        }
    }

    /// Whether edits wait for the data to be read again.
    pub fn waiting(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The conflict resolved with `draft` (mine, theirs or a mix), written from their version.
    pub fn resolve(
        &mut self,
        source: &Arc<dyn Source>,
        editor: &str,
        draft: Option<Draft>,
        ctx: &egui::Context,
    ) {
        let Some(c) = self.conflict.take() else {
            return;
        };
        let Some(d) = draft else {
            // Theirs kept: nothing to write; the form (if any) closes.
            self.form = None;
            return;
        };
        let edit = match &c.theirs {
            Some(_) => Edit::Update {
                key: c.key,
                version: c.version,
                draft: d.clone(),
            },
            // They deleted it: mine comes back as a new incident.
            None => Edit::Insert(d.clone()),
        };
        let req = Request {
            edit,
            before: c.theirs.clone(),
            after: Some(d),
            purpose: Purpose::Edit,
            what: c.what.clone(),
            from_form: self.form.is_some(),
        };
        self.start(source, editor, req, ctx);
    }
}

/// Adds `new` to `target`'s accounts (the target's own account first, when it had none) and
/// marks it disputed when the accounts differ in date or counts.
pub fn add_account(target: &mut Draft, schema: &Schema, new: &Draft) -> Result<(), SourceError> {
    let column = schema
        .column(Role::Accounts)
        .map(str::to_string)
        .or_else(|| (!schema.position_in_columns).then(|| "accounts".to_string()))
        .ok_or_else(|| {
            SourceError::ReadOnly(
                "this file has no accounts column: save a copy as GeoJSON to record accounts"
                    .into(),
            )
        })?;
    let text = |d: &Draft, role: Role| d.role_text(schema, role).trim().to_string();
    let account = |d: &Draft| {
        let url = schema
            .columns_of(Role::Source)
            .iter()
            .map(|c| d.text(c))
            .find(|t| t.starts_with("http"))
            .unwrap_or_default();
        Account {
            source: text(d, Role::Source),
            source_url: url,
            date: text(d, Role::Date),
            claim: text(d, Role::Description),
            fatalities: text(d, Role::Fatalities),
            injuries: text(d, Role::Injuries),
            rest: Default::default(),
        }
    };
    let existing = match target.get(&column) {
        Some(Value::String(s)) => serde_json::from_str::<Value>(s).unwrap_or(Value::Null),
        Some(v) => v.clone(),
        None => Value::Null,
    };
    let mut list: Vec<Account> = existing
        .as_array()
        .map(|a| a.iter().map(Account::of).collect())
        .unwrap_or_default();
    if list.is_empty() {
        list.push(account(target));
    }
    list.push(account(new));
    let differ = |f: fn(&Account) -> &str| {
        let mut v: Vec<&str> = list.iter().map(f).filter(|t| !t.is_empty()).collect();
        v.sort_unstable();
        v.dedup();
        v.len() > 1
    };
    let disputed = differ(|a| &a.date) || differ(|a| &a.fatalities) || differ(|a| &a.injuries);
    let values: Vec<Value> = list.iter().map(Account::value).collect();
    if schema.position_in_columns {
        target.set(&column, Value::String(Value::Array(values).to_string()));
    } else {
        target.set(&column, Value::Array(values));
    }
    if disputed {
        let name = schema
            .column(Role::Disputed)
            .unwrap_or("disputed")
            .to_string();
        target.set_text(schema, &name, "true");
    }
    Ok(())
}

/// Re-applies `req` to `src` as read again: its incident found by its own id, else by its
/// fields and position; written when it is as the edit found it, else a conflict.
fn reapply_on(src: &dyn Source, req: &Request, who: &str, ctl: &Control) -> Outcome {
    let Some(before) = &req.before else {
        // A new incident: added again.
        return Outcome::from(src.write(&req.edit, who, ctl));
    };
    let key = match locate(src, before, ctl) {
        Ok(Some(k)) => k,
        Ok(None) => return Outcome::Gone,
        Err(e) => return Outcome::Failed(e),
    };
    let (now, version) = match src.draft(key, ctl) {
        Ok(x) => x,
        Err(e) => return Outcome::Failed(e),
    };
    if !same(&now, before) {
        return Outcome::Failed(SourceError::Conflict {
            key,
            theirs: Some(Box::new(now)),
            version,
        });
    }
    let edit = match &req.edit {
        Edit::Update { draft, .. } => Edit::Update {
            key,
            version,
            draft: draft.clone(),
        },
        Edit::Delete { .. } => Edit::Delete { key, version },
        Edit::Insert(d) => Edit::Insert(d.clone()),
    };
    match src.write(&edit, who, ctl) {
        Ok(w) => Outcome::Written(w),
        Err(SourceError::NoSuchIncident(_)) => Outcome::Gone,
        Err(e) => Outcome::Failed(e),
    }
}

/// Whether two drafts hold the same fields (as text) and position.
fn same(a: &Draft, b: &Draft) -> bool {
    let texts = |d: &Draft| {
        d.fields
            .iter()
            .map(|(n, v)| (n.clone(), text_of(Some(v), Role::Other)))
            .filter(|(_, t)| !t.is_empty())
            .collect::<Vec<_>>()
    };
    texts(a) == texts(b) && position_text(a) == position_text(b)
}

/// The incident of `src` that `d` was: by its own id, else the one with the same fields.
fn locate(src: &dyn Source, d: &Draft, ctl: &Control) -> Result<Option<Key>, SourceError> {
    let own = crate::links::ID_NAMES
        .iter()
        .map(|n| d.text(n))
        .find(|t| !t.trim().is_empty());
    if let Some(id) = own {
        let keys = src.find(&Find::Id(id.trim().to_string()), ctl)?;
        return Ok(keys.first().copied());
    }
    let inc = src.incidents(
        &crate::query::Filter::default(),
        &crate::source::Fetch::up_to(crate::source::FETCH_LIMIT),
        ctl,
    )?;
    for i in 0..inc.store.len() {
        if inc.store.lon[i] != d.lon || inc.store.lat[i] != d.lat {
            continue;
        }
        let key = inc.key(i as u32);
        if let Ok((now, _)) = src.draft(key, ctl)
            && same(&now, d)
        {
            return Ok(Some(key));
        }
    }
    Ok(None)
}
