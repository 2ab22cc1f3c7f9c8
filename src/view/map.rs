//! The map as the window and the exporter both draw it: walkers' map widget (tiles) with the
//! layers of [`super::layers::LAYERS`] drawn over it, in order.

use egui::Shape;
use walkers::{MapMemory, Tiles, lon_lat};

use super::layers::{LAYERS, MapFrame};
use super::overlay::LegendEntry;
use super::tiles::TrackedTiles;
use super::{Marker, Screen};
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
    /// Incidents shown with evidence attached (a line under the legend, with the badge, when
    /// any).
    pub evidence: u32,
    /// Attribution text and link.
    pub attribution: (String, Option<String>),
    /// Window (links and legend clickable) or export (static).
    pub interactive: bool,
    /// Dragging pans the map (a tool may take drags and double-clicks instead).
    pub pan: bool,
    /// Title and caption (exports).
    pub caption: Option<Caption>,
    /// Rings, labels, arrows, the filter's area and radius, the ruler, links.
    pub tools: Option<&'a super::tools::ToolShapes>,
    /// The density layer instead of the incidents: hexagon counts and the scale's top.
    pub density: Option<(&'a crate::density::Hexbin, u32)>,
    /// The heat map instead of the incidents.
    pub heat: Option<super::density::HeatInput<'a>>,
    /// Where each layer's shapes are kept as drawn (vector exports), if anywhere.
    pub record: Option<&'a super::record::Recorder>,
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

/// Draws the map into the remaining space of `ui`: the tiles, then every layer in order.
pub fn show(
    ui: &mut egui::Ui,
    tiles: Option<&mut TrackedTiles>,
    memory: &mut MapMemory,
    scene: &Scene<'_>,
) -> Shown {
    // Reserved now, filled once the layers are drawn: what goes under the tiles.
    let under_tiles = ui.painter().add(Shape::Noop);
    let ctx = ui.ctx().clone();
    let before_tiles = scene.record.map(|_| super::record::marks(&ctx));
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
        let c = projector.unproject(r.center().to_vec2());
        let id = ui.scope_id();
        let mut frame = MapFrame {
            ui,
            screen: Screen::new(r, c.x(), c.y(), projector.zoom()),
            under_tiles: Vec::new(),
            roads_drawn: false,
            markers: Vec::new(),
            density_scale: None,
            legend_clicked: None,
            id,
        };
        let mut drawn = Vec::new();
        if let Some(before) = &before_tiles {
            drawn.push(("tiles", super::record::since(&ctx, before)));
        }
        for layer in LAYERS {
            let before = scene.record.map(|_| super::record::marks(&ctx));
            layer.draw(scene, &mut frame);
            if let Some(before) = before {
                drawn.push((layer.name(), super::record::since(&ctx, &before)));
            }
        }
        if let Some(r) = scene.record {
            // The basemap goes under the tiles; its layer drew nothing on top of them.
            let clip = frame.ui.clip_rect();
            r.clear();
            r.push(
                "basemap",
                frame
                    .under_tiles
                    .iter()
                    .map(|s| egui::epaint::ClippedShape::new(clip, s.clone()))
                    .collect(),
            );
            for (name, shapes) in drawn {
                if name != "basemap" || !shapes.is_empty() {
                    r.push(name, shapes);
                }
            }
        }
        frame.ui.painter().set(
            under_tiles,
            Shape::Vec(std::mem::take(&mut frame.under_tiles)),
        );
        (frame.screen, frame.markers, frame.legend_clicked)
    });
    let (screen, markers, legend_clicked) = out.inner;
    Shown {
        screen,
        markers,
        response: out.response,
        legend_clicked,
    }
}
