//! Type styles ([`crate::style`]) as egui colours, and the shapes of the symbols.

use egui::{Color32, Pos2, Shape, Stroke, Vec2};

use crate::style::{Rgb, Symbol};

/// An sRGB colour as egui's.
pub fn color(c: Rgb) -> Color32 {
    Color32::from_rgb(c[0], c[1], c[2])
}

/// Colour and symbol of a type, with the data's colours.
pub fn style(colours: &crate::style::TypeColours, name: &str) -> (Color32, Symbol) {
    let (c, s) = colours.style(name);
    (color(c), s)
}

/// Colour used for the "other types" slice of cluster donuts.
pub const OTHER: Color32 = Color32::from_rgb(
    crate::style::OTHER[0],
    crate::style::OTHER[1],
    crate::style::OTHER[2],
);

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
    use crate::style::{SATURATION, VALUE, generated, hue};

    #[test]
    fn generated_colours_are_egui_hsv_colours() {
        // The same colours as egui makes from the hue, saturation and value (linear light).
        for name in [
            "a",
            "Peaceful protest",
            "Looting",
            "Homicide",
            "Officer-involved shooting",
        ] {
            let egui: Color32 = egui::ecolor::Hsva::new(hue(name), SATURATION, VALUE, 1.0).into();
            assert_eq!(color(generated(name)), egui, "{name}");
        }
    }
}
