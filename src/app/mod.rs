//! The window: filters, map, timeline, table, details and load problems, around the shared
//! map view. Everything is drawn from [`App::ui`], so tests drive the real UI with egui_kittest.

pub mod export_dialog;
pub mod loader;
pub mod panels;
pub mod timeline;

use std::collections::BTreeSet;
use std::path::PathBuf;

use egui::{Key, Modifiers};
use serde::{Deserialize, Serialize};
use walkers::{MapMemory, lon_lat};

use crate::cluster::{ClusterIndex, ClusterSel};
use crate::date::{Day, format_day};
use crate::import::{FileError, Overrides};
use crate::model::Problem;
use crate::query::{Filter, Selection};
use crate::store::Store;

use crate::view::overlay::LegendEntry;
use crate::view::tiles::{BaseLayer, TrackedTiles, make_tiles};
use crate::view::{Marker, MarkerKind, Screen, hit};
use loader::Loader;
use timeline::Timeline;

/// Loaded data and everything derived from it once.
pub struct Data {
    /// The incidents.
    pub store: Store,
    /// Their cluster index.
    pub index: ClusterIndex,
    /// Row problems.
    pub problems: Vec<Problem>,
    /// Files that failed.
    pub errors: Vec<FileError>,
    /// Rows skipped.
    pub skipped: usize,
    /// Files as asked for.
    pub files: Vec<PathBuf>,
}

/// How the window starts.
#[derive(Debug, Clone, Default)]
pub struct WindowOptions {
    /// Files to open (none: the last session's, else the bundled dataset).
    pub files: Vec<PathBuf>,
    /// Base layer from the command line.
    pub base: Option<BaseLayer>,
    /// Column overrides.
    pub overrides: Overrides,
}

/// What is kept between sessions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Saved {
    /// Opened files.
    pub files: Vec<PathBuf>,
    /// Dates, text, area.
    pub filter: Filter,
    /// Type names switched off.
    pub hidden: BTreeSet<String>,
    /// Map centre (lon, lat) and zoom.
    pub view: Option<(f64, f64, f64)>,
    /// Base layer.
    pub base: BaseLayer,
    /// Whether the table is open.
    pub show_table: bool,
    /// Timeline settings.
    pub timeline: Timeline,
    /// Window position and inner size in points: x, y, width, height.
    pub window: Option<[f32; 4]>,
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
            timeline: Timeline::default(),
            window: None,
        }
    }
}

/// Where the settings live: `$XDG_CONFIG_HOME/incident-map/settings.json`.
pub fn settings_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("incident-map").join("settings.json"))
}

/// Reads the settings; a missing or unreadable file gives `None` (and never stops the window).
pub fn load_settings(path: &std::path::Path) -> Option<Saved> {
    let bytes = std::fs::read(path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("warning: ignoring {}: {e}", path.display());
            None
        }
    }
}

/// Writes the settings atomically (a crash mid-write leaves the previous settings).
pub fn save_settings(path: &std::path::Path, s: &Saved) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(s).map_err(|e| e.to_string())?;
    crate::atomic::write_atomic(path, |w| w.write_all(text.as_bytes()))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The application state.
pub struct App {
    /// Loaded data, if any.
    pub data: Option<Data>,
    loader: Option<Loader>,
    overrides: Overrides,
    /// Dates, text and area (types are in `hidden`).
    pub filter: Filter,
    /// Type names switched off in the legend or the type list.
    pub hidden: BTreeSet<String>,
    from_text: String,
    to_text: String,
    text_query: String,
    /// Incidents under all filters but the dates, per day (the timeline's bars).
    pub timeline_sel: Selection,
    /// Incidents under all filters but the types (legend and type-list counts).
    pub facet: Selection,
    /// Incidents under all filters.
    pub selection: Selection,
    csel: ClusterSel,
    dirty: bool,
    /// The timeline's bars need recomputing (a filter other than the dates changed).
    bars_stale: bool,
    /// Map position.
    pub memory: MapMemory,
    base: BaseLayer,
    tiles: Option<TrackedTiles>,
    tiles_error: Option<String>,
    markers: Vec<Marker>,
    /// The map's last drawn view.
    pub screen: Option<Screen>,
    pending_fit: bool,
    fitted_rect: Option<egui::Rect>,
    /// Selected incident.
    pub selected: Option<u32>,
    /// Incidents of an expanded stack.
    pub stack: Option<Vec<u32>>,
    /// Timeline and playback.
    pub timeline: Timeline,
    show_table: bool,
    scroll_table: bool,
    cursor: Option<(f64, f64)>,
    message: Option<String>,
    focus_search: bool,
    settings: panels::SettingsForm,
    /// Export, save-view and open-view dialogs.
    pub export: export_dialog::ExportForm,
    /// Types of a view being opened, applied once its data has loaded.
    view_types: Option<Vec<String>>,
    /// Details of the selected incident, parsed once.
    details_cache: Option<(
        u32,
        Result<crate::details::Details, crate::store::ReadError>,
    )>,
    /// The table's source texts.
    sources: panels::SourceCache,
    /// Where settings are saved (none in tests and exports).
    pub settings_file: Option<PathBuf>,
    last_save: f64,
    last_saved_text: String,
    /// Window position and size, for the settings.
    window: Option<[f32; 4]>,
}

