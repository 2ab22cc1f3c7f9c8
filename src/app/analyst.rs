//! The analyst's tools in the window: the ruler, range rings, drawing and editing an area of
//! interest, the near filter and "incidents near here", labels and arrows. [`ToolState`] owns
//! them; the map view feeds it pointer events and draws its [`ToolShapes`]; the Tools window edits
//! it. Rings, labels and arrows are the shared [`Tools`] type (settings, saved views, exports).

use crate::area::Area;
use crate::geodesy::{distance_km, km_text};
use crate::query::{Near, Selection};
use crate::store::Store;
use crate::tools::{Arrow, Ink, Label, Ring, Tools, parse_radii};
use crate::view::Screen;
use crate::view::tools::ToolShapes;

/// What a drag or click on the map does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// Pan and select (the default).
    #[default]
    Browse,
    /// Drag to measure.
    Measure,
    /// Click vertices, double-click to close an area of interest.
    DrawArea,
    /// Drag the area's vertices.
    EditArea,
    /// Click the tail, then the head of an arrow.
    Arrow,
}

/// A form placing something at a point (rings, a label, the near filter).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PointForm {
    /// `(lon, lat)`.
    pub at: (f64, f64),
    /// What the user types (radii, text or a radius).
    pub text: String,
    /// Ink for a label.
    pub ink: Ink,
}

/// A point `(lon, lat)` and the nearest filtered incidents with their distances in km.
pub type Nearest = ((f64, f64), Vec<(u32, f64)>);

/// The tools' state.
#[derive(Debug, Default)]
pub struct ToolState {
    /// Rings, labels, arrows.
    pub tools: Tools,
    /// What the pointer does.
    pub mode: Mode,
    /// The ruler, from and to `(lon, lat)`.
    pub ruler: Option<((f64, f64), (f64, f64))>,
    /// Vertices of the area being drawn or edited.
    pub draft: Vec<(f64, f64)>,
    /// The tail of an arrow being placed.
    pub arrow_from: Option<(f64, f64)>,
    /// The vertex being dragged.
    dragging: Option<usize>,
    /// The area being edited: the draft is its first polygon's outer ring; the rest is kept.
    editing: Option<Area>,
    /// The Tools window.
    pub show: bool,
    /// Ring form (radii typed as "5, 10, 25").
    pub ring_form: Option<PointForm>,
    /// Label form.
    pub label_form: Option<PointForm>,
    /// Near-filter form (a radius).
    pub near_form: Option<PointForm>,
    /// "Incidents near here": the point, and the nearest incidents with their distances.
    pub nearest: Option<Nearest>,
    /// Filtered incidents inside each ring and radius.
    pub ring_counts: Vec<Vec<u64>>,
    /// Links between filtered related incidents, as drawn.
    pub links: Vec<crate::links::Segment>,
    /// Where the map was right-clicked.
    pub context_at: Option<(f64, f64)>,
    /// A message for the Tools window.
    pub message: Option<String>,
}

/// The nearest incidents listed.
pub const NEAREST: usize = 25;

impl ToolState {
    /// Tools as saved, nothing in progress.
    pub fn with(tools: Tools) -> ToolState {
        ToolState {
            tools,
            ..Default::default()
        }
    }

    /// The data was replaced: results that name its incidents go (the marks stay).
    pub fn data_replaced(&mut self) {
        self.nearest = None;
        self.links.clear();
        self.ring_counts.clear();
    }

    /// What the map draws over the incidents.
    pub fn shapes(&self, near: Option<Near>, within: Option<&Area>) -> ToolShapes {
        ToolShapes {
            tools: self.tools.clone(),
            ring_counts: self.ring_counts.clone(),
            near,
            within: within.cloned(),
            ruler: self.ruler,
            draft: if matches!(self.mode, Mode::DrawArea | Mode::EditArea) {
                self.draft.clone()
            } else {
                Vec::new()
            },
            links: self.links.clone(),
        }
    }

    /// Recounts the filtered incidents inside the rings.
    pub fn recount(&mut self, store: &Store, sel: &Selection) {
        self.ring_counts = crate::tools::ring_counts(store, sel, &self.tools.rings);
    }

    /// Adds rings from the ring form; false (with a message) when the radii cannot be read.
    pub fn add_rings(&mut self) -> bool {
        let Some(f) = &self.ring_form else {
            return false;
        };
        match parse_radii(&f.text) {
            Some(km) => {
                let ring = Ring {
                    lat: f.at.1,
                    lon: f.at.0,
                    km,
                };
                if !self.fits(|t| t.rings.push(ring)) {
                    return false;
                }
                self.ring_form = None;
                true
            }
            None => {
                self.message =
                    Some("Radii are kilometres, more than 0, separated by commas or spaces".into());
                false
            }
        }
    }

