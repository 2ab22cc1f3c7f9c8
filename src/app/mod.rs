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
pub mod data;
pub mod data_form;
pub mod dupes_job;
mod editing;
pub mod editor;
mod escape;
pub mod evidence;
pub mod export_dialog;
pub mod file_job;
pub mod filters;
pub mod loader;
pub mod map_view;
pub mod panels;
pub mod print_form;
pub mod remote;
pub mod series_form;
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
use crate::view::tiles::{BaseLayer, TileError, TrackedTiles};
use crate::view::viewport::{DEFAULT_CENTER, DEFAULT_ZOOM, Viewport};
use crate::view::{Marker, Screen};
use filters::FilterState;
use loader::Loader;
pub use settings::{Saved, load_settings, save_settings, settings_path};
use timeline::Timeline;

/// The incidents the window holds, and everything derived from them once. Shared with workers.
pub struct Data {
    /// The incidents with their keys in the source.
    pub incidents: crate::source::Incidents,
    /// Whether their records came with them (else details are asked of the source by key).
    pub records: bool,
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
    /// Files (or the table) as asked for.
    pub files: Vec<PathBuf>,
}

/// Most incidents the window holds from a source that fetches them one by one (a table); a
/// larger one is asked view by view.
pub const RESIDENT_LIMIT: usize = 20_000;

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
    /// Most incidents held from a source that fetches them one by one (default
    /// [`RESIDENT_LIMIT`]; 0 asks every such source view by view).
    pub resident_limit: Option<usize>,
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
    /// Incidents shown with evidence, for the selection's generation and the marks it was
    /// counted on (their address): counted again only when either changes.
    evidence_shown: Option<(u64, usize, u32)>,
}

