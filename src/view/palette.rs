//! Colours and symbols for incident types.
//!
//! Common types get a designed colour from the Okabe–Ito palette (distinguishable with the common
//! forms of colour blindness) and a distinct symbol, so that type never depends on colour alone.
//! Unknown types get a stable colour generated from their name.

use egui::{Color32, Pos2, Shape, Stroke, Vec2};

/// Marker shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Symbol {
    /// Filled circle.
    Circle,
    /// Square.
    Square,
    /// Diamond.
    Diamond,
    /// Triangle pointing up.
    TriangleUp,
    /// Triangle pointing down.
    TriangleDown,
    /// Hexagon.
    Hexagon,
}

/// The designed classes of incident type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// Drone and air strikes.
    Air,
    /// Rockets, missiles, shelling, mortars.
    Rocket,
    /// IEDs, bombs, mines, grenades.
    Explosive,
    /// Armed clashes and battles.
    Clash,
    /// Interceptions and disrupted weapons use.
    Interception,
    /// Anything else (kept with a generated colour).
    Other,
}

/// Classifies a free-text type name by keywords.
pub fn classify(name: &str) -> Class {
    let n = name.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| n.contains(w));
    if has(&[
        "intercept",
        "disrupted",
        "shot down",
        "defus",
        "thwart",
        "foiled",
    ]) {
        Class::Interception
    } else if has(&["drone", "air strike", "airstrike", "air/", "uav", "aerial"]) {
        Class::Air
    } else if has(&[
        "rocket",
        "missile",
        "shell",
        "artillery",
        "mortar",
        "indirect fire",
    ]) {
        Class::Rocket
    } else if has(&[
        "ied", "explos", "bomb", "landmine", "mine", "grenade", "suicide", "vbied",
    ]) {
        Class::Explosive
    } else if has(&[
        "clash",
        "battle",
        "armed",
        "firefight",
        "gunfight",
        "ambush",
    ]) {
        Class::Clash
    } else {
        Class::Other
    }
}

/// Okabe–Ito colours.
const VERMILLION: Color32 = Color32::from_rgb(0xD5, 0x5E, 0x00);
const ORANGE: Color32 = Color32::from_rgb(0xE6, 0x9F, 0x00);
const PURPLE: Color32 = Color32::from_rgb(0xCC, 0x79, 0xA7);
const BLUE: Color32 = Color32::from_rgb(0x00, 0x72, 0xB2);
const GREEN: Color32 = Color32::from_rgb(0x00, 0x9E, 0x73);
const GREY: Color32 = Color32::from_rgb(0x7A, 0x7A, 0x7A);

/// Colour and symbol of a type.
pub fn style(name: &str) -> (Color32, Symbol) {
    match classify(name) {
        Class::Air => (VERMILLION, Symbol::TriangleDown),
        Class::Rocket => (ORANGE, Symbol::Diamond),
        Class::Explosive => (PURPLE, Symbol::Square),
        Class::Clash => (BLUE, Symbol::Hexagon),
        Class::Interception => (GREEN, Symbol::TriangleUp),
        Class::Other => (generated(name), Symbol::Circle),
    }
}

/// Colour used for the "other types" slice of cluster donuts.
pub const OTHER: Color32 = GREY;

/// A stable colour from a name: FNV-1a hash → hue, at a fixed lightness that reads on both the
/// light basemap and OSM tiles.
pub fn generated(name: &str) -> Color32 {
    let hue = (fnv1a(name) % 360) as f32 / 360.0;
    egui::ecolor::Hsva::new(hue, 0.55, 0.65, 1.0).into()
}

