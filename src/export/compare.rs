//! Small multiples: one PNG with a panel per period, side by side. The panels share the
//! viewport (fitted to every period's incidents together unless given) and the symbols, and each
//! has its own caption (its dates and count). Each panel is drawn by the ordinary export path.

use image::RgbaImage;

use super::{ExportError, Exporter, Spec, Viewport};
use crate::cluster::ClusterIndex;
use crate::date::{Day, format_day, parse_ymd};
use crate::progress::Control;
use crate::query::Filter;
use crate::store::Store;

/// One period `FROM..TO` (both inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First day.
    pub from: Day,
    /// Last day.
    pub to: Day,
}

/// Why a period could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// No `..`.
    #[error("'{0}' is not FROM..TO (YYYY-MM-DD..YYYY-MM-DD)")]
    Form(String),
    /// A bad date.
    #[error(transparent)]
    Date(#[from] crate::date::DateError),
    /// The end before the start.
    #[error("'{0}': the period ends before it starts")]
    Reversed(String),
}

impl Period {
    /// `YYYY-MM-DD..YYYY-MM-DD`.
    pub fn parse(s: &str) -> Result<Period, PeriodError> {
        let (a, b) = s
            .split_once("..")
            .ok_or_else(|| PeriodError::Form(s.to_string()))?;
        let from = parse_ymd(a.trim())?;
        let to = parse_ymd(b.trim())?;
        if from > to {
            return Err(PeriodError::Reversed(s.to_string()));
        }
        Ok(Period { from, to })
    }
}

/// Pixels between panels.
const GAP: u32 = 4;

/// The panels of `spec` for `periods`: each an equal share of `spec.width` (less the gaps) and
/// `spec.height` high, with one viewport for all, and the title over the first.
pub fn panels(store: &Store, spec: &Spec, periods: &[Period]) -> Result<Vec<Spec>, ExportError> {
    let n = periods.len().max(1) as u32;
    let panel_w = (spec.width.saturating_sub(GAP * (n - 1)) / n).max(100);
    // The shared view: every period's incidents together, fitted to one panel.
    let viewport = match spec.viewport {
        Viewport::Fit => {
            let all = Filter {
                from: periods.iter().map(|p| p.from).min(),
                to: periods.iter().map(|p| p.to).max(),
                ..spec.filter.clone()
            };
            let sel = store.select(&all)?;
            let panel = Spec {
                width: panel_w,
                ..spec.clone()
            };
            let (lon, lat, zoom) = panel.resolve(store, &sel)?;
            Viewport::Center { lat, lon, zoom }
        }
        v => v,
    };
    Ok(periods
        .iter()
        .enumerate()
        .map(|(k, p)| Spec {
            filter: Filter {
                from: Some(p.from),
                to: Some(p.to),
                ..spec.filter.clone()
            },
            viewport,
            width: panel_w,
            // The title once, over the first panel.
            title: if k == 0 { spec.title.clone() } else { None },
            ..spec.clone()
        })
        .collect())
}

/// Renders the panels of `spec` for `periods` into one image `spec.width` wide and
/// `spec.height` high ([`panels`]). Returns the image and the incidents in each panel.
pub fn render_compare(
    x: &mut Exporter,
    store: &Store,
    index: &ClusterIndex,
    spec: &Spec,
    periods: &[Period],
    ctl: &Control,
) -> Result<(RgbaImage, Vec<usize>), ExportError> {
    let panels = panels(store, spec, periods)?;
    let (n, s) = (panels.len() as u32, spec.scale);
    let panel_w = panels.first().map_or(100, |p| p.width);
    let mut out = RgbaImage::from_pixel(
        (panel_w * n + GAP * (n.max(1) - 1)) * s,
        spec.height * s,
        image::Rgba([255, 255, 255, 255]),
    );
    let mut counts = Vec::new();
    for (k, panel) in panels.iter().enumerate() {
        let r = x.render(store, index, panel, ctl)?;
        image::imageops::overlay(
            &mut out,
            &r.image,
            ((panel_w + GAP) * k as u32 * s) as i64,
            0,
        );
        counts.push(r.count);
        ctl.advance(1);
    }
    Ok((out, counts))
}

/// Writes the panels as vectors: a PDF of one page per panel, or one SVG with the panels side
/// by side (a group each, named by its period). Returns the incidents in each panel.
pub fn write_compare_vector(
    x: &mut Exporter,
    store: &Store,
    index: &ClusterIndex,
    spec: &Spec,
    periods: &[Period],
    (out, ctl): (&std::path::Path, &Control),
) -> Result<Vec<usize>, ExportError> {
    let mut pages = super::vector::PdfPages::new();
    let mut drawings = Vec::new();
    let mut counts = Vec::new();
    for panel in panels(store, spec, periods)? {
        let d = x.render_layers(store, index, &panel, ctl)?;
        counts.push(d.count);
        if super::vector::is_pdf(out) {
            pages.add(&d).map_err(|e| ExportError::write(out, e))?;
        } else {
            drawings.push(d);
        }
        ctl.advance(1);
    }
    let bytes = if super::vector::is_pdf(out) {
        pages.finish()
    } else {
        let names: Vec<String> = periods
            .iter()
            .map(|p| format!("{}..{}", format_day(p.from), format_day(p.to)))
            .collect();
        super::vector::svg_panels(&drawings, &names, GAP as f32).into_bytes()
    };
    crate::atomic::write_atomic(out, |w| w.write_all(&bytes))
        .map_err(|e: std::io::Error| ExportError::write(out, e))?;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse() {
        let p = Period::parse("2021-06-01..2021-06-30").unwrap();
        assert_eq!(p.to - p.from, 29);
        assert!(Period::parse("2021-06-30..2021-06-01").is_err());
        assert!(Period::parse("2021-06-01").is_err());
        assert!(Period::parse("2021-02-30..2021-03-01").is_err());
    }
}