impl Selections {
    /// How many shown incidents have evidence (`marks`, by store index).
    pub fn evidence_shown(&mut self, marks: &std::sync::Arc<Vec<bool>>) -> u32 {
        let key = (self.generation, std::sync::Arc::as_ptr(marks) as usize);
        match self.evidence_shown {
            Some((g, m, n)) if (g, m) == key => n,
            _ => {
                let n = self.shown.marked(marks);
                self.evidence_shown = Some((key.0, key.1, n));
                n
            }
        }
    }
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
        Result<crate::details::Details, crate::source::SourceError>,
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
    /// The table's height in points (kept in the settings).
    pub table_height: f32,
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
    /// The name edits are recorded under (settings; empty: the login name).
    pub editor: String,
    /// The time-stamping authority new evidence is timestamped at (settings; empty: none).
    pub tsa: String,
    /// Where the details panel was last drawn (files dropped there are evidence).
    pub details_rect: Option<egui::Rect>,
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
    /// The open source.
    pub source: Option<Arc<dyn crate::source::Source>>,
    /// The source asked view by view, when it holds more incidents than the window keeps.
    pub remote: Option<remote::Remote>,
    /// The source's change feed, when the window holds its incidents.
    watch: Option<data::Watcher>,
    /// See [`WindowOptions::resident_limit`].
    resident_limit: usize,
    /// Ruler, rings, areas, labels and arrows.
    pub analyst: analyst::ToolState,
    /// Possible duplicates among the filtered incidents.
    pub dupes: dupes_job::Dupes,
    /// The window's context (workers ask it to repaint).
    ctx: egui::Context,
    /// Settings autosave (no file in tests and exports).
    pub autosave: settings::Autosave,
    /// Recording and correcting incidents.
    pub editor: editor::Editor,
    /// The selected incident's evidence.
    pub evidence: evidence::EvidenceView,
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
            filters: FilterState::new(saved.filter.patched(&opts.filter), saved.hidden.clone()),
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
                table_height: saved.table_height,
                settings: panels::SettingsForm::from_base(&base),
                window: saved.window,
                editor: saved.editor.clone(),
                tsa: saved.tsa.clone(),
                ..Default::default()
            },
            export: export_dialog::ExportForm::new(),
            source: None,
            remote: None,
            watch: None,
            resident_limit: opts.resident_limit.unwrap_or(RESIDENT_LIMIT),
            analyst: analyst::ToolState::with(saved.tools.clone()),
            dupes: dupes_job::Dupes::default(),
            ctx: ctx.clone(),
            autosave: settings::Autosave::default(),
            editor: editor::Editor::default(),
            evidence: evidence::EvidenceView::default(),
        };
        app.set_base(ctx, base);
        let fit = saved.view.is_none() || !opts.files.is_empty();
        let files = if !opts.files.is_empty() {
            opts.files
        } else if !saved.files.is_empty() && crate::source::check(&saved.files).is_ok() {
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
            table_height: self.chrome.table_height,
            timeline: self.timeline.clone(),
            window: self.chrome.window,
            tools: self.analyst.tools.clone(),
            layer: self.map.layer,
            editor: self.chrome.editor.clone(),
            tsa: self.chrome.tsa.clone(),
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
        // An index the incidents held do not have selects nothing.
        let held = self.data.as_ref().map_or(0, |d| d.store.len());
        let i = i.filter(|&i| (i as usize) < held);
        self.pick.selected = i;
        self.pick.scroll_table = i.is_some();
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        let typing = ctx.memory(|m| m.focused().is_some());
        let (measure, palette, table) = ctx.input_mut(|i| {
            (
                !typing && i.consume_key(Modifiers::NONE, Key::M),
                i.consume_key(Modifiers::COMMAND, Key::K),
                !typing && i.consume_key(Modifiers::NONE, Key::T),
            )
        });
        if table {
            self.chrome.show_table = !self.chrome.show_table;
        }
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
        // Undo and redo of edits (a text field being typed in keeps its own).
        // Ctrl+Shift+Z first: Ctrl+Z would take it too.
        let (redo, undo) = ctx.input_mut(|i| {
            (
                !typing && i.consume_key(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z),
                !typing && i.consume_key(Modifiers::COMMAND, Key::Z),
            )
        });
        if redo {
            self.redo();
        } else if undo {
            self.undo();
        }
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
        // Esc leaves a drawing mode (an unfinished area is dropped), else closes a dialog, else
        // clears the selection.
        if esc {
            if self.analyst.mode != analyst::Mode::Browse {
                self.analyst.mode = analyst::Mode::Browse;
                self.analyst.draft.clear();
                self.analyst.arrow_from = None;
            } else if !escape::close_dialog(self) {
                self.select(None);
                self.pick.stack = None;
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

    /// The side and bottom panels around the map (the table's height is remembered).
    fn panels(&mut self, ui: &mut egui::Ui) {
        panels::menu_bar(self, ui);
        panels::loading_bar(self, ui);
        panels::status_bar(self, ui);
        egui::Panel::bottom("timeline")
            .resizable(false)
            .show(ui, |ui| panels::timeline_panel(self, ui));
        if self.chrome.show_table {
            // The height is the user's: kept when they drag the edge, and given back whenever
            // egui squeezed the panel otherwise (a window's first frames may be tiny).
            // The panel's own id, as egui makes it from the salt "table".
            let id = ui.scope_id().with_salt(egui::IdSalt::new("table"));
            let dragging = ui.input(|i| i.pointer.any_down());
            let ctx = ui.ctx().clone();
            if !dragging
                && egui::containers::panel::PanelState::load(&ctx, id)
                    .is_some_and(|p| (p.size().y - self.chrome.table_height).abs() > 1.0)
            {
                ctx.data_mut(|d| d.remove::<egui::containers::panel::PanelState>(id));
            }
            let r = egui::Panel::bottom("table")
                .resizable(true)
                .default_size(self.chrome.table_height)
                .min_size(60.0)
                .show(ui, |ui| panels::table(self, ui));
            if dragging {
                self.chrome.table_height = r.response.rect.height();
            }
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
            .show(ui, |ui| {
                self.chrome.details_rect = Some(ui.max_rect());
                panels::details(self, ui)
            });
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
        self.edit_frame();
        self.evidence_frame();
        self.remote_frame();
        self.watch_frame();
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
        if !dropped.is_empty() && !self.drop_evidence(&ctx, &dropped) {
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

        self.panels(ui);
        egui::CentralPanel::no_frame().show(ui, |ui| self.map_view(ui));
        panels::windows(self, &ctx);
        tools_panel::windows(self, &ctx);
        tools_panel::place_search(self, &ctx);
        tools_panel::chart_window(self, &ctx);
        tools_panel::data_window(self, &ctx);
        export_dialog::windows(self, &ctx);
        panels::edit_windows(self, &ctx);
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
