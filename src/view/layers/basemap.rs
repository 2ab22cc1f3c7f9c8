//! The offline basemap (Natural Earth land, water, borders, rivers), under the tiles.

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
        // The window draws the 1:50m water until the 1:10m has loaded; an export waits for it.
        if scene.interactive && frame.screen.zoom >= DETAIL_ZOOM {
            let ctx = frame.ui.ctx().clone();
            basemap.load_detail_in_background(move || ctx.request_repaint());
        }
        frame.under_tiles = basemap.shapes(&frame.screen, !scene.interactive);
    }
}