/// 32-bit FNV-1a: a hash that is the same in every run and every version, unlike std's.
fn fnv1a(s: &str) -> u32 {
    let mut h: u32 = 0x811C_9DC5;
    for b in s.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The shape of a symbol of `radius` at `c`.
pub fn symbol_shape(sym: Symbol, c: Pos2, radius: f32, fill: Color32, stroke: Stroke) -> Shape {
    let r = radius;
    let poly = |pts: Vec<Pos2>| Shape::convex_polygon(pts, fill, stroke);
    match sym {
        Symbol::Circle => Shape::circle_filled(c, r, fill).with_stroke(stroke),
        Symbol::Square => {
            let s = r * 0.88;
            poly(vec![
                c + Vec2::new(-s, -s),
                c + Vec2::new(s, -s),
                c + Vec2::new(s, s),
                c + Vec2::new(-s, s),
            ])
        }
        Symbol::Diamond => {
            let s = r * 1.2;
            poly(vec![
                c + Vec2::new(0.0, -s),
                c + Vec2::new(s, 0.0),
                c + Vec2::new(0.0, s),
                c + Vec2::new(-s, 0.0),
            ])
        }
        Symbol::TriangleUp => {
            let s = r * 1.25;
            poly(vec![
                c + Vec2::new(0.0, -s),
                c + Vec2::new(s * 0.95, s * 0.7),
                c + Vec2::new(-s * 0.95, s * 0.7),
            ])
        }
        Symbol::TriangleDown => {
            let s = r * 1.25;
            poly(vec![
                c + Vec2::new(-s * 0.95, -s * 0.7),
                c + Vec2::new(s * 0.95, -s * 0.7),
                c + Vec2::new(0.0, s),
            ])
        }
        Symbol::Hexagon => {
            let pts = (0..6)
                .map(|k| {
                    let a = std::f32::consts::FRAC_PI_3 * k as f32;
                    c + Vec2::new(a.cos(), a.sin()) * r * 1.05
                })
                .collect();
            poly(pts)
        }
    }
}

trait WithStroke {
    fn with_stroke(self, s: Stroke) -> Shape;
}

impl WithStroke for Shape {
    fn with_stroke(self, s: Stroke) -> Shape {
        match self {
            Shape::Circle(mut c) => {
                c.stroke = s;
                Shape::Circle(c)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_types_get_designed_styles() {
        assert_eq!(classify("Drone attack"), Class::Air);
        assert_eq!(classify("Air/drone strike"), Class::Air);
        assert_eq!(classify("Rocket attack"), Class::Rocket);
        assert_eq!(classify("Shelling/artillery/missile attack"), Class::Rocket);
        assert_eq!(classify("IED"), Class::Explosive);
        assert_eq!(classify("Remote explosive/landmine/IED"), Class::Explosive);
        assert_eq!(classify("Armed clash"), Class::Clash);
        assert_eq!(classify("Interception"), Class::Interception);
        assert_eq!(classify("Disrupted weapons use"), Class::Interception);
        assert_eq!(classify("Peaceful protest"), Class::Other);
        let designed: std::collections::HashSet<_> = [
            "Drone attack",
            "Rocket attack",
            "IED",
            "Armed clash",
            "Interception",
        ]
        .iter()
        .map(|n| style(n))
        .collect();
        assert_eq!(designed.len(), 5);
    }

    #[test]
    fn generated_colours_are_stable_across_runs_and_versions() {
        // The published FNV-1a test vectors: the hash, hence every generated colour, is fixed.
        assert_eq!(fnv1a(""), 0x811c_9dc5);
        assert_eq!(fnv1a("a"), 0xe40c_292c);
        assert_eq!(fnv1a("foobar"), 0xbf9c_f968);
        // "a" → hue 0xe40c292c % 360 = 340°: a raspberry red at the fixed saturation and value.
        let c = generated("a");
        let hsva = egui::ecolor::Hsva::from(c);
        assert!((hsva.h * 360.0 - 340.0).abs() < 1.5, "{}", hsva.h * 360.0);
        assert!(c.r() > c.b() && c.b() > c.g(), "{c:?}");
        // Distinct names mostly get distinct colours, all readable on the light basemap.
        let names: Vec<String> = (0..50).map(|k| format!("Type {k}")).collect();
        let colours: std::collections::HashSet<Color32> =
            names.iter().map(|n| generated(n)).collect();
        assert!(colours.len() >= 45, "{}", colours.len());
        for c in colours {
            let luma = 0.299 * c.r() as f32 + 0.587 * c.g() as f32 + 0.114 * c.b() as f32;
            assert!((60.0..200.0).contains(&luma), "{c:?}");
        }
    }
}
