//! The Chart window's state: the bar width, where to save, and a save running on a worker
//! (a PNG needs the off-screen renderer, which takes a moment to start).

use std::path::PathBuf;

use crate::chart::Chart;
use crate::date::Every;

/// The Chart window.
pub struct ChartForm {
    /// Whether it is open.
    pub show: bool,
    /// Bar width.
    pub every: Every,
    /// Where Save writes (`.csv` or `.png`).
    pub path: String,
    /// What happened last.
    pub message: Option<String>,
    job: super::file_job::FileJob<crate::export::ChartError>,
    /// The chart last counted, for (selection generation, bar width).
    cached: Option<((u64, Every), Option<Chart>)>,
}

impl Default for ChartForm {
    fn default() -> Self {
        ChartForm {
            show: false,
            every: Every::Week,
            path: String::from("chart.png"),
            message: None,
            job: Default::default(),
            cached: None,
        }
    }
}

impl ChartForm {
    /// The chart for selection `generation` at the current bar width, counted once (`count` runs
    /// only when either changed).
    pub fn chart(
        &mut self,
        generation: u64,
        count: impl FnOnce(Every) -> Option<Chart>,
    ) -> Option<Chart> {
        let key = (generation, self.every);
        if self.cached.as_ref().is_none_or(|c| c.0 != key) {
            self.cached = Some((key, count(self.every)));
        }
        self.cached.as_ref().and_then(|c| c.1.clone())
    }

    /// The title the chart is drawn with.
    pub fn title(&self, filter: &str) -> String {
        let unit = match self.every {
            Every::Day => "day",
            Every::Week => "week",
            Every::Month => "month",
        };
        format!("Incidents per {unit} — {filter}")
    }

    /// Saves `chart` to the path (atomically) on a worker: CSV or PNG by the extension.
    pub fn save(&mut self, chart: Chart, title: String, ctx: &egui::Context) {
        let path = PathBuf::from(self.path.trim());
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if !matches!(ext.as_deref(), Some("png" | "csv")) {
            self.message = Some("The file must end in .png or .csv".into());
            return;
        }
        self.message = Some(format!("Saving {}…", path.display()));
        self.job.start("incident-map-chart", ctx, move || {
            let choice = crate::view::offscreen::RendererChoice::from_env();
            crate::export::write_chart(&chart, &title, &path, (1200, 600), &choice)
                .map(|()| format!("Wrote {}", path.display()))
        });
    }

    /// Takes the result of a save.
    pub fn poll(&mut self) {
        if let Some(m) = self.job.poll() {
            self.message = Some(m);
        }
    }

    /// Waits for a save (tests).
    pub fn wait(&mut self) {
        if let Some(m) = self.job.wait() {
            self.message = Some(m);
        }
    }
}
