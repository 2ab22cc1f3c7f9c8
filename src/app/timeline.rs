//! The timeline under the map: a histogram of incidents over the whole data range whose brush
//! sets the date filter live, with playback (sliding window or cumulative).

use egui::{Color32, Pos2, Rect, Sense, Stroke, pos2, vec2};
use serde::{Deserialize, Serialize};

use crate::date::{Day, civil_from_days, days_from_civil, format_day};

/// Histogram bin width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Bin {
    /// Chosen from the data range.
    Auto,
    /// One bar per day.
    Day,
    /// One bar per ISO week.
    Week,
    /// One bar per month.
    Month,
}

/// Playback and brush state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Timeline {
    /// Bar width.
    pub bin: Bin,
    /// Whether playback runs.
    #[serde(skip)]
    pub playing: bool,
    /// Cumulative playback (from the start) instead of a sliding window.
    pub cumulative: bool,
    /// Playback speed in days per second.
    pub days_per_second: f64,
    #[serde(skip)]
    drag: Option<Drag>,
    #[serde(skip)]
    carry: f64,
}

/// Equal when the settings that are saved are equal (the brush and playback are not saved).
impl PartialEq for Timeline {
    fn eq(&self, o: &Self) -> bool {
        self.bin == o.bin
            && self.cumulative == o.cumulative
            && self.days_per_second == o.days_per_second
    }
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            bin: Bin::Auto,
            playing: false,
            cumulative: false,
            days_per_second: 30.0,
            drag: None,
            carry: 0.0,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Drag {
    New(Day),
    Move { grab: Day, from: Day, to: Day },
    From,
    To,
}

/// Bins `[start, end]` with their counts.
pub fn bins(counts: &[u32], first: Day, bin: Bin) -> Vec<(Day, Day, u32)> {
    if counts.is_empty() {
        return Vec::new();
    }
    let last = first + counts.len() as Day - 1;
    let span = last - first + 1;
    let bin = match bin {
        Bin::Auto if span <= 150 => Bin::Day,
        Bin::Auto if span <= 365 * 3 => Bin::Week,
        Bin::Auto => Bin::Month,
        b => b,
    };
    let start_of = |d: Day| -> Day {
        match bin {
            Bin::Week => d - (d + 3).rem_euclid(7), // Monday (1970-01-01 was a Thursday)
            Bin::Month => {
                let (y, m, _) = civil_from_days(d);
                days_from_civil(y, m, 1)
            }
            _ => d,
        }
    };
    let mut out: Vec<(Day, Day, u32)> = Vec::new();
    for (k, &c) in counts.iter().enumerate() {
        let d = first + k as Day;
        let s = start_of(d);
        match out.last_mut() {
            Some(b) if b.0 == s => {
                b.1 = d;
                b.2 += c;
            }
            _ => out.push((s, d, c)),
        }
    }
    // Bins span whole periods even at the edges of the data.
    for b in &mut out {
        b.0 = b.0.max(first);
    }
    out
}

impl Timeline {
    /// Advances playback by `dt` seconds within `[first, last]`; returns whether the range moved.
    pub fn step(
        &mut self,
        dt: f64,
        first: Day,
        last: Day,
        from: &mut Option<Day>,
        to: &mut Option<Day>,
    ) -> bool {
        if !self.playing {
            return false;
        }
        self.carry += dt * self.days_per_second;
        let step = self.carry.floor() as Day;
        if step == 0 {
            return false;
        }
        self.carry -= step as f64;
        let (f, t) = (from.unwrap_or(first), to.unwrap_or(last));
        if t >= last {
            self.playing = false;
            return false;
        }
        let nt = (t + step).min(last);
        if self.cumulative {
            *from = Some(first);
        } else {
            *from = Some(f + (nt - t));
        }
        *to = Some(nt);
        true
    }

    /// Starts playback; a range already at the end restarts from the beginning.
    pub fn play(&mut self, first: Day, last: Day, from: &mut Option<Day>, to: &mut Option<Day>) {
        let (f, t) = (from.unwrap_or(first), to.unwrap_or(last));
        if t >= last {
            let len = if self.cumulative || (f == first && t == last) {
                ((last - first) / 20).max(1)
            } else {
                t - f
            };
            *from = Some(first);
            *to = Some(first + len);
        }
        self.playing = true;
        self.carry = 0.0;
    }

