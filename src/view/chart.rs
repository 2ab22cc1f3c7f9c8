//! The stacked bar chart of incidents per period and type ([`crate::chart::Chart`]), drawn the
//! same way in the window's Chart window and in `incident-map chart --out chart.png`: title,
//! y axis with round numbers, x axis with period labels that never crowd, bars stacked in the
//! legend's colours, and the legend.

use egui::{Align2, Color32, FontId, Rect, Stroke, pos2, vec2};

use crate::chart::Chart;
use crate::date::Every;
use crate::date::{civil_from_days, format_day};

const INK: Color32 = Color32::from_rgb(0x22, 0x22, 0x22);
const GRID: Color32 = Color32::from_rgb(0xDD, 0xDD, 0xDD);

/// A round step for about `n` ticks up to `max`.
fn nice_step(max: u64, n: u64) -> u64 {
    let raw = (max as f64 / n.max(1) as f64).max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    step.max(1.0) as u64
}

fn period_label(d: crate::date::Day, every: Every) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    match every {
        Every::Month => {
            let (y, m, _) = civil_from_days(d);
            format!("{} {y}", MONTHS[m as usize - 1])
        }
        _ => format_day(d),
    }
}

/// The legend on the right (bottom type first, as in the bars), from `top`; its width.
fn legend(painter: &egui::Painter, rect: Rect, chart: &Chart, top: f32) -> f32 {
    let font = FontId::proportional(12.0);
    let legend_w = chart
        .types
        .iter()
        .map(|t| {
            painter
                .layout_no_wrap(t.clone(), font.clone(), INK)
                .size()
                .x
        })
        .fold(60.0f32, f32::max)
        + 34.0;
    let legend_w = legend_w.min(rect.width() * 0.4);
    let mut ly = top;
    for (t, &c) in chart.types.iter().zip(&chart.colours) {
        let color = super::palette::color(c);
        let x = rect.right() - legend_w;
        painter.rect_filled(
            Rect::from_min_size(pos2(x, ly + 2.0), vec2(12.0, 12.0)),
            2.0,
            color,
        );
        painter.text(pos2(x + 18.0, ly), Align2::LEFT_TOP, t, font.clone(), INK);
        ly += 18.0;
    }
    legend_w
}

/// Period labels under the plot, every k-th so they never crowd (`w`: a bar's width).
fn period_labels(painter: &egui::Painter, plot: Rect, chart: &Chart, w: f32) {
    let small = FontId::proportional(11.0);
    let sample = period_label(chart.periods[0].0, chart.every);
    let label_w = painter.layout_no_wrap(sample, small.clone(), INK).size().x + 12.0;
    let every = ((label_w / w).ceil() as usize).max(1);
    for (p, &(s, _)) in chart.periods.iter().enumerate().step_by(every) {
        let x = plot.left() + p as f32 * w;
        painter.line_segment(
            [pos2(x, plot.bottom()), pos2(x, plot.bottom() + 4.0)],
            Stroke::new(1.0, INK),
        );
        if x + label_w <= plot.right() + label_w / 2.0 {
            painter.text(
                pos2(x, plot.bottom() + 6.0),
                Align2::LEFT_TOP,
                period_label(s, chart.every),
                small.clone(),
                INK,
            );
        }
    }
}

/// Draws `chart` into `rect` on a white background.
pub fn draw(painter: &egui::Painter, rect: Rect, chart: &Chart, title: &str) {
    painter.rect_filled(rect, 0.0, Color32::WHITE);
    let small = FontId::proportional(11.0);
    // Title.
    let title_rect = painter.text(
        rect.min + vec2(16.0, 12.0),
        Align2::LEFT_TOP,
        title,
        FontId::proportional(18.0),
        INK,
    );
    let legend_w = legend(painter, rect, chart, title_rect.bottom() + 18.0);
    // Plot area.
    let plot = Rect::from_min_max(
        pos2(rect.left() + 56.0, title_rect.bottom() + 18.0),
        pos2(rect.right() - legend_w - 20.0, rect.bottom() - 34.0),
    );
    if plot.width() < 20.0 || plot.height() < 20.0 {
        return;
    }
    let max = chart.max_total().max(1);
    let step = nice_step(max, 5);
    let top = max.div_ceil(step) * step;
    let y_of = |v: u64| plot.bottom() - v as f32 / top as f32 * plot.height();
    let mut v = 0;
    while v <= top {
        let y = y_of(v);
        painter.line_segment(
            [pos2(plot.left(), y), pos2(plot.right(), y)],
            Stroke::new(1.0, GRID),
        );
        painter.text(
            pos2(plot.left() - 6.0, y),
            Align2::RIGHT_CENTER,
            v.to_string(),
            small.clone(),
            INK,
        );
        v += step;
    }
    let n = chart.periods.len().max(1);
    let w = plot.width() / n as f32;
    for (p, row) in chart.counts.iter().enumerate() {
        let x0 = plot.left() + p as f32 * w;
        let x1 = x0 + (w - if w > 4.0 { 1.0 } else { 0.0 }).max(0.5);
        let mut acc = 0u64;
        for (t, &c) in row.iter().enumerate() {
            if c == 0 {
                continue;
            }
            let color = super::palette::color(chart.colours[t]);
            painter.rect_filled(
                Rect::from_min_max(pos2(x0, y_of(acc + c)), pos2(x1, y_of(acc))),
                0.0,
                color,
            );
            acc += c;
        }
    }
    painter.line_segment(
        [plot.left_bottom(), plot.right_bottom()],
        Stroke::new(1.0, INK),
    );
    period_labels(painter, plot, chart, w);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_steps() {
        assert_eq!(nice_step(7, 5), 2);
        assert_eq!(nice_step(48, 5), 10);
        assert_eq!(nice_step(1200, 5), 500);
        assert_eq!(nice_step(1, 5), 1);
    }
}