    /// Adds the label of the label form.
    pub fn add_label(&mut self) -> bool {
        let Some(f) = &self.label_form else {
            return false;
        };
        if f.text.trim().is_empty() {
            return false;
        }
        let label = Label {
            lat: f.at.1,
            lon: f.at.0,
            text: f.text.trim().to_string(),
            ink: f.ink,
        };
        if !self.fits(|t| t.labels.push(label)) {
            return false;
        }
        self.label_form = None;
        true
    }

    /// Applies `add` to the tools unless they would then be more than a map can carry (the
    /// limits the settings and view files are checked by): then says so and adds nothing.
    fn fits(&mut self, add: impl FnOnce(&mut Tools)) -> bool {
        let mut tools = self.tools.clone();
        add(&mut tools);
        match tools.check() {
            Ok(()) => {
                self.tools = tools;
                self.message = None;
                true
            }
            Err(e) => {
                self.message = Some(format!("Not added: {e}"));
                false
            }
        }
    }

    /// The near filter the near form describes, if its radius reads.
    pub fn near_from_form(&mut self) -> Option<Near> {
        let f = self.near_form.as_ref()?;
        match f.text.trim().parse::<f64>() {
            Ok(km) if km > 0.0 && km <= 20_000.0 => {
                let n = Near {
                    lat: f.at.1,
                    lon: f.at.0,
                    km,
                };
                self.near_form = None;
                self.message = None;
                Some(n)
            }
            _ => {
                self.message = Some("The radius is kilometres, more than 0".into());
                None
            }
        }
    }

    /// Lists the filtered incidents nearest to `at`.
    pub fn list_nearest(&mut self, at: (f64, f64), store: &Store, sel: &Selection) {
        let mut all: Vec<(u32, f64)> = sel
            .indices
            .iter()
            .map(|&i| {
                let i = i as usize;
                (
                    i as u32,
                    crate::geodesy::sphere_km(at, (store.lon[i], store.lat[i])),
                )
            })
            .collect();
        // The sphere orders; the ellipsoid gives the distances shown.
        let k = (NEAREST * 2).min(all.len());
        if k > 0 {
            all.select_nth_unstable_by(k - 1, |a, b| a.1.total_cmp(&b.1));
        }
        all.truncate(k);
        let mut exact: Vec<(u32, f64)> = all
            .into_iter()
            .map(|(i, _)| {
                let i = i as usize;
                (i as u32, distance_km(at, (store.lon[i], store.lat[i])))
            })
            .collect();
        exact.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        exact.truncate(NEAREST);
        self.nearest = Some((at, exact));
    }

    /// A press on the map at `(lon, lat)` (screen position `p`) in the current mode; true when
    /// the tool took it (the map must not pan).
    pub fn drag_start(&mut self, at: (f64, f64), p: egui::Pos2, s: &Screen) -> bool {
        match self.mode {
            Mode::Measure => {
                self.ruler = Some((at, at));
                true
            }
            Mode::EditArea => {
                self.dragging = self
                    .draft
                    .iter()
                    .position(|v| s.lonlat_to_screen(v.0, v.1).distance(p) <= 9.0);
                self.dragging.is_some()
            }
            _ => false,
        }
    }

    /// The pointer moved to `at` while pressed.
    pub fn drag_to(&mut self, at: (f64, f64)) {
        match self.mode {
            Mode::Measure => {
                if let Some((a, _)) = self.ruler {
                    self.ruler = Some((a, at));
                }
            }
            Mode::EditArea => {
                if let Some(k) = self.dragging
                    && let Some(v) = self.draft.get_mut(k)
                {
                    *v = at;
                }
            }
            _ => {}
        }
    }

    /// The press ended: an edited area, if a vertex was moved.
    pub fn drag_end(&mut self) -> Option<Area> {
        if self.mode == Mode::EditArea && self.dragging.take().is_some() {
            let ring = self
                .draft_area()?
                .polygons
                .into_iter()
                .next()?
                .into_iter()
                .next()?;
            let mut area = self.editing.clone().unwrap_or_default();
            match area.polygons.first_mut() {
                Some(p) if !p.is_empty() => p[0] = ring,
                _ => area.polygons = vec![vec![ring]],
            }
            let area = Area::new(area.polygons);
            self.editing = Some(area.clone());
            return Some(area);
        }
        None
    }