    /// Draws the histogram and brush. `counts` are per day from `first` over the whole data
    /// range (under the other filters). Returns whether the date range changed.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        counts: &[u32],
        first: Day,
        from: &mut Option<Day>,
        to: &mut Option<Day>,
    ) -> bool {
        let (rect, resp) =
            ui.allocate_exact_size(vec2(ui.available_width(), 64.0), Sense::click_and_drag());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
        if counts.is_empty() {
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                "no dated incidents",
                egui::FontId::proportional(12.0),
                ui.visuals().weak_text_color(),
            );
            return false;
        }
        let last = first + counts.len() as Day - 1;
        let days = (last - first + 1) as f32;
        let x_of = |d: Day| rect.left() + (d - first) as f32 / days * rect.width();
        let day_at = |p: Pos2| -> Day {
            (first + ((p.x - rect.left()) / rect.width() * days).floor() as Day).clamp(first, last)
        };
        let bars = bins(counts, first, self.bin);
        let max = bars.iter().map(|b| b.2).max().unwrap_or(1).max(1) as f32;
        let (f, t) = (from.unwrap_or(first), to.unwrap_or(last));
        let on = ui.visuals().selection.bg_fill;
        let off = ui.visuals().widgets.inactive.bg_fill;
        let h = rect.height() - 14.0;
        for &(s, e, c) in &bars {
            if c == 0 {
                continue;
            }
            let x0 = x_of(s);
            let x1 = (x_of(e + 1) - 1.0).max(x0 + 1.0);
            let bh = (c as f32 / max * h).max(1.0);
            let inside = e >= f && s <= t;
            painter.rect_filled(
                Rect::from_min_max(
                    pos2(x0, rect.top() + 2.0 + h - bh),
                    pos2(x1, rect.top() + 2.0 + h),
                ),
                0.0,
                if inside { on } else { off },
            );
        }
        // Brush.
        let (bx0, bx1) = (x_of(f), x_of(t + 1));
        let brush = Rect::from_min_max(pos2(bx0, rect.top()), pos2(bx1, rect.bottom()));
        if from.is_some() || to.is_some() {
            painter.rect_filled(brush, 0.0, Color32::from_rgba_unmultiplied(0, 114, 178, 30));
            painter.rect_stroke(
                brush,
                0.0,
                Stroke::new(1.5, Color32::from_rgb(0, 114, 178)),
                egui::StrokeKind::Inside,
            );
        }
        // Year ticks.
        let (y0, _, _) = civil_from_days(first);
        let (y1, _, _) = civil_from_days(last);
        let every = (((y1 - y0 + 1) as f32 / (rect.width() / 60.0)).ceil() as i32).max(1);
        for y in (y0..=y1 + 1).filter(|y| (y - y0) % every == 0) {
            let d = days_from_civil(y, 1, 1);
            if d >= first && d <= last {
                let x = x_of(d);
                painter.line_segment(
                    [pos2(x, rect.bottom() - 12.0), pos2(x, rect.bottom())],
                    Stroke::new(1.0, ui.visuals().weak_text_color()),
                );
                painter.text(
                    pos2(x + 2.0, rect.bottom() - 1.0),
                    egui::Align2::LEFT_BOTTOM,
                    y.to_string(),
                    egui::FontId::proportional(10.0),
                    ui.visuals().weak_text_color(),
                );
            }
        }
        let mut changed = false;
        if resp.double_clicked() {
            *from = None;
            *to = None;
            self.playing = false;
            return true;
        }
        if resp.drag_started()
            && let Some(p) = resp.interact_pointer_pos()
        {
            let d = day_at(p);
            let brushing = from.is_some() || to.is_some();
            self.drag = Some(if brushing && (p.x - bx0).abs() <= 6.0 {
                Drag::From
            } else if brushing && (p.x - bx1).abs() <= 6.0 {
                Drag::To
            } else if brushing && brush.contains(p) {
                Drag::Move {
                    grab: d,
                    from: f,
                    to: t,
                }
            } else {
                Drag::New(d)
            });
            self.playing = false;
        }
        if let (Some(drag), Some(p)) = (self.drag, resp.interact_pointer_pos())
            && (resp.dragged() || resp.drag_stopped())
        {
            let d = day_at(p);
            let (nf, nt) = match drag {
                Drag::New(a) => (a.min(d), a.max(d)),
                Drag::From => (d.min(t), t),
                Drag::To => (f, d.max(f)),
                Drag::Move {
                    grab,
                    from: f0,
                    to: t0,
                } => {
                    let shift = (d - grab).clamp(first - f0, last - t0);
                    (f0 + shift, t0 + shift)
                }
            };
            if (Some(nf), Some(nt)) != (*from, *to) {
                *from = Some(nf);
                *to = Some(nt);
                changed = true;
            }
        }
        if resp.drag_stopped() {
            self.drag = None;
        }
        if let Some(p) = resp.hover_pos() {
            let d = day_at(p);
            let bar = bars.iter().find(|b| b.0 <= d && d <= b.1);
            if let Some(&(s, e, c)) = bar {
                let label = if s == e {
                    format!("{}: {c}", format_day(s))
                } else {
                    format!("{} – {}: {c}", format_day(s), format_day(e))
                };
                resp.on_hover_text_at_pointer(label);
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_by_week_and_month() {
        let first = days_from_civil(2021, 6, 1); // a Tuesday
        let counts = vec![1u32; 30];
        let w = bins(&counts, first, Bin::Week);
        assert_eq!(w[0], (first, days_from_civil(2021, 6, 6), 6));
        assert_eq!(w.iter().map(|b| b.2).sum::<u32>(), 30);
        let m = bins(&counts, first, Bin::Month);
        assert_eq!(m, vec![(first, days_from_civil(2021, 6, 30), 30)]);
    }

    #[test]
    fn playback_slides_and_accumulates() {
        let (first, last) = (0, 100);
        let mut t = Timeline {
            days_per_second: 10.0,
            ..Default::default()
        };
        let (mut from, mut to) = (Some(0), Some(9));
        t.play(first, last, &mut from, &mut to);
        assert!(t.step(1.0, first, last, &mut from, &mut to));
        assert_eq!((from, to), (Some(10), Some(19)));
        t.cumulative = true;
        assert!(t.step(0.5, first, last, &mut from, &mut to));
        assert_eq!((from, to), (Some(0), Some(24)));
        for _ in 0..20 {
            t.step(1.0, first, last, &mut from, &mut to);
        }
        assert_eq!(to, Some(100));
        assert!(!t.playing, "stops at the end");
    }
}
