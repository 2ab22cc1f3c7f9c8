//! File → Export data…: the filtered incidents written as CSV, GeoJSON, KML or KMZ, atomically,
//! through the same writers as `incident-map filter`, on a worker that asks the source for them.

use std::path::PathBuf;
use std::sync::Arc;

use crate::output::OutFormat;
use crate::query::Filter;
use crate::source::{FETCH_LIMIT, Fetch, Source};

/// Why the incidents were not written.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The source could not give them.
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
    /// The file could not be written.
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
}

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
    job: super::file_job::FileJob<DataError>,
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

impl DataForm {
    /// Writes the incidents of `source` matching `filter` to the path in the chosen format, on
    /// a worker.
    pub fn save(&mut self, source: Arc<dyn Source>, filter: Filter, ctx: &egui::Context) {
        let path = PathBuf::from(self.path.trim());
        if path.as_os_str().is_empty() {
            self.message = Some("Name the file to write".into());
            return;
        }
        let format = self.format;
        self.message = Some(format!("Writing {}…", path.display()));
        self.job.start("incident-map-export-data", ctx, move || {
            let ctl = crate::progress::Control::default();
            let inc = source.incidents(&filter, &Fetch::up_to(FETCH_LIMIT), &ctl)?;
            crate::output::write_file(&inc.store, &inc.selection, format, &path)?;
            Ok(format!(
                "Wrote {} incidents to {}",
                inc.selection.len(),
                path.display()
            ))
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
