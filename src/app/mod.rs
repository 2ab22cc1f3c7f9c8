//! The window: filters, map, timeline, table, details and load problems, around the shared
//! map view. Everything is drawn from [`App::ui`], so tests drive the real UI with egui_kittest.
//!
//! The state has owners: [`filters::FilterState`] (what the user filters by), [`Selections`]
//! (what the filters select, recomputed when they go stale), [`MapState`] (camera, base layer,
//! markers), [`Pick`] (the selected incident and what is read for it), the export dialog and
//! its worker ([`export_dialog`]), and [`settings::Autosave`]. Long work (loading, exporting)
//! runs on worker threads; the UI thread only draws.

pub mod analyst;
pub mod chart_form;
pub mod data_form;
pub mod dupes_job;
pub mod export_dialog;
pub mod file_job;
pub mod filters;
pub mod loader;
pub mod panels;
pub mod remote;
pub mod settings;
pub mod timeline;
pub mod tools_panel;

use std::path::PathBuf;
use std::sync::Arc;

use egui::{Key, Modifiers};
use walkers::{MapMemory, lon_lat};

use crate::cluster::{ClusterIndex, ClusterSel};
use crate::date::Day;
use crate::import::{FileError, Overrides};
use crate::model::Problem;
use crate::query::{Filter, Selection};
use crate::store::Store;
use crate::view::overlay::{LegendEntry, legend_entries};
use crate::view::tiles::{BaseLayer, TileError, TrackedTiles, make_tiles};
use crate::view::viewport::{DEFAULT_CENTER, DEFAULT_ZOOM, Viewport};
use crate::view::{Marker, MarkerKind, Screen, hit};
use filters::{FilterState, Stale};
use loader::Loader;
pub use settings::{Saved, load_settings, save_settings, settings_path};
use timeline::Timeline;

/// Loaded data and everything derived from it once. Shared with workers (exports).
pub struct Data {
    /// The incidents.
    pub store: Arc<Store>,
    /// Their cluster index.
    pub index: Arc<ClusterIndex>,
    /// Links between related incidents.
    pub links: Arc<crate::links::Links>,
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
    /// Filters from the command line, over the last session's.
    pub filter: Filter,
    /// Column overrides.
    pub overrides: Overrides,
}

/// What the filters select.
#[derive(Default)]
pub struct Selections {
    /// Incidents under all filters but the dates, per day (the timeline's bars).
    pub timeline: Selection,
    /// Incidents under all filters but the types (legend and type-list counts).
    pub facet: Selection,
    /// Incidents under all filters.
    pub shown: Selection,
    /// `shown`, prepared for clustering.
    pub clusters: ClusterSel,
    /// The timeline's bars stacked by type (files; a table's bars are not split).
    pub stacks: Option<timeline::Stacks>,
    /// Counts up each time the selections are recomputed (caches key on it).
    pub generation: u64,
    /// Counts up each time `timeline` is recomputed (the density scale keys on it).
    pub timeline_generation: u64,
}

/// The map: camera, base layer and what was drawn.
pub struct MapState {
    /// Camera.
    pub memory: MapMemory,
    /// Base layer.
    pub base: BaseLayer,
    tiles: Option<TrackedTiles>,
    tiles_error: Option<TileError>,
    /// Markers drawn in the last frame (for hit tests).
    pub markers: Vec<Marker>,
    /// The last drawn view.
    pub screen: Option<Screen>,
    /// Fit the data once it is in and laid out.
    pending_fit: bool,
    fitted_rect: Option<egui::Rect>,
    /// Longitude and latitude under the pointer.
    pub cursor: Option<(f64, f64)>,
    /// Symbols or the density layer.
    pub layer: crate::density::Layer,
    /// The density layer's hexagons for (selection generation, zoom), and its scale.
    density: Option<((u64, i32), crate::density::Hexbin, u32)>,
    /// The density scale's top for (timeline selection generation, zoom).
    density_scale: Option<((u64, i32), u32)>,
    /// The hexagon of every incident at the current zoom, for the index it was made from (held
    /// weakly: a reload frees the old index).
    density_slots: Option<(std::sync::Weak<ClusterIndex>, crate::density::HexSlots)>,
    /// The heat map's scale selection (every date) for the timeline's generation.
    heat_every: Option<(u64, ClusterSel)>,
}

impl MapState {
    /// Centres the camera.
    pub fn center_on(&mut self, lon: f64, lat: f64, zoom: Option<f64>) {
        self.memory.center_at(lon_lat(lon, lat));
        if let Some(z) = zoom {
            let _ = self.memory.set_zoom(z.clamp(0.0, 19.0));
        }
    }

