//! The incidents: symbols, clusters with their donuts, stacks, duplicate badges, the highlight.

use super::{Layer, MapFrame};
use crate::view::map::Scene;
use crate::view::{IncidentLayer, draw_incidents};

/// The incidents (not drawn under a density layer, which stands for them).
pub struct Incidents;

impl Layer for Incidents {
    fn name(&self) -> &'static str {
        "incidents"
    }

    fn draw(&self, scene: &Scene<'_>, frame: &mut MapFrame<'_>) {
        if scene.heat.is_some() || scene.density.is_some() {
            return;
        }
        let Some((store, index)) = scene.data else {
            return;
        };
        let layer = IncidentLayer {
            store,
            index,
            sel: scene.sel,
            cells: scene.cells,
            dupes: scene.dupes,
            highlight: scene.highlight,
        };
        frame.markers = draw_incidents(frame.ui.painter(), &frame.screen, &layer);
    }
}
