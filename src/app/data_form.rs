//! File → Export data…: the filtered incidents written as CSV or GeoJSON, atomically, through the
//! same writers as `incident-map filter`, on a worker (records are read back from their files;
//! a table's matching incidents are fetched first).

use std::path::PathBuf;
use std::sync::Arc;

use crate::output::OutFormat;
use crate::query::{Filter, Selection};
use crate::store::Store;

/// The dialog's state.
pub struct DataForm {
    /// Whether it is open.
    pub show: bool,
    /// The format.
    pub format: OutFormat,
    /// Where to write.
    pub path: String,
    /// What happened last.
    pub message: Option<String>,
    job: super::file_job::FileJob,
}

impl Default for DataForm {
    fn default() -> Self {
        DataForm {
            show: false,
            format: OutFormat::Csv,
            path: "incidents.csv".into(),
            message: None,
            job: Default::default(),
        }
    }
}

/// What to write: a file's selection, or a table's filter (fetched on the worker).
pub enum Source {
    /// Incidents already loaded, and those selected.
    Loaded(Arc<Store>, Selection),
    /// A table and the window's filter.
    Table(Box<(crate::db::DbSource, Filter)>),
}

impl DataForm {
    /// Writes `source` to the path in the chosen format on a worker.
    pub fn save(&mut self, source: Source, ctx: &egui::Context) {
        let path = PathBuf::from(self.path.trim());
        if path.as_os_str().is_empty() {
            self.message = Some("Name the file to write".into());
            return;
        }
        let format = self.format;
        self.message = Some(format!("Writing {}…", path.display()));
        self.job.start("incident-map-export-data", ctx, move || {
            let r = match source {
                Source::Loaded(store, sel) => {
                    crate::output::write_file(&store, &sel, format, &path).map(|()| sel.len())
                }
                Source::Table(t) => {
                    let (db, filter) = *t;
                    crate::db::fetch(&db, &filter, crate::db::fetch::FETCH_LIMIT)
                        .map_err(|e| e.to_string())
                        .and_then(|r| {
                            let sel = r
                                .store
                                .select(&Filter::default())
                                .map_err(|e| e.to_string())?;
                            crate::output::write_file(&r.store, &sel, format, &path)
                                .map(|()| sel.len())
                        })
                }
            };
            r.map(|n| format!("Wrote {n} incidents to {}", path.display()))
        });
    }

    /// Takes the result of a write.
    pub fn poll(&mut self) {
        if let Some(m) = self.job.poll() {
            self.message = Some(m);
        }
    }

    /// Waits for a write (tests).
    pub fn wait(&mut self) {
        if let Some(m) = self.job.wait() {
            self.message = Some(m);
        }
    }
}