    /// The camera as a viewport.
    pub fn viewport(&self) -> Option<Viewport> {
        self.screen.map(|s| {
            let (lon, lat) = s.center_lonlat();
            Viewport::Center {
                lat,
                lon,
                zoom: s.zoom,
            }
        })
    }
}

/// The selected incident and what is shown about it.
#[derive(Default)]
pub struct Pick {
    /// Selected incident.
    pub selected: Option<u32>,
    /// Incidents of an expanded stack.
    pub stack: Option<Vec<u32>>,
    /// Details of the selected incident, read once.
    details: Option<(
        u32,
        Result<crate::details::Details, crate::store::ReadError>,
    )>,
    /// The table's source texts.
    sources: panels::SourceCache,
    /// Scroll the table to the selection next frame.
    scroll_table: bool,
}

/// Window-level things: panels shown, messages, dialogs. text fields.
#[derive(Default)]
pub struct Chrome {
    /// Whether the table is open.
    pub show_table: bool,
    /// A message for the status bar.
    pub message: Option<String>,
    focus_search: bool,
    /// The place search box (Ctrl+K) is open.
    pub show_places: bool,
    /// The area-of-interest file typed in the Tools window.
    pub area_path: String,
    /// The Chart window.
    pub chart: chart_form::ChartForm,
    /// The Export data window.
    pub data: data_form::DataForm,
    /// What is typed in the place search box.
    pub place_query: String,
    settings: panels::SettingsForm,
    /// Window position and size, for the settings.
    window: Option<[f32; 4]>,
}

