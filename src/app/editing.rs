//! The window's edit actions, between the user's clicks and the [`Editor`]: opening the form
//! (new, at a place, on the selected incident), saving it (possible duplicates asked about
//! first), deleting and moving with confirmation, undo and redo, the history, a new incident
//! file and a copy saved as GeoJSON. Every write goes through the open source on a worker.

use std::path::PathBuf;

use super::App;
use super::editor::{Form, Purpose, Request, Target};
use crate::edit::{Draft, Schema};
use crate::progress::Control;
use crate::source::{Edit, Key};

/// Why a new incident file or a copy was not made.
#[derive(Debug, thiserror::Error)]
pub enum FileActionError {
    /// Never over an existing file.
    #[error("{} already exists", .0.display())]
    Exists(PathBuf),
    /// Writing failed.
    #[error("cannot create {}: {error}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        error: std::io::Error,
    },
    /// Nothing to copy.
    #[error("no data is open")]
    NoData,
}

/// An empty GeoJSON incident file (the bundled data's fields come with the first incident).
pub const EMPTY_FILE: &str = "{\"type\": \"FeatureCollection\", \"features\": [\n]}\n";

impl App {
    /// The name edits are recorded under.
    pub fn editor_name(&self) -> String {
        crate::edit::editor_name(&self.chrome.editor)
    }

    /// Why editing is off (`None`: it is on).
    pub fn why_not_editable(&self) -> Option<String> {
        if self.source.is_none() {
            return Some("no data is open".into());
        }
        self.editor.why_not()
    }

    /// The types the data knows, for the form.
    fn known_types(&self) -> Vec<String> {
        let mut t: Vec<String> = self
            .data
            .as_ref()
            .map(|d| d.store.types.names().map(str::to_string).collect())
            .unwrap_or_default();
        t.sort();
        t.dedup();
        t
    }

    /// Opens the form on a new incident, at `at` (lon, lat) when given.
    pub fn new_incident(&mut self, at: Option<(f64, f64)>) {
        if let Some(why) = self.why_not_editable() {
            self.chrome.message = Some(format!("Cannot add incidents: {why}"));
            return;
        }
        let Some(source) = &self.source else { return };
        // A file's schema is in memory; a table's was read with its permissions.
        let schema = self
            .editor
            .schema
            .clone()
            .or_else(|| source.schema(&Control::default()).ok())
            .unwrap_or_else(Schema::new_file);
        let mut d = Draft::empty(&schema);
        if let Some((lon, lat)) = at {
            (d.lon, d.lat) = (lon, lat);
        }
        d.set_role(&schema, crate::model::Role::DatePrecision, "day");
        self.editor.form = Some(Form::new(Target::New, schema, d, self.known_types()));
    }

    /// Opens the form on the selected incident.
    pub fn edit_selected(&mut self) {
        if let Some(why) = self.why_not_editable() {
            self.chrome.message = Some(format!("Cannot edit: {why}"));
            return;
        }
        let (Some(key), Some(source)) = (self.selected_key(), self.source.clone()) else {
            return;
        };
        let types = self.known_types();
        self.editor
            .open_existing(&source, key, types, &self.ctx.clone());
    }

    /// Asks to delete the selected incident (confirmed in a dialog).
    pub fn delete_selected(&mut self) {
        if let Some(why) = self.why_not_editable() {
            self.chrome.message = Some(format!("Cannot delete: {why}"));
            return;
        }
        let (Some(i), Some(key), Some(source)) =
            (self.pick.selected, self.selected_key(), self.source.clone())
        else {
            return;
        };
        let what = self.incident_line(i);
        self.editor
            .ask_delete(&source, key, what, &self.ctx.clone());
    }

    /// "date  type  place" of store index `i`.
    pub fn incident_line(&self, i: u32) -> String {
        self.data.as_ref().map_or_else(String::new, |d| d.line(i))
    }

    /// The selected incident's key.
    pub fn selected_key(&self) -> Option<Key> {
        let (i, d) = (self.pick.selected?, self.data.as_ref()?);
        Some(d.incidents.key(i))
    }

    /// Writes `req` through the open source.
    pub fn write(&mut self, req: Request) {
        if let Some(s) = self.source.clone() {
            let who = self.editor_name();
            self.editor.start(&s, &who, req, &self.ctx.clone());
        }
    }

    /// Saves the form: checked first (every reason beside its field); a new incident's
    /// possible duplicates are asked about before it is added.
    pub fn save_form(&mut self, anyway: bool) {
        let dupes_rule = self.analyst.tools.dupes;
        let Some(form) = &mut self.editor.form else {
            return;
        };
        form.tried = true;
        let Some((draft, row)) = form.check() else {
            return;
        };
        let req = match form.target {
            Target::New => {
                if !anyway && let Some(d) = &self.data {
                    let found = crate::dupes::of_row(&d.store, &row, dupes_rule);
                    if !found.is_empty() {
                        form.duplicates = Some(found);
                        return;
                    }
                }
                Request {
                    what: "the new incident".into(),
                    edit: Edit::Insert(draft.clone()),
                    before: None,
                    after: Some(draft),
                    purpose: Purpose::Edit,
                    from_form: true,
                }
            }
            Target::Existing { key, version } => Request {
                what: "the incident".into(),
                edit: Edit::Update {
                    key,
                    version,
                    draft: draft.clone(),
                },
                before: Some(form.base().clone()),
                after: Some(draft),
                purpose: Purpose::Edit,
                from_form: true,
            },
        };
        self.write(req);
    }

