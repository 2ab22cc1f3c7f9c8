//! The map in the window: the shared drawing path ([`crate::view::map::show`]) with the window's
//! state, hover and click on markers, the analyst tools' pointer input and context menu, the
//! density layers' counts, and the base layer's tiles.

use std::sync::Arc;

use super::{App, analyst};
use crate::view::tiles::{BaseLayer, TrackedTiles, make_tiles};
use crate::view::{MarkerKind, Screen, hit};

impl App {
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

    pub(super) fn map_view(&mut self, ui: &mut egui::Ui) {
        use analyst::Mode;
        let density = self.update_density();
        let moving = self.move_input(ui.ctx());
        let f = self.filters.base();
        let tools = self.analyst.shapes(f.near, f.within.as_ref());
        let evidence = match &self.data {
            Some(d) => self.sel.evidence_shown(&d.store.evidence.get()),
            None => 0,
        };
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
            evidence,
            attribution: self.map.base.attribution(),
            interactive: true,
            pan: matches!(self.analyst.mode, Mode::Browse) && !moving,
            caption: None,
            tools: Some(&tools),
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
            record: None,
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

        self.markers_input(&response, &screen);
        self.draw_move(ui, &screen);
    }

    /// Dragging the selected incident to move it (the map does not pan meanwhile); on release
    /// the move is confirmed in a dialog. Whether a drag is under way.
    fn move_input(&mut self, ctx: &egui::Context) -> bool {
        let (pressed, down, released, pos) = ctx.input(|i| {
            (
                i.pointer.primary_pressed(),
                i.pointer.primary_down(),
                i.pointer.primary_released(),
                i.pointer.interact_pos(),
            )
        });
        let Some(screen) = self.map.screen else {
            return false;
        };
        let here = pos.filter(|p| screen.rect.contains(*p));
        if let Some((i, _)) = self.editor.dragging {
            if down && let Some(p) = pos {
                self.editor.dragging = Some((i, screen.to_lonlat(p)));
                return true;
            }
            self.editor.dragging = None;
            let moved = released.then_some(pos).flatten().filter(|p| {
                self.data.as_ref().is_some_and(|d| {
                    let at =
                        screen.lonlat_to_screen(d.store.lon[i as usize], d.store.lat[i as usize]);
                    at.distance(*p) > 3.0
                })
            });
            if let (Some(p), Some(key), Some(source)) =
                (moved, self.selected_key(), self.source.clone())
            {
                self.editor.ask_move(&source, key, screen.to_lonlat(p), ctx);
            }
            return false;
        }
        let (Some(p), true, Some(i), Some(d)) = (here, pressed, self.pick.selected, &self.data)
        else {
            return false;
        };
        if self.why_not_editable().is_some() || self.editor.busy() {
            return false;
        }
        let at = screen.lonlat_to_screen(d.store.lon[i as usize], d.store.lat[i as usize]);
        if at.distance(p) <= 8.0 {
            self.editor.dragging = Some((i, screen.to_lonlat(p)));
            return true;
        }
        false
    }

    /// The incident being dragged: a line from where it is to where it would go.
    fn draw_move(&self, ui: &egui::Ui, screen: &Screen) {
        let (Some((i, (lon, lat))), Some(d)) = (self.editor.dragging, &self.data) else {
            return;
        };
        let from = screen.lonlat_to_screen(d.store.lon[i as usize], d.store.lat[i as usize]);
        let to = screen.lonlat_to_screen(lon, lat);
        let ink = egui::Color32::from_rgb(0xD8, 0x1B, 0x60);
        let p = ui.painter();
        p.line_segment([from, to], egui::Stroke::new(1.5, ink));
        p.circle_stroke(to, 7.0, egui::Stroke::new(2.0, ink));
        p.text(
            to + egui::vec2(10.0, -10.0),
            egui::Align2::LEFT_BOTTOM,
            format!("{lat:.5}, {lon:.5}"),
            egui::FontId::proportional(12.0),
            ink,
        );
    }

    /// Hover (a tooltip) and click (select, zoom into a cluster, list a stack) on the markers.
    fn markers_input(&mut self, response: &egui::Response, screen: &Screen) {
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
            if ui.button("Add an incident here…").clicked() {
                self.new_incident(Some(here));
                ui.close();
            }
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