    /// A click at `at`; an area when a double-click closes the one being drawn.
    pub fn click(&mut self, at: (f64, f64), double: bool) -> Option<Area> {
        match self.mode {
            Mode::DrawArea if double => {
                // The double-click's first click already added this point.
                let area = self.draft_area();
                if area.is_some() {
                    self.mode = Mode::EditArea;
                    self.editing = area.clone();
                } else {
                    self.message = Some("An area needs at least 3 vertices".into());
                }
                area
            }
            Mode::DrawArea => {
                self.draft.push(at);
                None
            }
            Mode::Arrow => {
                match self.arrow_from.take() {
                    None => self.arrow_from = Some(at),
                    Some(from) => {
                        let arrow = Arrow {
                            from: [from.1, from.0],
                            to: [at.1, at.0],
                            ink: Ink::Red,
                        };
                        self.fits(|t| t.arrows.push(arrow));
                        self.mode = Mode::Browse;
                    }
                }
                None
            }
            _ => None,
        }
    }

    /// The draft as an area (at least 3 distinct vertices).
    pub fn draft_area(&self) -> Option<Area> {
        let mut pts: Vec<[f64; 2]> = self.draft.iter().map(|p| [p.0, p.1]).collect();
        pts.dedup();
        (pts.len() >= 3).then(|| Area::new(vec![vec![pts]]))
    }

    /// Starts drawing a new area (the old one stays in the filter until this one closes).
    pub fn start_area(&mut self) {
        self.mode = Mode::DrawArea;
        self.draft.clear();
    }

    /// Edits `area`'s first polygon's outer ring (its holes and other polygons are kept).
    pub fn edit_area(&mut self, area: &Area) {
        self.editing = Some(area.clone());
        self.draft = area
            .polygons
            .first()
            .and_then(|p| p.first())
            .map(|r| r.iter().map(|v| (v[0], v[1])).collect())
            .unwrap_or_default();
        self.mode = Mode::EditArea;
    }

    /// The ruler in words.
    pub fn ruler_text(&self) -> Option<String> {
        let (a, b) = self.ruler?;
        Some(format!(
            "{} · bearing {:.1}°",
            km_text(distance_km(a, b)),
            crate::geodesy::bearing_deg(a, b)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawing_an_area_and_placing_an_arrow() {
        let mut t = ToolState::default();
        t.start_area();
        for p in [(42.0, 33.0), (43.0, 33.0), (43.0, 34.0)] {
            assert!(t.click(p, false).is_none());
        }
        let a = t.click((43.0, 34.0), true).expect("closed");
        assert!(a.contains(42.9, 33.2) && !a.contains(42.1, 33.9));
        assert_eq!(t.mode, Mode::EditArea);
        t.mode = Mode::Arrow;
        t.click((44.0, 33.0), false);
        t.click((42.4, 33.8), false);
        assert_eq!(t.tools.arrows[0].to, [33.8, 42.4]);
        assert_eq!(t.mode, Mode::Browse);
        t.ring_form = Some(PointForm {
            at: (42.441, 33.786),
            text: "25 10, x".into(),
            ink: Ink::Black,
        });
        assert!(!t.add_rings());
        t.ring_form.as_mut().unwrap().text = "25 10".into();
        assert!(t.add_rings());
        assert_eq!(t.tools.rings[0].km, vec![10.0, 25.0]);
        // Past what a map can carry (the limit settings and view files are checked by, so a
        // session could not save tools its next start would drop): refused with the reason.
        let many: Vec<String> = (1..=999).map(|k| k.to_string()).collect();
        t.ring_form = Some(PointForm {
            at: (42.441, 33.786),
            text: many.join(" "),
            ink: Ink::Black,
        });
        assert!(!t.add_rings());
        assert_eq!(
            t.message.as_deref(),
            Some("Not added: more radii than a map can carry (at most 1000)")
        );
        assert_eq!(t.tools.rings.len(), 1);
    }

    #[test]
    fn editing_a_vertex_keeps_holes_and_other_polygons() {
        let area = Area::from_geojson(
            r#"{"type":"MultiPolygon","coordinates":[
                [[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]],
                [[[20,20],[30,20],[25,30],[20,20]]]]}"#,
            "a",
        )
        .unwrap();
        let mut t = ToolState::default();
        t.edit_area(&area);
        assert_eq!(t.mode, Mode::EditArea);
        let s = Screen::new(
            egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(800.0, 600.0)),
            crate::projection::merc_x(10.0),
            crate::projection::merc_y(10.0),
            4.0,
        );
        // Drag the corner (10, 10) to (12, 12).
        let p = s.lonlat_to_screen(10.0, 10.0);
        assert!(t.drag_start((10.0, 10.0), p, &s));
        t.drag_to((12.0, 12.0));
        let edited = t.drag_end().expect("an edited area");
        assert_eq!(edited.polygons.len(), 2);
        assert_eq!(edited.polygons[0].len(), 2, "the hole stays");
        assert!(edited.contains(11.0, 11.0) && !edited.contains(5.0, 5.0));
        assert!(edited.contains(25.0, 25.0));
    }
}