/// The application state.
pub struct App {
    /// Loaded data, if any.
    pub data: Option<Data>,
    loader: Option<Loader>,
    overrides: Overrides,
    /// What the user filters by.
    pub filters: FilterState,
    /// What the filters select.
    pub sel: Selections,
    /// The map.
    pub map: MapState,
    /// The selection and details.
    pub pick: Pick,
    /// Timeline and playback.
    pub timeline: Timeline,
    /// Panels and messages.
    pub chrome: Chrome,
    /// Export, save-view and open-view dialogs and the export worker.
    pub export: export_dialog::ExportForm,
    /// The open table, when the source is a database.
    pub remote: Option<remote::Remote>,
    /// Ruler, rings, areas, labels and arrows.
    pub analyst: analyst::ToolState,
    /// Possible duplicates among the filtered incidents.
    pub dupes: dupes_job::Dupes,
    /// The window's context (workers ask it to repaint).
    ctx: egui::Context,
    /// Settings autosave (no file in tests and exports).
    pub autosave: settings::Autosave,
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
        let start = match saved.view {
            Some(Viewport::Center { lat, lon, zoom }) => (lon, lat, zoom),
            _ => (DEFAULT_CENTER.0, DEFAULT_CENTER.1, DEFAULT_ZOOM),
        };
        memory.center_at(lon_lat(start.0, start.1));
        let _ = memory.set_zoom(start.2.clamp(0.0, 19.0));
        let mut app = App {
            data: None,
            loader: None,
            overrides: opts.overrides.clone(),
            filters: FilterState::new(saved.filter.overlay(&opts.filter), saved.hidden.clone()),
            sel: Selections::default(),
            map: MapState {
                memory,
                base: base.clone(),
                tiles: None,
                tiles_error: None,
                markers: Vec::new(),
                screen: None,
                pending_fit: saved.view.is_none(),
                fitted_rect: None,
                cursor: None,
                layer: saved.layer,
                density: None,
                density_scale: None,
                density_slots: None,
                heat_every: None,
            },
            pick: Pick::default(),
            timeline: saved.timeline.clone(),
            chrome: Chrome {
                show_table: saved.show_table,
                settings: panels::SettingsForm::from_base(&base),
                window: saved.window,
                ..Default::default()
            },
            export: export_dialog::ExportForm::new(),
            remote: None,
            analyst: analyst::ToolState::with(saved.tools.clone()),
            dupes: dupes_job::Dupes::default(),
            ctx: ctx.clone(),
            autosave: settings::Autosave::default(),
        };
        app.set_base(ctx, base);
        let fit = saved.view.is_none() || !opts.files.is_empty();
        let files = if !opts.files.is_empty() {
            opts.files
        } else if !saved.files.is_empty()
            && saved
                .files
                .iter()
                .all(|f| f.exists() || crate::db::is_db_url(&f.to_string_lossy()))
        {
            saved.files
        } else {
            bundled_dataset().into_iter().collect()
        };
        if !files.is_empty() {
            app.open(ctx, files);
        }
        app.map.pending_fit = fit;
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
        Saved {
            files: self
                .data
                .as_ref()
                .map(|d| d.files.clone())
                .unwrap_or_default(),
            filter: self.filters.base().clone(),
            hidden: self.filters.hidden().clone(),
            view: self.map.viewport(),
            base: self.map.base.clone(),
            show_table: self.chrome.show_table,
            timeline: self.timeline.clone(),
            window: self.chrome.window,
            tools: self.analyst.tools.clone(),
            layer: self.map.layer,
        }
    }

    /// Starts loading `files` in the background, replacing the current data when done. A
    /// database URL (`postgresql://…?table=NAME`) opens that table instead, alone.
    pub fn open(&mut self, ctx: &egui::Context, files: Vec<PathBuf>) {
        if let Some(l) = &self.loader {
            l.cancel();
        }
        let urls: Vec<String> = files
            .iter()
            .map(|f| f.to_string_lossy().into_owned())
            .filter(|f| crate::db::is_db_url(f))
            .collect();
        if !urls.is_empty() {
            self.loader = None;
            if files.len() > 1 {
                self.chrome.message =
                    Some("A database table opens on its own, without files.".into());
                return;
            }
            match crate::db::DbSource::parse(&urls[0]) {
                Ok(db) => self.open_table(ctx, db),
                Err(e) => self.chrome.message = Some(e.to_string()),
            }
            return;
        }
        self.remote = None;
        self.loader = Some(Loader::start(files, self.overrides.clone(), ctx.clone()));
        self.map.pending_fit = true;
        self.map.fitted_rect = None;
    }

    /// Shows a table: counts, cells and incidents come from the server as the view asks.
    pub fn open_table(&mut self, ctx: &egui::Context, db: crate::db::DbSource) {
        let files = vec![PathBuf::from(&db.display)];
        self.remote = Some(remote::Remote::start(db, ctx));
        self.set_remote_data(crate::db::fetch::Fetched {
            result: Default::default(),
            ids: Vec::new(),
        });
        if let Some(d) = &mut self.data {
            d.files = files;
        }
        self.map.pending_fit = true;
        self.map.fitted_rect = None;
    }

    /// Replaces the data with incidents fetched from the table (the selection follows its id).
    fn set_remote_data(&mut self, fetched: crate::db::fetch::Fetched) {
        let Some(r) = &mut self.remote else { return };
        let selected_id = self
            .pick
            .selected
            .and_then(|i| r.ids.get(i as usize).copied());
        let mut store = fetched.result.store;
        let mut ids = fetched.ids;
        if store.types.len() < r.types.len() {
            // Every type of the table, so the legend and the type filter know them all; the
            // incidents fetched without the new types are read again.
            let mut b = crate::store::Builder::with_capacity(0);
            b.intern_types(&r.types);
            store = b.finish(Vec::new());
            ids.clear();
            r.forget_view();
        }
        r.ids = ids;
        let files = self
            .data
            .as_ref()
            .map(|d| d.files.clone())
            .unwrap_or_else(|| vec![PathBuf::from(&r.db.display)]);
        let index = ClusterIndex::build(&store);
        self.filters.data_loaded(&store);
        self.dupes = dupes_job::Dupes::default();
        self.analyst.data_replaced();
        self.data = Some(Data {
            store: Arc::new(store),
            index: Arc::new(index),
            links: Default::default(),
            problems: Vec::new(),
            errors: Vec::new(),
            skipped: 0,
            files,
        });
        let sel = selected_id.and_then(|id| r.ids.iter().position(|&x| x == id));
        let details = self.pick.details.take();
        self.pick.stack = None;
        self.pick.selected = sel.map(|i| i as u32);
        // The record read by id stays: it does not depend on where the incident sits.
        if let (Some(i), Some((_, d))) = (sel, details) {
            self.pick.details = Some((i as u32, d));
        }
    }

    /// One frame of a table: answers in, questions out.
    fn remote_frame(&mut self) {
        let Some(r) = &mut self.remote else { return };
        let news = r.poll();
        let ids_of_selected =
            |r: &remote::Remote, i: Option<u32>| i.and_then(|i| r.ids.get(i as usize).copied());
        if let Some((id, f)) = news.record
            && ids_of_selected(r, self.pick.selected) == Some(id)
            && let Some(i) = self.pick.selected
        {
            self.pick.details = Some((i, crate::details::details(&f.result.store, 0)));
        }
        // New types: the store must know them at once (legend, type list); the incidents in
        // view are read again with them.
        let known = self.data.as_ref().map_or(0, |d| d.store.types.len());
        let grown = known < r.types.len();
        if news.counts {
            self.filters.invalidate();
        }
        match news.data {
            Some(f) => self.set_remote_data(f),
            None if grown => self.set_remote_data(crate::db::fetch::Fetched {
                result: Default::default(),
                ids: Vec::new(),
            }),
            None => {}
        }
        let filter = self.effective_filter();
        let (Some(d), Some(r)) = (&self.data, &mut self.remote) else {
            return;
        };
        let store = d.store.clone();
        let empty = r.frame(&filter, self.map.screen.as_ref(), |n| {
            store.types.get(n).unwrap_or(u32::MAX)
        });
        if empty {
            self.set_remote_data(crate::db::fetch::Fetched {
                result: Default::default(),
                ids: Vec::new(),
            });
        }
        // Details of the selected incident are read by id.
        if let Some(i) = self.pick.selected
            && self.pick.details.as_ref().is_none_or(|(k, _)| *k != i)
            && let Some(r) = &mut self.remote
            && let Some(&id) = r.ids.get(i as usize)
        {
            r.ask_record(id);
        }
    }

    /// What the details panel shows for the selected incident, once read.
    pub fn pick_details(
        &self,
    ) -> Option<&Result<crate::details::Details, crate::store::ReadError>> {
        let (k, d) = self.pick.details.as_ref()?;
        (Some(*k) == self.pick.selected).then_some(d)
    }

    /// Incidents selected by the filters and incidents in all (a table's come from the server).
    pub fn counts(&self) -> (u64, u64) {
        if let Some(r) = &self.remote {
            return match &r.agg {
                Some((_, a)) => (a.shown(|n| !self.filters.is_hidden(n)).0, a.incidents),
                None => (0, 0),
            };
        }
        (
            self.sel.shown.len() as u64,
            self.data.as_ref().map_or(0, |d| d.store.len() as u64),
        )
    }

    /// First and last day of the data.
    pub fn day_range(&self) -> Option<(Day, Day)> {
        match &self.remote {
            Some(r) => r.agg.as_ref().and_then(|a| a.1.day_range),
            None => self.data.as_ref().and_then(|d| d.store.day_range()),
        }
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

    /// The load in progress, if any.
    pub fn loader(&self) -> Option<&Loader> {
        self.loader.as_ref()
    }

    fn accept(&mut self, done: loader::Loaded) {
        let r = done.result;
        if r.cancelled {
            self.chrome.message = Some("Loading cancelled; the previous data stays open.".into());
            return;
        }
        if r.store.is_empty() && !r.errors.is_empty() && self.data.is_some() {
            self.chrome.message = Some(format!(
                "Could not load: {}",
                r.errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
            return;
        }
        self.chrome.message = if r.errors.is_empty() {
            None
        } else {
            Some(format!(
                "{} file(s) could not be loaded — see Problems",
                r.errors.len()
            ))
        };
        self.filters.data_loaded(&r.store);
        self.dupes = dupes_job::Dupes::default();
        self.analyst.data_replaced();
        self.data = Some(Data {
            store: Arc::new(r.store),
            index: Arc::new(done.index),
            links: Arc::new(done.links),
            problems: r.problems,
            errors: r.errors,
            skipped: r.skipped,
            files: done.files,
        });
        self.pick = Pick::default();
    }

    /// Switches the base layer (tiles are created for this context).
    pub fn set_base(&mut self, ctx: &egui::Context, base: BaseLayer) {
        match make_tiles(&base, ctx) {
            Ok(t) => {
                self.map.tiles = t;
                self.map.tiles_error = None;
                self.map.base = base;
            }
            Err(e) => {
                self.map.tiles = None;
                self.map.tiles_error = Some(e);
                self.map.base = BaseLayer::Offline;
            }
        }
    }

    /// Uses already-built tiles for a base layer (tiles must belong to this window's context).
    pub fn set_tiles(&mut self, base: BaseLayer, tiles: TrackedTiles) {
        self.map.tiles = Some(tiles);
        self.map.tiles_error = None;
        self.map.base = base;
    }

    /// Tiles asked for and shown in the last frame, and downloads in progress.
    pub fn tile_status(&self) -> Option<(usize, usize, usize)> {
        self.map
            .tiles
            .as_ref()
            .map(|t| (t.requested, t.shown, t.in_progress()))
    }

    /// The full filter, in the command line's terms (types listed when some are switched off).
    pub fn effective_filter(&self) -> Filter {
        self.filters
            .effective(self.data.as_ref().map(|d| &*d.store))
    }

    /// Recomputes what the filters select, when they went stale.
    pub fn refresh(&mut self) {
        let stale = self.filters.take_stale();
        if stale == Stale::Nothing {
            return;
        }
        let Some(d) = &self.data else { return };
        let s = &*d.store;
        let keep: Vec<bool> = s
            .types
            .names()
            .map(|n| !self.filters.is_hidden(n))
            .collect();
        let base = self.filters.base().clone();
        let undated = Filter {
            from: None,
            to: None,
            ..base.clone()
        };
        let bars = stale == Stale::All || self.sel.timeline.day_counts.is_empty();
        let undated = if bars { Some(s.select(&undated)) } else { None };
        let facet = match (s.select(&base), undated.transpose()) {
            (Ok(f), Ok(u)) => {
                if let Some(u) = u {
                    self.sel.timeline = u.restrict_types(s, &keep);
                    self.sel.timeline_generation += 1;
                    self.sel.stacks = Some(timeline::Stacks::of(
                        s,
                        &self.sel.timeline.indices,
                        self.sel.timeline.first_day,
                        self.sel.timeline.day_counts.len(),
                    ));
                }
                f
            }
            (Err(e), _) | (_, Err(e)) => {
                // What was shown stays; the message says why it cannot change.
                self.chrome.message = Some(e.to_string());
                return;
            }
        };
        self.sel.shown = facet.restrict_types(s, &keep);
        self.sel.generation += 1;
        self.sel.facet = facet;
        self.sel.clusters = d.index.select(&self.sel.shown);
        if self.remote.is_none() {
            self.analyst.recount(s, &self.sel.shown);
            self.analyst.links = crate::links::shown_segments(s, &d.links, &self.sel.shown.indices);
            self.dupes.rule = self.analyst.tools.dupes;
            self.dupes
                .start(d.store.clone(), self.sel.shown.indices.clone(), &self.ctx);
        }
        if let Some(r) = &self.remote
            && let Some((_, a)) = &r.agg
        {
            // A table's counts are the server's, over the whole table.
            let mut counts = vec![0u32; s.types.len()];
            for t in &a.types {
                if let Some(id) = s.types.get(&t.name) {
                    counts[id as usize] = t.count as u32;
                }
            }
            self.sel.facet.type_counts = counts;
            self.sel.shown.disputed = a.shown(|n| !self.filters.is_hidden(n)).1 as u32;
            self.sel.timeline_generation += 1;
            self.sel.timeline = Selection {
                first_day: a.first_day,
                day_counts: a.day_counts.clone(),
                ..Default::default()
            };
        }
        if let Some(i) = self.pick.selected
            && self.sel.shown.indices.binary_search(&i).is_err()
        {
            self.pick.selected = None;
        }
    }

    /// Sets the date range (both inclusive) and the date fields.
    pub fn set_dates(&mut self, from: Option<Day>, to: Option<Day>) {
        self.filters.set_dates(from, to);
    }

    /// Switches a type on or off.
    pub fn toggle_type(&mut self, name: &str) {
        self.filters.toggle_type(name);
    }

    /// Sets the text search.
    pub fn set_text(&mut self, text: &str) {
        self.filters.set_text(text);
    }

    /// Selects an incident (map and table follow).
    pub fn select(&mut self, i: Option<u32>) {
        self.pick.selected = i;
        self.pick.scroll_table = i.is_some();
    }

    /// Moves the map to show the filtered incidents.
    pub fn fit_to_selection(&mut self) {
        let Some(d) = &self.data else { return };
        let bbox = match &self.remote {
            Some(r) => r
                .agg
                .as_ref()
                .and_then(|a| a.1.shown(|n| !self.filters.is_hidden(n)).2),
            None => self.sel.shown.bbox(&d.store),
        };
        let Some(bbox) = bbox else {
            return;
        };
        let rect = self
            .map
            .screen
            .map(|s| s.rect)
            .unwrap_or(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(900.0, 600.0),
            ));
        let s = Screen::fit(rect, bbox, 40.0, 14.0);
        let (lon, lat) = s.center_lonlat();
        self.map.center_on(lon, lat, Some(s.zoom));
    }

    /// Legend rows: every type with its count under the other filters.
    pub fn legend_entries(&self) -> Vec<LegendEntry> {
        match &self.data {
            Some(d) => legend_entries(&d.store, &self.sel.facet.type_counts, |n| {
                self.filters.is_hidden(n)
            }),
            None => Vec::new(),
        }
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        let typing = ctx.memory(|m| m.focused().is_some());
        let (measure, palette) = ctx.input_mut(|i| {
            (
                !typing && i.consume_key(Modifiers::NONE, Key::M),
                i.consume_key(Modifiers::COMMAND, Key::K),
            )
        });
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
            self.chrome.focus_search = true;
        }
        if plus {
            let _ = self.map.memory.zoom_in();
        }
        if minus {
            let _ = self.map.memory.zoom_out();
        }
        if space {
            self.toggle_play();
        }
        if esc {
            self.select(None);
            self.pick.stack = None;
            // Esc also leaves a drawing mode (an unfinished area is dropped).
            if self.analyst.mode != analyst::Mode::Browse {
                self.analyst.mode = analyst::Mode::Browse;
                self.analyst.draft.clear();
                self.analyst.arrow_from = None;
            }
        }
        if measure {
            self.analyst.mode = if self.analyst.mode == analyst::Mode::Measure {
                analyst::Mode::Browse
            } else {
                analyst::Mode::Measure
            };
        }
        if palette {
            self.chrome.show_places = true;
        }
    }

    /// Starts or pauses playback.
    pub fn toggle_play(&mut self) {
        if self.timeline.playing {
            self.timeline.playing = false;
            return;
        }
        if let Some((first, last)) = self.day_range() {
            let f = self.filters.base();
            let (mut from, mut to) = (f.from, f.to);
            self.timeline.play(first, last, &mut from, &mut to);
            self.filters.set_dates(from, to);
        }
    }

    fn open_dialog(&mut self, ctx: &egui::Context, add: bool) {
        let picked = rfd::FileDialog::new()
            .set_title(if add {
                "Add incident files"
            } else {
                "Open incident files"
            })
            .add_filter(
                "Incident data",
                &[
                    "csv", "tsv", "txt", "geojson", "json", "kml", "kmz", "shp", "zip", "gpkg",
                ],
            )
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
            None => self.chrome.settings.show_open_path = true,
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
        self.export.poll(&ctx);
        self.remote_frame();
        if let Some(d) = &self.data {
            self.dupes.poll(d.store.len());
        }
        // Fit once the data is in and the map has been laid out; panels settle over the first
        // frames, so fit again until the map's size stops changing.
        if self.map.pending_fit
            && self.data.is_some()
            && self.loader.is_none()
            && self
                .remote
                .as_ref()
                .is_none_or(|r| r.agg.is_some() || r.error.is_some())
            && let Some(s) = self.map.screen
        {
            self.refresh();
            self.fit_to_selection();
            if self.map.fitted_rect == Some(s.rect) {
                self.map.pending_fit = false;
            }
            self.map.fitted_rect = Some(s.rect);
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
            && let Some((first, last)) = self.day_range()
        {
            let dt = ctx.input(|i| i.stable_dt).min(0.1) as f64;
            let f = self.filters.base();
            let (mut from, mut to) = (f.from, f.to);
            if self.timeline.step(dt, first, last, &mut from, &mut to) {
                self.filters.set_dates(from, to);
            }
            ctx.request_repaint();
        }
        self.refresh();

        panels::menu_bar(self, ui);
        panels::loading_bar(self, ui);
        panels::status_bar(self, ui);
        egui::Panel::bottom("timeline")
            .resizable(false)
            .show(ui, |ui| panels::timeline_panel(self, ui));
        if self.chrome.show_table {
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
        egui::CentralPanel::no_frame().show(ui, |ui| self.map_view(ui));
        panels::windows(self, &ctx);
        tools_panel::windows(self, &ctx);
        tools_panel::place_search(self, &ctx);
        tools_panel::chart_window(self, &ctx);
        tools_panel::data_window(self, &ctx);
        export_dialog::windows(self, &ctx);
        if let Some(r) = ctx.input(|i| i.viewport().outer_rect)
            && let Some(inner) = ctx.input(|i| i.viewport().inner_rect)
        {
            self.chrome.window = Some([r.min.x, r.min.y, inner.width(), inner.height()]);
        }
        if let Some(m) = self.autosave.tick(&ctx, self.saved()) {
            self.chrome.message = Some(m);
        }
        if self.map.pending_fit || self.filters.is_stale() {
            ctx.request_repaint();
        }
    }

    fn map_view(&mut self, ui: &mut egui::Ui) {
        use analyst::Mode;
        let density = self.update_density();
        let f = self.filters.base();
        let overlay = self.analyst.overlay(f.near, f.within.as_ref());
        let scene = crate::view::map::Scene {
            data: self.data.as_ref().map(|d| (&*d.store, &*d.index)),
            sel: &self.sel.clusters,
            cells: self
                .remote
                .as_ref()
                .filter(|r| r.drawing_cells)
                .map(|r| &r.clusters[..]),
            highlight: self.pick.selected,
            dupes: &self.dupes.group_of,
            legend: self.legend_entries(),
            disputed: self.sel.shown.disputed,
            attribution: self.map.base.attribution(),
            interactive: true,
            pan: matches!(self.analyst.mode, Mode::Browse),
            caption: None,
            overlay: Some(&overlay),
            density: self
                .map
                .density
                .as_ref()
                .filter(|_| density && self.map.layer == crate::density::Layer::Hexbin)
                .map(|c| (&c.1, c.2)),
            heat: match (&self.data, &self.map.heat_every) {
                (Some(d), Some((_, every)))
                    if density && self.map.layer == crate::density::Layer::Heat =>
                {
                    Some(crate::view::density::HeatInput {
                        index: &d.index,
                        sel: &self.sel.clusters,
                        every_date: every,
                        key: (self.sel.generation, self.sel.timeline_generation),
                    })
                }
                _ => None,
            },
        };
        let shown =
            crate::view::map::show(ui, self.map.tiles.as_mut(), &mut self.map.memory, &scene);
        let legend = scene.legend;
        let screen = shown.screen;
        let response = shown.response;
        self.map.screen = Some(screen);
        self.map.markers = shown.markers;
        self.tool_input(&response, &screen);
        // Never drift off the world: keep the centre on the map.
        let (lon, lat) = screen.center_lonlat();
        let max_lat = crate::projection::MAX_LAT;
        let (clon, clat) = (lon.clamp(-180.0, 180.0), lat.clamp(-max_lat, max_lat));
        if (clon, clat) != (lon, lat) {
            self.map.center_on(clon, clat, None);
        }
        self.map.cursor = response.hover_pos().map(|p| screen.to_lonlat(p));
        if let Some(t) = shown.legend_clicked
            && let Some(e) = legend.iter().find(|e| e.type_id == t)
        {
            let name = e.name.clone();
            self.filters.toggle_type(&name);
        }

        // Hover and click.
        let pointer = response.hover_pos();
        let hovered = pointer.and_then(|p| hit(&self.map.markers, p)).cloned();
        if let (Some(m), Some(d)) = (&hovered, &self.data) {
            let text = match &m.kind {
                MarkerKind::Incident(i) => {
                    let dupe = match self.dupes.group(*i) {
                        Some(g) => format!("\npossible duplicate (a group of {})", g.len()),
                        None => String::new(),
                    };
                    let i = *i as usize;
                    format!(
                        "{} · {}\n{}{dupe}",
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
        if response.clicked() && self.analyst.mode == analyst::Mode::Browse {
            match hovered.map(|m| m.kind) {
                Some(MarkerKind::Incident(i)) => {
                    self.select(Some(i));
                    self.pick.stack = None;
                }
                Some(MarkerKind::Cluster(c)) => {
                    use crate::projection::{lat_of, lon_of};
                    let b = c.bounds;
                    let bbox = [lon_of(b.x0), lat_of(b.y1), lon_of(b.x1), lat_of(b.y0)];
                    let fit = Screen::fit(screen.rect, bbox, 60.0, 18.0);
                    let zoom = fit.zoom.max(screen.zoom + 1.0).min(19.0);
                    self.map.center_on(lon_of(c.x), lat_of(c.y), Some(zoom));
                }
                Some(MarkerKind::Stack(c)) => {
                    if let Some(d) = &self.data {
                        let mut list = d.index.members(&self.sel.clusters, &c, 100_000);
                        list.sort_unstable();
                        self.select(list.first().copied());
                        self.pick.stack = Some(list);
                    }
                }
                None => {}
            }
        }
    }
}

impl App {
    /// Counts the density layer for the current zoom into `map.density` when it is shown (files;
    /// counted again only when the selection or the whole zoom level changes), or for the heat map
    /// keeps its scale's selection (every date) in `map.heat_every`. Whether a density layer is
    /// shown.
    fn update_density(&mut self) -> bool {
        if self.map.layer == crate::density::Layer::Points || self.remote.is_some() {
            return false;
        }
        let Some(d) = self.data.as_ref() else {
            return false;
        };
        if self.map.layer == crate::density::Layer::Heat {
            let g = self.sel.timeline_generation;
            if self.map.heat_every.as_ref().is_none_or(|(k, _)| *k != g) {
                self.map.heat_every = Some((g, d.index.select(&self.sel.timeline)));
            }
            return true;
        }
        let zoom = self.map.memory.zoom().round() as i32;
        let key = (self.sel.generation, zoom);
        if self.map.density.as_ref().is_none_or(|c| c.0 != key) {
            let slots = match self.map.density_slots.take() {
                Some((index, slots))
                    if std::sync::Weak::ptr_eq(&index, &Arc::downgrade(&d.index))
                        && slots.zoom == zoom.clamp(0, 19) =>
                {
                    (index, slots)
                }
                _ => (
                    Arc::downgrade(&d.index),
                    crate::density::HexSlots::of_index(&d.index, zoom),
                ),
            };
            let slots = &self.map.density_slots.insert(slots).1;
            let bins = slots.count(&self.sel.clusters);
            // The scale covers every date (the timeline's selection), so playback compares;
            // it changes only with the other filters and the zoom.
            let scale_key = (self.sel.timeline_generation, zoom);
            let max = match self.map.density_scale {
                Some((k, m)) if k == scale_key => m,
                _ => {
                    let every_date = d.index.select(&self.sel.timeline);
                    let m = slots.count(&every_date).max();
                    self.map.density_scale = Some((scale_key, m));
                    m
                }
            }
            .max(bins.max());
            self.map.density = Some((key, bins, max));
        }
        true
    }

    /// The map's pointer events for the tools, and its context menu.
    fn tool_input(&mut self, response: &egui::Response, screen: &Screen) {
        use analyst::{Mode, PointForm};
        // Within the world, so what the tools place is always a valid position.
        let at = |p: egui::Pos2| {
            let (lon, lat) = screen.to_lonlat(p);
            let max = crate::projection::MAX_LAT;
            (lon.clamp(-180.0, 180.0), lat.clamp(-max, max))
        };
        if let Some(p) = response.interact_pointer_pos() {
            if response.drag_started() {
                // From where the button went down, not where the drag was recognised.
                let origin = response
                    .ctx
                    .input(|i| i.pointer.press_origin())
                    .unwrap_or(p);
                self.analyst.drag_start(at(origin), origin, screen);
                self.analyst.drag_to(at(p));
            } else if response.dragged() {
                self.analyst.drag_to(at(p));
            }
        }
        if response.drag_stopped()
            && let Some(area) = self.analyst.drag_end()
        {
            self.filters.set_within(Some(area));
        }
        if self.analyst.mode != Mode::Browse
            && let Some(p) = response.interact_pointer_pos()
        {
            let double = response.double_clicked() || response.triple_clicked();
            if (response.clicked() || double)
                && let Some(area) = self.analyst.click(at(p), double)
            {
                self.filters.set_within(Some(area));
            }
        }
        if response.secondary_clicked()
            && let Some(p) = response.interact_pointer_pos()
        {
            self.analyst.context_at = Some(at(p));
        }
        let Some(here) = self.analyst.context_at else {
            return;
        };
        response.context_menu(|ui| {
            ui.label(
                egui::RichText::new(format!("{:.5}, {:.5}", here.1, here.0))
                    .monospace()
                    .weak(),
            );
            let form = |text: &str| PointForm {
                at: here,
                text: text.into(),
                ink: Default::default(),
            };
            if ui.button("Range rings here…").clicked() {
                self.analyst.ring_form = Some(form("10, 25, 50"));
                self.analyst.show = true;
                ui.close();
            }
            if ui.button("Incidents near here").clicked() {
                if let Some(d) = &self.data {
                    self.analyst.list_nearest(here, &d.store, &self.sel.shown);
                }
                ui.close();
            }
            if ui.button("Filter: within a distance of here…").clicked() {
                self.analyst.near_form = Some(form("25"));
                self.analyst.show = true;
                ui.close();
            }
            if ui.button("Measure from here").clicked() {
                self.analyst.mode = Mode::Measure;
                self.analyst.ruler = Some((here, here));
                ui.close();
            }
            if ui.button("Add a label here…").clicked() {
                self.analyst.label_form = Some(form(""));
                self.analyst.show = true;
                ui.close();
            }
            if ui.button("Arrow from here (click its head)").clicked() {
                self.analyst.mode = Mode::Arrow;
                self.analyst.arrow_from = Some(here);
                ui.close();
            }
        });
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        App::ui(self, ui);
    }

    fn on_exit(&mut self) {
        if let Some(p) = &self.autosave.path
            && let Err(e) = save_settings(p, &self.saved())
        {
            eprintln!("warning: {e}");
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
            app.autosave.path = path;
            Ok(Box::new(app))
        }),
    );
    match res {
        Ok(()) => 0,
        Err(e) => {
            // No display, or no graphics adapter: say what to do, never a backtrace.
            eprintln!(
                "error: cannot open the window: {}. It needs a display and a graphics adapter (Vulkan or GL; WGPU_BACKEND restricts them). {}",
                e.to_string().trim_end_matches('.'),
                crate::view::offscreen::INSTALL_HINT
            );
            1
        }
    }
}
