//! The offline basemap (Natural Earth land, water, borders, rivers; OpenStreetMap roads), under
//! the tiles.

use super::{Layer, MapFrame};
use crate::view::basemap::{Basemap as Data, DETAIL_ZOOM};
use crate::view::map::Scene;

/// The offline basemap.
pub struct Basemap;

impl Layer for Basemap {
    fn name(&self) -> &'static str {
        "basemap"
    }

    fn draw(&self, scene: &Scene<'_>, frame: &mut MapFrame<'_>) {
        let basemap = Data::shared();
        // The window draws the 1:50m water (and no roads) until the 1:10m has loaded; an export
        // waits for it.
        if scene.interactive && frame.screen.zoom >= DETAIL_ZOOM {
            let ctx = frame.ui.ctx().clone();
            basemap.load_detail_in_background(move || ctx.request_repaint());
        }
        let drawn = basemap.shapes(&frame.screen, !scene.interactive);
        frame.under_tiles = drawn.shapes;
        frame.roads_drawn = drawn.roads;
    }
}
