//! The attribution, bottom right: always there (OpenStreetMap's, or the tiles' own), and
//! OpenStreetMap's whenever the offline basemap drew its roads.

use super::{Layer, MapFrame};
use crate::view::map::Scene;

/// The attribution.
pub struct Attribution;

impl Layer for Attribution {
    fn name(&self) -> &'static str {
        "attribution"
    }

    fn draw(&self, scene: &Scene<'_>, frame: &mut MapFrame<'_>) {
        let (text, url) = if frame.roads_drawn {
            crate::view::tiles::with_osm_credit(&scene.attribution)
        } else {
            scene.attribution.clone()
        };
        crate::view::overlay::attribution(
            frame.ui,
            frame.screen.rect,
            &text,
            url.as_deref(),
            scene.interactive,
        );
    }
}