/// The bundled dataset: the repository copy when run from a checkout, else a copy of the
/// embedded file written (atomically) to the cache directory.
pub fn bundled_dataset() -> Option<PathBuf> {
    let repo = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/incidents.geojson"
    ));
    if repo.is_file() {
        return Some(repo);
    }
    let dir = dirs::cache_dir()?.join("incident-map");
    std::fs::create_dir_all(&dir).ok()?;
    let p = dir.join("bundled-incidents.geojson");
    let bytes: &[u8] = include_bytes!("../../data/incidents.geojson");
    if std::fs::read(&p).ok().as_deref() != Some(bytes) {
        crate::atomic::write_atomic(&p, |w| w.write_all(bytes)).ok()?;
    }
    Some(p)
}

impl App {
    /// A new window state. `saved` is the previous session's, if any.
    pub fn new(ctx: &egui::Context, opts: WindowOptions, saved: Option<Saved>) -> App {
        let saved = saved.unwrap_or_default();
        let base = opts.base.clone().unwrap_or(saved.base.clone());
        let mut memory = MapMemory::default();
        if let Some((lon, lat, z)) = saved.view {
            memory.center_at(lon_lat(lon, lat));
            let _ = memory.set_zoom(z.clamp(0.0, 19.0));
        } else {
            memory.center_at(lon_lat(44.0, 33.3));
            let _ = memory.set_zoom(5.0);
        }
        let mut app = App {
            data: None,
            loader: None,
            overrides: opts.overrides.clone(),
            from_text: saved.filter.from.map(format_day).unwrap_or_default(),
            to_text: saved.filter.to.map(format_day).unwrap_or_default(),
            text_query: saved.filter.text.clone().unwrap_or_default(),
            filter: saved.filter.clone(),
            hidden: saved.hidden.clone(),
            timeline_sel: Selection::default(),
            facet: Selection::default(),
            selection: Selection::default(),
            csel: ClusterSel::default(),
            dirty: true,
            bars_stale: true,
            memory,
            base: base.clone(),
            tiles: None,
            tiles_error: None,
            markers: Vec::new(),
            screen: None,
            pending_fit: saved.view.is_none(),
            fitted_rect: None,
            selected: None,
            stack: None,
            timeline: saved.timeline.clone(),
            show_table: saved.show_table,
            scroll_table: false,
            cursor: None,
            message: None,
            focus_search: false,
            settings: panels::SettingsForm::from_base(&base),
            export: export_dialog::ExportForm::new(),
            view_types: None,
            details_cache: None,
            sources: panels::SourceCache::default(),
            settings_file: None,
            last_save: f64::NEG_INFINITY,
            last_saved_text: String::new(),
            window: saved.window,
        };
        app.set_base(ctx, base);
        let fit = saved.view.is_none() || !opts.files.is_empty();
        let files = if !opts.files.is_empty() {
            opts.files
        } else if !saved.files.is_empty() && saved.files.iter().all(|f| f.exists()) {
            saved.files
        } else {
            bundled_dataset().into_iter().collect()
        };
        if !files.is_empty() {
            app.open(ctx, files);
        }
        app.pending_fit = fit;
        app
    }

    /// A window state whose files are already loaded (tests and headless rendering: the first
    /// frame then lays out with the data in place, so every run draws the same).
    pub fn loaded(opts: WindowOptions, saved: Option<Saved>) -> App {
        let mut app = App::new(&egui::Context::default(), opts, saved);
        app.finish_loading();
        app
    }

