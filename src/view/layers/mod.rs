//! The map's layers, drawn in order by the window and by every export alike: each implements
//! [`Layer`] (in the manner of walkers' `Plugin`) in a file of its own, and [`LAYERS`] is THE
//! list. A new layer is one file and one line there.

mod attribution;
mod basemap;
mod caption;
mod density_legend;
mod heat;
mod hexbin;
mod incidents;
mod legend;
mod links;
mod place_names;
mod scale_bar;
mod tools;

use egui::Shape;

use super::Marker;
use super::map::Scene;
use super::screen::Screen;

/// What the map is being drawn into, and what layers leave for the layers after them.
pub struct MapFrame<'u> {
    /// The map's area of the window (or the export), painted in list order.
    pub ui: &'u mut egui::Ui,
    /// The view.
    pub screen: Screen,
    /// Shapes drawn under the tiles (the offline basemap shows wherever a tile is missing).
    pub under_tiles: Vec<Shape>,
    /// The basemap drew roads (OpenStreetMap data): the attribution credits OpenStreetMap.
    pub roads_drawn: bool,
    /// Markers the incident layer drew (hit tests; place names keep clear of them).
    pub markers: Vec<Marker>,
    /// A density layer's scale: the most incidents in a hexagon, or the heat map's top.
    pub density_scale: Option<Result<u32, f32>>,
    /// The legend row clicked (the window only).
    pub legend_clicked: Option<u32>,
    /// An id for what a layer keeps between frames (the heat map), stable for this map.
    pub id: egui::Id,
}

/// One layer of the map.
pub trait Layer: Sync {
    /// Its name: what it is called in exports' layer groups and messages.
    fn name(&self) -> &'static str;
    /// Draws what `scene` gives it into the frame.
    fn draw(&self, scene: &Scene<'_>, frame: &mut MapFrame<'_>);
}

/// THE map, bottom to top.
pub static LAYERS: &[&dyn Layer] = &[
    &basemap::Basemap,
    &links::Links,
    &hexbin::Hexbin,
    &heat::Heat,
    &incidents::Incidents,
    &place_names::PlaceNames,
    &density_legend::DensityLegend,
    &tools::Tools,
    &scale_bar::ScaleBar,
    &caption::Caption,
    &legend::Legend,
    &attribution::Attribution,
];
