//! The map as the window and the exporter both draw it: offline basemap under the tiles,
//! incidents, scale bar, legend, attribution, and for exports a title and caption.

use egui::Shape;
use walkers::{MapMemory, Tiles, lon_lat};

use super::basemap::Basemap;
use super::overlay::{self, LegendEntry};
use super::tiles::TrackedTiles;
use super::{IncidentLayer, Marker, Screen, draw_incidents};
use crate::cluster::{Cluster, ClusterIndex, ClusterSel};
use crate::store::Store;

/// Title and caption lines drawn on exports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Caption {
    /// Optional title.
    pub title: Option<String>,
    /// Caption lines (filters, count).
    pub lines: Vec<String>,
}

/// What to draw on the map.
pub struct Scene<'a> {
    /// Data and its cluster index, if loaded.
    pub data: Option<(&'a Store, &'a ClusterIndex)>,
    /// The selection, prepared for clustering.
    pub sel: &'a ClusterSel,
    /// Store index → group of possible duplicates (`u32::MAX`: none); empty: no badges.
    pub dupes: &'a [u32],
    /// Clusters computed elsewhere (a table's server cells), drawn instead of the selection;
    /// their type ids are the store's.
    pub cells: Option<&'a [Cluster]>,
    /// Highlighted incident.
    pub highlight: Option<u32>,
    /// Legend rows (empty: no legend).
    pub legend: Vec<LegendEntry>,
    /// Disputed incidents shown (a line under the legend when any).
    pub disputed: u32,
    /// Attribution text and link.
    pub attribution: (String, Option<String>),
    /// Window (links and legend clickable) or export (static).
    pub interactive: bool,
    /// Dragging pans the map (a tool may take drags and double-clicks instead).
    pub pan: bool,
    /// Title and caption (exports).
    pub caption: Option<Caption>,
    /// Rings, labels, arrows, the filter's area and radius, the ruler.
    pub overlay: Option<&'a super::tools::Overlay>,
    /// The density layer instead of the incidents: hexagon counts and the scale's top.
    pub density: Option<(&'a crate::density::Hexbin, u32)>,
    /// The heat map instead of the incidents.
    pub heat: Option<super::density::HeatInput<'a>>,
}

/// What the map drew and how the user touched it.
pub struct Shown {
    /// The view drawn.
    pub screen: Screen,
    /// Markers, for hit tests.
    pub markers: Vec<Marker>,
    /// The map widget's response.
    pub response: egui::Response,
    /// Legend row clicked (window only).
    pub legend_clicked: Option<u32>,
}

/// Draws the map into the remaining space of `ui`.
pub fn show(
    ui: &mut egui::Ui,
    tiles: Option<&mut TrackedTiles>,
    memory: &mut MapMemory,
    scene: &Scene<'_>,
) -> Shown {
    let basemap = Basemap::shared();
    // Reserved now, filled once the view is known: the offline basemap sits under the tiles.
    let bg = ui.painter().add(Shape::Noop);
    let tiles: Option<&mut dyn Tiles> = tiles.map(|t| {
        t.reset();
        t as &mut dyn Tiles
    });
    let (lon, lat) = super::viewport::DEFAULT_CENTER;
    let map = walkers::Map::new(tiles, memory, lon_lat(lon, lat))
        .zoom_with_ctrl(false)
        .zoom_gesture(scene.interactive)
        .panning(scene.interactive)
        .double_click_to_zoom(scene.interactive && scene.pan);
    // A tool that takes the primary button leaves panning to the middle one.
    let map = if scene.pan {
        map
    } else {
        map.drag_pan_buttons(egui::DragPanButtons::MIDDLE)
    };
    let out = map.show(ui, |ui, response, projector, _| {
        let r = response.rect;
        // The heat map kept for this map (not for its place on screen, which moves when a panel
        // is resized); forgotten while another layer is drawn.
        let heat_id = ui.scope_id().with("heat-layer");
        if scene.heat.is_none() {
            super::density::forget_heat(ui.ctx(), heat_id);
        }
        let c = projector.unproject(r.center().to_vec2());
        let screen = Screen::new(r, c.x(), c.y(), projector.zoom());
        // The window draws the 1:50m water until the 1:10m has loaded; an export waits for it.
        if scene.interactive && screen.zoom >= super::basemap::DETAIL_ZOOM {
            let ctx = ui.ctx().clone();
            basemap.load_detail_in_background(move || ctx.request_repaint());
        }
        let mut shapes = basemap.shapes(&screen, !scene.interactive);
        if let Some(o) = scene.overlay {
            super::tools::draw_links(ui.painter(), &screen, &o.links);
        }
        // A density layer's scale (hexagon count, or heat), its legend drawn once the labels are.
        let mut scale: Option<Result<u32, f32>> = None;
        let markers = match (scene.density, scene.data) {
            _ if scene.heat.is_some() => {
                if let Some(h) = &scene.heat {
                    let max = super::density::draw_heat(
                        ui.painter(),
                        &screen,
                        h,
                        heat_id,
                        scene.interactive,
                    );
                    scale = Some(Err(max));
                }
                Vec::new()
            }
            (Some((bins, max)), _) => {
                super::density::draw(ui.painter(), &screen, bins, max);
                scale = Some(Ok(max));
                Vec::new()
            }
            (None, data) => match data {
                Some((store, index)) => {
                    let layer = IncidentLayer {
                        store,
                        index,
                        sel: scene.sel,
                        cells: scene.cells,
                        dupes: scene.dupes,
                        highlight: scene.highlight,
                    };
                    draw_incidents(ui.painter(), &screen, &layer)
                }
                None => Vec::new(),
            },
        };
        // Basemap labels once the markers are known: river names keep clear of them.
        let avoid: Vec<egui::Rect> = markers
            .iter()
            .map(|m| egui::Rect::from_center_size(m.pos, egui::Vec2::splat(2.0 * m.radius + 4.0)))
            .collect();
        let labels = basemap.labels(&screen, ui.painter(), &avoid);
        // Over a density layer the place names stay readable; under symbols they give way.
        match scale {
            Some(top) => {
                ui.painter().extend(labels);
                match top {
                    Ok(count) => super::density::legend(ui.painter(), r, count),
                    Err(heat) => super::density::heat_legend(ui.painter(), r, heat),
                }
            }
            None => shapes.extend(labels),
        }
        ui.painter().set(bg, Shape::Vec(shapes));
        if let Some(o) = scene.overlay {
            super::tools::draw(ui.painter(), &screen, o);
        }
        overlay::scale_bar(ui.painter(), &screen);
        if let Some(c) = &scene.caption {
            overlay::caption(ui.painter(), r, c.title.as_deref(), &c.lines);
        }
        (screen, markers)
    });
    let (screen, markers) = out.inner;
    let legend_clicked = overlay::legend(
        ui,
        screen.rect,
        &scene.legend,
        scene.disputed,
        scene.interactive,
    );
    let (text, url) = &scene.attribution;
    overlay::attribution(ui, screen.rect, text, url.as_deref(), scene.interactive);
    Shown {
        screen,
        markers,
        response: out.response,
        legend_clicked,
    }
}
