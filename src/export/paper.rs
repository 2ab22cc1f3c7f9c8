//! Print sizes: a paper (ISO A0–A4, US letter and tabloid), its orientation and the printer's
//! resolution. The map is laid out on a page of [`LAYOUT_SHORT_SIDE`] points across its short
//! side whatever the paper, and drawn at as many pixels per point as the paper and resolution
//! give: symbols, text and line widths grow with the paper, so an A0 poster reads like the A4
//! print (and like the screen), only larger.

use serde::{Deserialize, Serialize};

/// Paper sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Paper {
    /// ISO A4, 210 × 297 mm.
    A4,
    /// ISO A3, 297 × 420 mm.
    A3,
    /// ISO A2, 420 × 594 mm.
    A2,
    /// ISO A1, 594 × 841 mm.
    A1,
    /// ISO A0, 841 × 1189 mm.
    A0,
    /// US letter, 8.5 × 11 in.
    Letter,
    /// US tabloid, 11 × 17 in.
    Tabloid,
}

/// Every paper, for menus.
pub const PAPERS: [Paper; 7] = [
    Paper::A4,
    Paper::A3,
    Paper::A2,
    Paper::A1,
    Paper::A0,
    Paper::Letter,
    Paper::Tabloid,
];

/// The layout's short side in points: A4's width at 96 points to the inch, so an A4 print
/// shows the map as a screen of that size would.
pub const LAYOUT_SHORT_SIDE: f32 = 793.7;

/// Printer resolutions accepted (dots per inch).
pub const DPI_RANGE: std::ops::RangeInclusive<u32> = 72..=1200;

const MM_PER_INCH: f32 = 25.4;

impl Paper {
    /// Width and height in millimetres, portrait.
    pub fn mm(self) -> (f32, f32) {
        match self {
            Paper::A4 => (210.0, 297.0),
            Paper::A3 => (297.0, 420.0),
            Paper::A2 => (420.0, 594.0),
            Paper::A1 => (594.0, 841.0),
            Paper::A0 => (841.0, 1189.0),
            Paper::Letter => (8.5 * MM_PER_INCH, 11.0 * MM_PER_INCH),
            Paper::Tabloid => (11.0 * MM_PER_INCH, 17.0 * MM_PER_INCH),
        }
    }

    /// Its name as the command line takes it.
    pub fn name(self) -> &'static str {
        match self {
            Paper::A4 => "A4",
            Paper::A3 => "A3",
            Paper::A2 => "A2",
            Paper::A1 => "A1",
            Paper::A0 => "A0",
            Paper::Letter => "letter",
            Paper::Tabloid => "tabloid",
        }
    }
}

/// A paper name not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown paper {0:?} (one of A4, A3, A2, A1, A0, letter, tabloid)")]
pub struct UnknownPaper(pub String);

impl std::str::FromStr for Paper {
    type Err = UnknownPaper;

    fn from_str(s: &str) -> Result<Paper, UnknownPaper> {
        PAPERS
            .iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
            .copied()
            .ok_or_else(|| UnknownPaper(s.to_string()))
    }
}

/// A print: paper, orientation, resolution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Print {
    /// The paper.
    pub paper: Paper,
    /// Long side across.
    pub landscape: bool,
    /// Dots per inch.
    pub dpi: u32,
}

impl Print {
    /// Width and height of the paper in millimetres, as oriented.
    pub fn mm(&self) -> (f32, f32) {
        let (w, h) = self.paper.mm();
        if self.landscape { (h, w) } else { (w, h) }
    }

    /// The layout's width and height in whole points (short side [`LAYOUT_SHORT_SIDE`]).
    pub fn points(&self) -> (u32, u32) {
        let (w, h) = self.points_exact();
        (w.round() as u32, h.round() as u32)
    }

    /// The layout's width and height in points, exactly the image's pixels over
    /// [`Print::pixels_per_point`].
    pub fn points_exact(&self) -> (f32, f32) {
        let (pw, ph) = self.pixels();
        let ppp = self.pixels_per_point();
        (pw as f32 / ppp, ph as f32 / ppp)
    }

    /// The image's width and height in pixels at the resolution.
    pub fn pixels(&self) -> (u32, u32) {
        let (w, h) = self.mm();
        let px = |mm: f32| (mm / MM_PER_INCH * self.dpi as f32).round() as u32;
        (px(w), px(h))
    }

    /// Pixels per layout point.
    pub fn pixels_per_point(&self) -> f32 {
        self.dpi as f32 / self.points_per_inch()
    }

    /// Layout points per inch of paper (what a PDF's page size follows from).
    pub fn points_per_inch(&self) -> f32 {
        let (w, h) = self.mm();
        LAYOUT_SHORT_SIDE / (w.min(h) / MM_PER_INCH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a0_at_300_dpi_is_9933_by_14043_pixels() {
        let p = Print {
            paper: Paper::A0,
            landscape: false,
            dpi: 300,
        };
        assert_eq!(p.pixels(), (9933, 14043));
        // The same layout as A4: the poster is the A4 print four times larger.
        let a4 = Print {
            paper: Paper::A4,
            ..p
        };
        let (pa, pb) = (p.points(), a4.points());
        assert!(pa.0 == pb.0 && pa.1.abs_diff(pb.1) <= 1, "{pa:?} {pb:?}");
        assert_eq!(a4.pixels(), (2480, 3508));
        assert!((p.pixels_per_point() / a4.pixels_per_point() - 4.0).abs() < 0.01);
        let l = Print {
            landscape: true,
            ..a4
        };
        assert_eq!(l.pixels(), (3508, 2480));
        assert_eq!("tabloid".parse::<Paper>(), Ok(Paper::Tabloid));
        assert!(
            "B5".parse::<Paper>()
                .unwrap_err()
                .to_string()
                .contains("A4, A3")
        );
    }
}