    /// What to keep for the next session.
    pub fn saved(&self) -> Saved {
        let view = self.screen.map(|s| {
            let (lon, lat) = s.center_lonlat();
            (lon, lat, s.zoom)
        });
        Saved {
            files: self
                .data
                .as_ref()
                .map(|d| d.files.clone())
                .unwrap_or_default(),
            filter: self.filter.clone(),
            hidden: self.hidden.clone(),
            view,
            base: self.base.clone(),
            show_table: self.show_table,
            timeline: self.timeline.clone(),
            window: self.window,
        }
    }

    /// Saves the settings when they changed, at most every two seconds.
    fn autosave(&mut self, ctx: &egui::Context) {
        let Some(path) = &self.settings_file else {
            return;
        };
        let now = ctx.input(|i| i.time);
        let s = self.saved();
        let text = serde_json::to_string(&s).unwrap_or_default();
        if text == self.last_saved_text {
            return;
        }
        let wait = 2.0 - (now - self.last_save);
        if wait > 0.0 {
            // Come back when the pause is over, even if nothing else moves.
            ctx.request_repaint_after(std::time::Duration::from_secs_f64(wait));
        } else {
            self.last_save = now;
            match save_settings(path, &s) {
                Ok(()) => self.last_saved_text = text,
                Err(e) => self.message = Some(format!("cannot save settings: {e}")),
            }
        }
    }

    /// Starts loading `files` in the background, replacing the current data when done.
    pub fn open(&mut self, ctx: &egui::Context, files: Vec<PathBuf>) {
        if let Some(l) = &self.loader {
            l.cancel();
        }
        self.loader = Some(Loader::start(files, self.overrides.clone(), ctx.clone()));
        self.pending_fit = true;
        self.fitted_rect = None;
    }

    /// Adds files to those open.
    pub fn add(&mut self, ctx: &egui::Context, files: Vec<PathBuf>) {
        let mut all = self
            .data
            .as_ref()
            .map(|d| d.files.clone())
            .unwrap_or_default();
        for f in files {
            if !all.contains(&f) {
                all.push(f);
            }
        }
        self.open(ctx, all);
    }

    /// Blocks until a pending load finishes (tests, headless rendering).
    pub fn finish_loading(&mut self) {
        if let Some(l) = self.loader.take()
            && let Some(done) = l.wait()
        {
            self.accept(done);
        }
    }

    /// Markers drawn in the last frame (for hit tests and UI tests).
    pub fn markers(&self) -> &[Marker] {
        &self.markers
    }

