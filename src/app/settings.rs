//! What the window keeps between sessions, in `$XDG_CONFIG_HOME/incident-map/settings.json`,
//! written atomically. The filter, viewport and base layer are the shared serde types; files
//! written by earlier versions still open.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::timeline::Timeline;
use crate::query::Filter;
use crate::view::tiles::BaseLayer;
use crate::view::viewport::Viewport;

/// The table's height at first start: a header and about four rows, so the map keeps most of
/// the window (it can be dragged taller, or hidden with T).
pub const TABLE_HEIGHT: f32 = 118.0;

/// What is kept between sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Saved {
    /// Opened files.
    pub files: Vec<PathBuf>,
    /// Dates, text, area.
    pub filter: Filter,
    /// Type names switched off.
    pub hidden: BTreeSet<String>,
    /// The map's centre and zoom.
    pub view: Option<Viewport>,
    /// Base layer.
    pub base: BaseLayer,
    /// Whether the table is open.
    pub show_table: bool,
    /// The table's height in points, as last resized.
    pub table_height: f32,
    /// Timeline settings.
    pub timeline: Timeline,
    /// Window position and inner size in points: x, y, width, height.
    pub window: Option<[f32; 4]>,
    /// Rings, labels and arrows.
    pub tools: crate::tools::Tools,
    /// Symbols or the density layer.
    pub layer: crate::density::Layer,
    /// The name edits are recorded under (empty: the login name).
    pub editor: String,
    /// The time-stamping authority (RFC 3161) new evidence is timestamped at (empty: none).
    pub tsa: String,
}

impl Default for Saved {
    fn default() -> Self {
        Saved {
            files: Vec::new(),
            filter: Filter::default(),
            hidden: BTreeSet::new(),
            view: None,
            base: BaseLayer::Osm,
            show_table: true,
            table_height: TABLE_HEIGHT,
            timeline: Timeline::default(),
            window: None,
            tools: crate::tools::Tools::default(),
            layer: crate::density::Layer::Points,
            editor: String::new(),
            tsa: String::new(),
        }
    }
}

/// Why the settings could not be saved.
#[derive(Debug, thiserror::Error)]
#[error("cannot save settings to {}: {source}", path.display())]
pub struct SettingsError {
    /// The settings file.
    pub path: PathBuf,
    /// What failed.
    pub source: std::io::Error,
}

/// Where the settings live: `$XDG_CONFIG_HOME/incident-map/settings.json`.
pub fn settings_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("incident-map").join("settings.json"))
}

/// The name edits are recorded under: the settings' editor name, else the login name.
pub fn editor_name() -> String {
    let configured = settings_path()
        .and_then(|p| load_settings(&p))
        .map(|s| s.editor)
        .unwrap_or_default();
    crate::edit::editor_name(&configured)
}

/// The time-stamping authority of the settings, when one is set.
pub fn tsa_url() -> Option<String> {
    settings_path()
        .and_then(|p| load_settings(&p))
        .map(|s| s.tsa)
        .filter(|t| !t.trim().is_empty())
}

/// Reads the settings; a missing or unreadable file gives `None` (and never stops the window).
pub fn load_settings(path: &Path) -> Option<Saved> {
    let bytes = std::fs::read(path).ok()?;
    match serde_json::from_slice::<Saved>(&bytes) {
        Ok(mut s) => {
            // Tools that cannot be drawn are left out; the rest of the session is kept.
            if let Err(e) = s.tools.check() {
                eprintln!("warning: ignoring the tools in {}: {e}", path.display());
                s.tools = crate::tools::Tools {
                    dupes: s.tools.dupes,
                    ..Default::default()
                };
            }
            Some(s)
        }
        Err(e) => {
            eprintln!("warning: ignoring {}: {e}", path.display());
            None
        }
    }
}

/// Writes the settings atomically (a crash mid-write leaves the previous settings).
pub fn save_settings(path: &Path, s: &Saved) -> Result<(), SettingsError> {
    let err = |source| SettingsError {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let text = serde_json::to_string_pretty(s).map_err(|e| err(e.into()))?;
    crate::atomic::write_atomic(path, |w| w.write_all(text.as_bytes())).map_err(err)
}

/// Autosave bookkeeping: what was saved last and when.
#[derive(Debug, Default)]
pub struct Autosave {
    /// Where settings are saved (none in tests and exports).
    pub path: Option<PathBuf>,
    last_time: Option<f64>,
    last: Option<Saved>,
}

impl Autosave {
    /// Saves `now_saved` when it differs from what was saved last, at most every two seconds;
    /// returns an error message to show, if saving failed.
    pub fn tick(&mut self, ctx: &egui::Context, now_saved: Saved) -> Option<String> {
        let path = self.path.as_ref()?;
        if self.last.as_ref() == Some(&now_saved) {
            return None;
        }
        let now = ctx.input(|i| i.time);
        let wait = self.last_time.map_or(0.0, |t| 2.0 - (now - t));
        if wait > 0.0 {
            // Come back when the pause is over, even if nothing else moves.
            ctx.request_repaint_after(std::time::Duration::from_secs_f64(wait));
            return None;
        }
        self.last_time = Some(now);
        match save_settings(path, &now_saved) {
            Ok(()) => {
                self.last = Some(now_saved);
                None
            }
            Err(e) => Some(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A settings file written before the shared schema.
    #[test]
    fn old_settings_files_still_open() {
        let old = r#"{
  "files": ["/data/incidents.geojson"],
  "filter": {"from": 18778, "to": null, "types": [], "text": "asad", "bbox": null},
  "hidden": ["IED"],
  "view": [43.5, 33.9, 6.25],
  "base": {"Xyz": {"template": "http://127.0.0.1:8080/{z}/{x}/{y}.png", "attribution": "Local"}},
  "show_table": false,
  "timeline": {"bin": "Week", "cumulative": true, "days_per_second": 7.0},
  "window": [10.0, 20.0, 1200.0, 700.0]
}"#;
        let s: Saved = serde_json::from_str(old).unwrap();
        assert_eq!(
            s.filter.from.map(crate::date::format_day).as_deref(),
            Some("2021-05-31")
        );
        assert_eq!(s.filter.text.as_deref(), Some("asad"));
        assert_eq!(
            s.view,
            Some(Viewport::Center {
                lat: 33.9,
                lon: 43.5,
                zoom: 6.25
            })
        );
        assert!(matches!(s.base, BaseLayer::Xyz { .. }));
        // Written back in the shared schema, and read again the same.
        let text = serde_json::to_string(&s).unwrap();
        assert!(text.contains(r#""from":"2021-05-31""#), "{text}");
        assert!(text.contains(r#""kind":"xyz""#), "{text}");
        assert_eq!(serde_json::from_str::<Saved>(&text).unwrap(), s);
    }
}