    /// Adds the form's new incident as another account of store index `i`.
    pub fn add_as_account_of(&mut self, i: u32) {
        let (Some(source), Some(d)) = (self.source.clone(), &self.data) else {
            return;
        };
        let key = d.incidents.key(i);
        let Some(draft) = self.editor.form.as_ref().and_then(|f| f.draft().ok()) else {
            return;
        };
        let who = self.editor_name();
        self.editor
            .add_as_account(&source, &who, key, draft, &self.ctx.clone());
    }

    /// Takes back the last edit (Ctrl+Z).
    pub fn undo(&mut self) {
        if let Some(s) = self.source.clone() {
            let who = self.editor_name();
            if let Some(m) = self.editor.undo(&s, &who, &self.ctx.clone()) {
                self.chrome.message = Some(m);
            }
        }
    }

    /// Does again what was taken back (Ctrl+Shift+Z).
    pub fn redo(&mut self) {
        if let Some(s) = self.source.clone() {
            let who = self.editor_name();
            if let Some(m) = self.editor.redo(&s, &who, &self.ctx.clone()) {
                self.chrome.message = Some(m);
            }
        }
    }

    /// Restores incident `key` to `draft` (a version from its history): an edit like any other.
    pub fn restore(&mut self, key: Key, draft: Draft) {
        let Some(source) = self.source.clone() else {
            return;
        };
        let who = self.editor_name();
        let ctx = self.ctx.clone();
        self.editor.restore(&source, &who, key, draft, &ctx);
    }

    /// One frame of editing: outcomes of writes in, the data read again after one.
    pub(super) fn edit_frame(&mut self) {
        let who = self.editor_name();
        let (message, read_again) = self
            .editor
            .poll(self.source.as_ref(), &who, &self.ctx.clone());
        if let Some(m) = message {
            self.chrome.message = Some(m);
        }
        if read_again {
            self.read_again();
            // The list of rows to place is read again too (keys and rows changed).
            if self.editor.placing.is_some() {
                self.place_unplaced();
            }
        }
        // A copy saved as GeoJSON: the window continues there.
        match self.editor.copy_done() {
            Some(Ok(p)) => {
                self.chrome.message = Some(format!("Saved a copy as {}; editing it", p.display()));
                self.open(&self.ctx.clone(), vec![p]);
            }
            Some(Err(e)) => self.chrome.message = Some(e.to_string()),
            None => {}
        }
        // The history of the selected incident, read when the details show it.
        if let (Some(key), Some(source)) = (self.selected_key(), self.source.clone())
            && self.data.as_ref().is_some_and(|d| d.records)
            && self.editor.history.as_ref().is_none_or(|(k, _)| *k != key)
        {
            self.editor.ask_history(&source, key, &self.ctx.clone());
        }
    }

    /// Reads the source's incidents again (after a write, or to re-apply edits).
    pub fn read_again(&mut self) {
        if self.remote.is_some() || self.loader.is_some() {
            // A table asked view by view follows its change feed.
            return;
        }
        if let Some(s) = &self.source {
            self.loader = Some(super::loader::Loader::again(
                s.clone(),
                self.resident_limit,
                self.ctx.clone(),
            ));
        }
    }

    /// Opens the list of rows that name a place but have no position (read on a worker).
    pub fn place_unplaced(&mut self) {
        let Some(source) = self.source.clone() else {
            return;
        };
        let near = self
            .data
            .as_ref()
            .and_then(|d| d.store.bbox())
            .map(|b| ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0));
        self.editor.placing = Some(Ok(Vec::new()));
        self.editor.ask_unplaced(&source, near, &self.ctx.clone());
    }

    /// Places row `k` of the list at its candidate `c`, through the same writes as every edit.
    pub fn place_at(&mut self, k: usize, c: usize) {
        let Some(Ok(list)) = &self.editor.placing else {
            return;
        };
        let (Some(p), Some(schema)) = (list.get(k), self.editor.schema.clone()) else {
            return;
        };
        let Some(at) = p.candidates.get(c) else {
            return;
        };
        let draft = crate::source::placed(&p.row, at, &schema);
        let req = Request::new(
            Edit::Update {
                key: p.row.key,
                version: p.row.version,
                draft: draft.clone(),
            },
            (Some(p.row.draft.clone()), Some(draft)),
            &format!("the position of {}", p.row.origin),
        );
        self.write(req);
    }

    /// Opens the form on row `k` of the list, to type its position.
    pub fn place_by_hand(&mut self, k: usize) {
        let Some(Ok(list)) = &self.editor.placing else {
            return;
        };
        let (Some(p), Some(schema)) = (list.get(k), self.editor.schema.clone()) else {
            return;
        };
        let target = Target::Existing {
            key: p.row.key,
            version: p.row.version,
        };
        let form = Form::new(target, schema, p.row.draft.clone(), self.known_types());
        self.editor.form = Some(form);
    }

    /// Creates an empty incident file at `path` (never over an existing one) and opens it.
    pub fn create_incident_file(&mut self, path: PathBuf) -> Result<(), FileActionError> {
        if path.exists() {
            return Err(FileActionError::Exists(path));
        }
        crate::atomic::write_atomic(&path, |w| w.write_all(EMPTY_FILE.as_bytes())).map_err(
            |error| FileActionError::Write {
                path: path.clone(),
                error,
            },
        )?;
        self.open(&self.ctx.clone(), vec![path]);
        Ok(())
    }

    /// Writes every incident to a GeoJSON file at `path` (on a worker) and continues there.
    pub fn save_copy_as_geojson(&mut self, path: PathBuf) -> Result<(), FileActionError> {
        let Some(d) = &self.data else {
            return Err(FileActionError::NoData);
        };
        if path.exists() {
            return Err(FileActionError::Exists(path));
        }
        let store = d.store.clone();
        self.editor.save_copy_to(store, path, &self.ctx.clone());
        Ok(())
    }
}