    fn accept(&mut self, done: loader::Loaded) {
        let r = done.result;
        if r.cancelled {
            self.message = Some("Loading cancelled; the previous data stays open.".into());
            return;
        }
        if r.store.is_empty() && !r.errors.is_empty() && self.data.is_some() {
            self.message = Some(format!(
                "Could not load: {}",
                r.errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
            return;
        }
        self.message = if r.errors.is_empty() {
            None
        } else {
            Some(format!(
                "{} file(s) could not be loaded — see Problems",
                r.errors.len()
            ))
        };
        self.data = Some(Data {
            store: r.store,
            index: done.index,
            problems: r.problems,
            errors: r.errors,
            skipped: r.skipped,
            files: done.files,
        });
        if let (Some(types), Some(d)) = (self.view_types.take(), &self.data) {
            self.hidden = if types.is_empty() {
                BTreeSet::new()
            } else {
                d.store
                    .types
                    .names()
                    .filter(|n| !types.iter().any(|t| t.trim().eq_ignore_ascii_case(n)))
                    .map(String::from)
                    .collect()
            };
        }
        self.selected = None;
        self.stack = None;
        self.details_cache = None;
        self.sources.clear();
        self.changed();
    }

    /// Switches the base layer (tiles are created for this context).
    pub fn set_base(&mut self, ctx: &egui::Context, base: BaseLayer) {
        match make_tiles(&base, ctx) {
            Ok(t) => {
                self.tiles = t;
                self.tiles_error = None;
                self.base = base;
            }
            Err(e) => {
                self.tiles = None;
                self.tiles_error = Some(e);
                self.base = BaseLayer::Offline;
            }
        }
    }

    /// Uses already-built tiles for a base layer (tiles must belong to this window's context).
    pub fn set_tiles(&mut self, base: BaseLayer, tiles: TrackedTiles) {
        self.tiles = Some(tiles);
        self.tiles_error = None;
        self.base = base;
    }

    /// Tiles asked for and shown in the last frame, and downloads in progress.
    pub fn tile_status(&self) -> Option<(usize, usize, usize)> {
        self.tiles
            .as_ref()
            .map(|t| (t.requested, t.shown, t.in_progress()))
    }

    /// The current base layer.
    pub fn base(&self) -> &BaseLayer {
        &self.base
    }

    /// The full filter, in the CLI's terms (types listed when some are switched off).
    pub fn effective_filter(&self) -> Filter {
        let mut f = self.filter.clone();
        if let Some(d) = &self.data
            && !self.hidden.is_empty()
        {
            f.types = d
                .store
                .types
                .names()
                .filter(|n| !self.hidden.contains(*n))
                .map(String::from)
                .collect();
        }
        f
    }

    /// Marks every selection for recomputing.
    pub fn changed(&mut self) {
        self.dirty = true;
        self.bars_stale = true;
    }

    /// Recomputes selections after a filter change.
    pub fn refresh(&mut self) {
        self.dirty = false;
        let Some(d) = &self.data else { return };
        let s = &d.store;
        let keep: Vec<bool> = s.types.names().map(|n| !self.hidden.contains(n)).collect();
        let base = Filter {
            types: Vec::new(),
            ..self.filter.clone()
        };
        let undated = Filter {
            from: None,
            to: None,
            ..base.clone()
        };
        let (undated, based) = match (s.select(&undated), s.select(&base)) {
            (Ok(u), Ok(b)) => (u, b),
            (Err(e), _) | (_, Err(e)) => {
                // What was shown stays; the message says why it cannot change.
                self.message = Some(e.to_string());
                return;
            }
        };
        if self.bars_stale || self.timeline_sel.day_counts.is_empty() {
            self.timeline_sel = undated.restrict_types(s, &keep);
            self.bars_stale = false;
        }
        self.facet = based;
        self.selection = self.facet.restrict_types(s, &keep);
        self.csel = d.index.select(&self.selection);
        if let Some(sel) = self.selected
            && self.selection.indices.binary_search(&sel).is_err()
        {
            self.selected = None;
        }
    }

    /// Sets the date range (both inclusive) and updates the date fields.
    pub fn set_dates(&mut self, from: Option<Day>, to: Option<Day>) {
        self.filter.from = from;
        self.filter.to = to;
        self.from_text = from.map(format_day).unwrap_or_default();
        self.to_text = to.map(format_day).unwrap_or_default();
        self.dirty = true; // dates only: the timeline's bars stay valid
    }

    /// Switches a type on or off.
    pub fn toggle_type(&mut self, name: &str) {
        if !self.hidden.remove(name) {
            self.hidden.insert(name.to_string());
        }
        self.changed();
    }

    /// Sets the text search.
    pub fn set_text(&mut self, text: &str) {
        self.text_query = text.to_string();
        self.filter.text = (!text.trim().is_empty()).then(|| text.trim().to_string());
        self.changed();
    }

    /// Selects an incident (map and table follow).
    pub fn select(&mut self, i: Option<u32>) {
        self.selected = i;
        self.scroll_table = i.is_some();
    }

    /// Moves the map to show the filtered incidents.
    pub fn fit_to_selection(&mut self) {
        let Some(d) = &self.data else { return };
        let Some(bbox) = self.selection.bbox(&d.store) else {
            return;
        };
        let rect = self
            .screen
            .map(|s| s.rect)
            .unwrap_or(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(900.0, 600.0),
            ));
        let s = Screen::fit(rect, bbox, 40.0, 14.0);
        let (lon, lat) = s.center_lonlat();
        self.memory.center_at(lon_lat(lon, lat));
        let _ = self.memory.set_zoom(s.zoom);
    }

    /// Legend rows: every type with its count under the other filters.
    pub fn legend_entries(&self) -> Vec<LegendEntry> {
        let Some(d) = &self.data else {
            return Vec::new();
        };
        let mut v: Vec<LegendEntry> = d
            .store
            .types
            .names()
            .enumerate()
            .map(|(t, name)| LegendEntry {
                type_id: t as u32,
                name: name.to_string(),
                count: self.facet.type_counts.get(t).copied().unwrap_or(0),
                shown: !self.hidden.contains(name),
            })
            .filter(|e| e.count > 0 || !e.shown)
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(&b.name)));
        v
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        let typing = ctx.memory(|m| m.focused().is_some());
        let (open, find, plus, minus, space, esc) = ctx.input_mut(|i| {
            (
                i.consume_key(Modifiers::COMMAND, Key::O),
                i.consume_key(Modifiers::COMMAND, Key::F),
                !typing
                    && (i.consume_key(Modifiers::NONE, Key::Plus)
                        || i.consume_key(Modifiers::NONE, Key::Equals)),
                !typing && i.consume_key(Modifiers::NONE, Key::Minus),
                !typing && i.consume_key(Modifiers::NONE, Key::Space),
                i.consume_key(Modifiers::NONE, Key::Escape),
            )
        });
        if open {
            self.open_dialog(ctx, false);
        }
        if find {
            self.focus_search = true;
        }
        if plus {
            let _ = self.memory.zoom_in();
        }
        if minus {
            let _ = self.memory.zoom_out();
        }
        if space {
            self.toggle_play();
        }
        if esc {
            self.select(None);
            self.stack = None;
        }
    }

    /// Starts or pauses playback.
    pub fn toggle_play(&mut self) {
        if self.timeline.playing {
            self.timeline.playing = false;
            return;
        }
        if let Some(d) = &self.data
            && let Some((first, last)) = d.store.day_range()
        {
            let (mut f, mut t) = (self.filter.from, self.filter.to);
            self.timeline.play(first, last, &mut f, &mut t);
            self.set_dates(f, t);
        }
    }

    fn open_dialog(&mut self, ctx: &egui::Context, add: bool) {
        let picked = rfd::FileDialog::new()
            .set_title(if add {
                "Add incident files"
            } else {
                "Open incident files"
            })
            .add_filter("Incident data", &["csv", "tsv", "txt", "geojson", "json"])
            .add_filter("All files", &["*"])
            .pick_files();
        match picked {
            Some(files) if !files.is_empty() => {
                if add {
                    self.add(ctx, files)
                } else {
                    self.open(ctx, files)
                }
            }
            Some(_) => {}
            None => self.settings.show_open_path = true,
        }
    }

    /// Draws the whole window into `ui`.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if let Some(l) = &self.loader
            && let Some(done) = l.poll()
        {
            self.loader = None;
            self.accept(done);
        }
        // Fit once the data is in and the map has been laid out; panels settle over the first
        // frames, so fit again until the map's size stops changing.
        if self.pending_fit
            && self.data.is_some()
            && self.loader.is_none()
            && let Some(s) = self.screen
        {
            if self.dirty {
                self.refresh();
            }
            self.fit_to_selection();
            if self.fitted_rect == Some(s.rect) {
                self.pending_fit = false;
            }
            self.fitted_rect = Some(s.rect);
        }
        self.shortcuts(&ctx);
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if !dropped.is_empty() {
            self.add(&ctx, dropped);
        }
        if self.timeline.playing
            && let Some((first, last)) = self.data.as_ref().and_then(|d| d.store.day_range())
        {
            let dt = ctx.input(|i| i.stable_dt).min(0.1) as f64;
            let (mut f, mut t) = (self.filter.from, self.filter.to);
            if self.timeline.step(dt, first, last, &mut f, &mut t) {
                self.set_dates(f, t);
            }
            ctx.request_repaint();
        }
        if self.dirty {
            self.refresh();
        }

        panels::menu_bar(self, ui);
        panels::loading_bar(self, ui);
        panels::status_bar(self, ui);
        egui::Panel::bottom("timeline")
            .resizable(false)
            .show(ui, |ui| panels::timeline_panel(self, ui));
        if self.show_table {
            egui::Panel::bottom("table")
                .resizable(true)
                .default_size(150.0)
                .show(ui, |ui| panels::table(self, ui));
        }
        egui::Panel::left("filters")
            .resizable(true)
            .default_size(230.0)
            .min_size(200.0)
            .show(ui, |ui| panels::filters(self, ui));
        egui::Panel::right("details")
            .resizable(true)
            .default_size(300.0)
            .min_size(260.0)
            .show(ui, |ui| panels::details(self, ui));
        egui::CentralPanel::no_frame().show(ui, |ui| self.map(ui));
        panels::windows(self, &ctx);
        export_dialog::windows(self, &ctx);
        if let Some(r) = ctx.input(|i| i.viewport().outer_rect)
            && let Some(inner) = ctx.input(|i| i.viewport().inner_rect)
        {
            self.window = Some([r.min.x, r.min.y, inner.width(), inner.height()]);
        }
        self.autosave(&ctx);
        if self.dirty || self.pending_fit {
            ctx.request_repaint();
        }
    }

    fn map(&mut self, ui: &mut egui::Ui) {
        let scene = crate::view::map::Scene {
            data: self.data.as_ref().map(|d| (&d.store, &d.index)),
            sel: &self.csel,
            highlight: self.selected,
            legend: self.legend_entries(),
            attribution: self.base.attribution(),
            interactive: true,
            caption: None,
        };
        let shown = crate::view::map::show(ui, self.tiles.as_mut(), &mut self.memory, &scene);
        let legend = scene.legend;
        let screen = shown.screen;
        let response = shown.response;
        self.screen = Some(screen);
        self.markers = shown.markers;
        // Never drift off the world: keep the centre on the map.
        let (lon, lat) = screen.center_lonlat();
        let (clon, clat) = (
            lon.clamp(-180.0, 180.0),
            lat.clamp(-crate::cluster::MAX_LAT, crate::cluster::MAX_LAT),
        );
        if (clon, clat) != (lon, lat) {
            self.memory.center_at(lon_lat(clon, clat));
        }
        self.cursor = response.hover_pos().map(|p| screen.to_lonlat(p));
        if let Some(t) = shown.legend_clicked
            && let Some(e) = legend.iter().find(|e| e.type_id == t)
        {
            let name = e.name.clone();
            self.toggle_type(&name);
        }

        // Hover and click.
        let pointer = response.hover_pos();
        let hovered = pointer.and_then(|p| hit(&self.markers, p)).cloned();
        if let (Some(m), Some(d)) = (&hovered, &self.data) {
            let text = match &m.kind {
                MarkerKind::Incident(i) => {
                    let i = *i as usize;
                    format!(
                        "{} · {}\n{}",
                        d.store.date_string(i),
                        crate::text::clean(d.store.type_name(i), false),
                        crate::text::clean(d.store.place_name(i), false)
                    )
                }
                MarkerKind::Cluster(c) => format!("{} incidents — click to zoom in", c.count),
                MarkerKind::Stack(c) => format!(
                    "{} incidents at the same place — click to list them",
                    c.count
                ),
            };
            response.clone().on_hover_text_at_pointer(text);
        }
        if response.clicked() {
            match hovered.map(|m| m.kind) {
                Some(MarkerKind::Incident(i)) => {
                    self.select(Some(i));
                    self.stack = None;
                }
                Some(MarkerKind::Cluster(c)) => {
                    let b = c.bounds;
                    let bbox = [
                        crate::cluster::lon_of(b.x0),
                        crate::cluster::lat_of(b.y1),
                        crate::cluster::lon_of(b.x1),
                        crate::cluster::lat_of(b.y0),
                    ];
                    let fit = Screen::fit(screen.rect, bbox, 60.0, 18.0);
                    let zoom = fit.zoom.max(screen.zoom + 1.0).min(19.0);
                    self.memory.center_at(lon_lat(
                        crate::cluster::lon_of(c.x),
                        crate::cluster::lat_of(c.y),
                    ));
                    let _ = self.memory.set_zoom(zoom);
                }
                Some(MarkerKind::Stack(c)) => {
                    if let Some(d) = &self.data {
                        let mut list = d.index.members(&self.csel, &c, 100_000);
                        list.sort_unstable();
                        self.select(list.first().copied());
                        self.stack = Some(list);
                    }
                }
                None => {}
            }
        }
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        App::ui(self, ui);
    }

    fn on_exit(&mut self) {
        if let Some(p) = &self.settings_file
            && let Err(e) = save_settings(p, &self.saved())
        {
            eprintln!("warning: cannot save settings: {e}");
        }
    }
}

/// Opens the window; returns the process exit code.
pub fn run_window(opts: WindowOptions) -> i32 {
    let path = settings_path();
    let saved = path.as_deref().and_then(load_settings);
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("incident-map")
        .with_inner_size([1280.0, 800.0])
        .with_min_inner_size([640.0, 400.0])
        .with_drag_and_drop(true);
    if let Some([x, y, w, h]) = saved.as_ref().and_then(|s| s.window)
        && w >= 320.0
        && h >= 200.0
    {
        viewport = viewport.with_inner_size([w, h]).with_position([x, y]);
    }
    let native = eframe::NativeOptions {
        viewport,
        persist_window: false,
        ..Default::default()
    };
    let res = eframe::run_native(
        "incident-map",
        native,
        Box::new(move |cc| {
            let mut app = App::new(&cc.egui_ctx, opts, saved);
            app.settings_file = path;
            Ok(Box::new(app))
        }),
    );
    match res {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: cannot open the window: {e}");
            1
        }
    }
}
