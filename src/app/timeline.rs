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

/// Incidents per day and type, for stacked bars: `types` (name, colour) bottom first, and
/// `counts[day * types.len() + t]` from the first day on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stacks {
    /// The stacked types, most frequent first (the rest as "Other types").
    pub types: Vec<(String, Color32)>,
    /// Counts per day and type.
    pub counts: Vec<u32>,
}

/// Most types drawn with their own colour; the rest stack as one.
const MAX_STACKED: usize = 12;

impl Stacks {
    /// The stacks of `indices` (a selection of `store`) from day `first`, `days` long.
    pub fn of(store: &crate::store::Store, indices: &[u32], first: Day, days: usize) -> Stacks {
        let mut per_type = vec![0u64; store.types.len()];
        for &i in indices {
            per_type[store.type_id[i as usize] as usize] += 1;
        }
        let mut order: Vec<usize> = (0..per_type.len()).filter(|&t| per_type[t] > 0).collect();
        order.sort_by(|a, b| per_type[*b].cmp(&per_type[*a]).then(a.cmp(b)));
        let other = order.len() > MAX_STACKED;
        let shown = if other { MAX_STACKED - 1 } else { order.len() };
        let mut slot = vec![shown; store.types.len()];
        let mut types = Vec::new();
        for (k, &t) in order.iter().take(shown).enumerate() {
            slot[t] = k;
            let name = store.types.name(t as u32);
            types.push((
                name.to_string(),
                crate::view::palette::style(&store.colours, name).0,
            ));
        }
        if other {
            types.push(("Other types".to_string(), crate::view::palette::OTHER));
        }
        let n = types.len().max(1);
        let mut counts = vec![0u32; days * n];
        for &i in indices {
            let i = i as usize;
            let d = store.day[i] - first;
            if d >= 0 && (d as usize) < days {
                counts[d as usize * n + slot[store.type_id[i] as usize].min(n - 1)] += 1;
            }
        }
        Stacks { types, counts }
    }

    /// Counts per type over days `[a, b]` (offsets from the first day).
    fn sum(&self, a: usize, b: usize) -> Vec<u32> {
        let n = self.types.len();
        let mut out = vec![0; n];
        for d in a..=b {
            for (t, o) in out.iter_mut().enumerate() {
                *o += self.counts.get(d * n + t).copied().unwrap_or(0);
            }
        }
        out
    }
}

/// Axis ticks for days `[first, last]` drawn `width` points wide: the finest of hours, days,
/// weeks, months, quarters and years whose labels do not crowd each other, as (position in days,
/// label). Hours label the axis within days (the bars stay a day wide: the date filter and
/// an incident's date are whole local days).
pub fn ticks(first: Day, last: Day, width: f32) -> Vec<(f64, String)> {
    let whole = |t: Vec<(Day, String)>| -> Vec<(f64, String)> {
        t.into_iter().map(|(d, l)| (d as f64, l)).collect()
    };
    whole_ticks(first, last, width).map_or_else(
        || {
            // Days with hours between them: every 1, 2, 3, 6 or 12 hours, as the width allows.
            let px_per_day = width / (last - first + 1).max(1) as f32;
            let step = [1u32, 2, 3, 6, 12]
                .into_iter()
                .find(|&h| px_per_day * h as f32 / 24.0 >= 44.0)
                .unwrap_or(12);
            let mut out = Vec::new();
            for (k, d) in (first..=last).enumerate() {
                out.push((d as f64, day_label(d, k == 0)));
                for h in (step..24).step_by(step as usize) {
                    out.push((d as f64 + h as f64 / 24.0, format!("{h:02}:00")));
                }
            }
            out
        },
        whole,
    )
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// "6 Jun", with the year on the first label and on the first of a month.
fn day_label(d: Day, first_label: bool) -> String {
    let (y, m, dd) = civil_from_days(d);
    if first_label || dd == 1 {
        format!("{dd} {} {y}", MONTHS[m as usize - 1])
    } else {
        format!("{dd} {}", MONTHS[m as usize - 1])
    }
}

/// Ticks on whole days (days, weeks, months, quarters, years), or `None` when days are wide
/// enough to label hours.
fn whole_ticks(first: Day, last: Day, width: f32) -> Option<Vec<(Day, String)>> {
    let days = (last - first + 1).max(1) as f32;
    let px_per_day = width / days;
    let (y0, m0, _) = civil_from_days(first);
    // Each candidate: points a label needs, and the tick days with labels.
    let months = |step: u32| -> Vec<(Day, String)> {
        let mut out = Vec::new();
        let (mut y, mut m) = (y0, m0);
        loop {
            let d = days_from_civil(y, m, 1);
            if d > last {
                break;
            }
            if d >= first && (m as u32 - 1).is_multiple_of(step) {
                let label = if m == 1 || out.is_empty() {
                    format!("{} {y}", MONTHS[m as usize - 1])
                } else {
                    MONTHS[m as usize - 1].to_string()
                };
                out.push((d, label));
            }
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
        out
    };
    let fits = |n: usize, px: f32| n as f32 * px <= width;
    // Hours, when a day has room for two labels; else days.
    if px_per_day >= 2.0 * 44.0 {
        return None;
    }
    if px_per_day >= 48.0 {
        return Some(
            (first..=last)
                .enumerate()
                .map(|(k, d)| (d, day_label(d, k == 0)))
                .collect(),
        );
    }
    // Weeks (Mondays).
    let monday = first + (7 - (first + 3).rem_euclid(7)) % 7;
    let weeks: Vec<Day> = (monday..=last).step_by(7).collect();
    if px_per_day * 7.0 >= 56.0 && fits(weeks.len(), 56.0) {
        return Some(
            weeks
                .iter()
                .enumerate()
                .map(|(k, &d)| (d, day_label(d, k == 0)))
                .collect(),
        );
    }
    for (step, px) in [(1u32, 44.0f32), (3, 44.0), (6, 44.0)] {
        let t = months(step);
        // Months are 28–31 days: check the shortest gap.
        if px_per_day * 28.0 * step as f32 >= px && !t.is_empty() {
            return Some(t);
        }
    }
    // Years, every k years.
    let (y1, _, _) = civil_from_days(last);
    let every = (((y1 - y0 + 1) as f32 * 40.0 / width).ceil() as i32).max(1);
    Some(
        (y0..=y1)
            .filter(|y| (y - y0) % every == 0)
            .map(|y| (days_from_civil(y, 1, 1), y.to_string()))
            .filter(|(d, _)| *d >= first && *d <= last)
            .collect(),
    )
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
        stacks: Option<&Stacks>,
        from: &mut Option<Day>,
        to: &mut Option<Day>,
    ) -> bool {
        let (rect, resp) =
            ui.allocate_exact_size(vec2(ui.available_width(), 72.0), Sense::click_and_drag());
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
        let axis = Axis {
            rect,
            first,
            last: first + counts.len() as Day - 1,
        };
        let bars = bins(counts, first, self.bin);
        let range = (from.unwrap_or(first), to.unwrap_or(axis.last));
        let stacks = stacks.filter(|s| !s.types.is_empty());
        draw_bars(ui, &painter, &axis, &bars, stacks, range);
        let brush = axis.brush(range);
        if from.is_some() || to.is_some() {
            painter.rect_filled(brush, 0.0, Color32::from_rgba_unmultiplied(0, 114, 178, 30));
            painter.rect_stroke(
                brush,
                0.0,
                Stroke::new(1.5, Color32::from_rgb(0, 114, 178)),
                egui::StrokeKind::Inside,
            );
        }
        draw_axis(ui, &painter, &axis);
        if resp.double_clicked() {
            *from = None;
            *to = None;
            self.playing = false;
            return true;
        }
        let changed = self.drag_brush(&resp, &axis, (from, to), range);
        if let Some(p) = resp.hover_pos() {
            let d = axis.day_at(p);
            if let Some(&bar) = bars.iter().find(|b| b.0 <= d && d <= b.1) {
                resp.on_hover_text_at_pointer(bar_tip(bar, first, stacks));
            }
        }
        changed
    }

    /// Starts, follows and ends a drag of the brush (a new range, an edge, or the whole brush).
    fn drag_brush(
        &mut self,
        resp: &egui::Response,
        axis: &Axis,
        (from, to): (&mut Option<Day>, &mut Option<Day>),
        (f, t): (Day, Day),
    ) -> bool {
        let brush = axis.brush((f, t));
        if resp.drag_started()
            && let Some(p) = resp.interact_pointer_pos()
        {
            let d = axis.day_at(p);
            let brushing = from.is_some() || to.is_some();
            self.drag = Some(if brushing && (p.x - brush.left()).abs() <= 6.0 {
                Drag::From
            } else if brushing && (p.x - brush.right()).abs() <= 6.0 {
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
        let mut changed = false;
        if let (Some(drag), Some(p)) = (self.drag, resp.interact_pointer_pos())
            && (resp.dragged() || resp.drag_stopped())
        {
            let d = axis.day_at(p);
            let (nf, nt) = match drag {
                Drag::New(a) => (a.min(d), a.max(d)),
                Drag::From => (d.min(t), t),
                Drag::To => (f, d.max(f)),
                Drag::Move {
                    grab,
                    from: f0,
                    to: t0,
                } => {
                    let shift = (d - grab).clamp(axis.first - f0, axis.last - t0);
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
        changed
    }
}

/// The timeline's days across its rectangle.
struct Axis {
    rect: Rect,
    first: Day,
    last: Day,
}

impl Axis {
    fn days(&self) -> f32 {
        (self.last - self.first + 1) as f32
    }

    /// The x of the start of day `d`.
    fn x_of(&self, d: Day) -> f32 {
        self.rect.left() + (d - self.first) as f32 / self.days() * self.rect.width()
    }

    /// The day under `p`.
    fn day_at(&self, p: Pos2) -> Day {
        (self.first + ((p.x - self.rect.left()) / self.rect.width() * self.days()).floor() as Day)
            .clamp(self.first, self.last)
    }

    /// The brush of the range `[f, t]`.
    fn brush(&self, (f, t): (Day, Day)) -> Rect {
        Rect::from_min_max(
            pos2(self.x_of(f), self.rect.top()),
            pos2(self.x_of(t + 1), self.rect.bottom()),
        )
    }
}

/// The bars, stacked by type in the legend's colours when `stacks` are known; faded outside the
/// range.
fn draw_bars(
    ui: &egui::Ui,
    painter: &egui::Painter,
    axis: &Axis,
    bars: &[(Day, Day, u32)],
    stacks: Option<&Stacks>,
    (f, t): (Day, Day),
) {
    let max = bars.iter().map(|b| b.2).max().unwrap_or(1).max(1) as f32;
    let on = ui.visuals().selection.bg_fill;
    let off = ui.visuals().widgets.inactive.bg_fill;
    let h = axis.rect.height() - 16.0;
    let base = axis.rect.top() + 2.0 + h;
    for &(s, e, c) in bars {
        if c == 0 {
            continue;
        }
        let x0 = axis.x_of(s);
        let x1 = (axis.x_of(e + 1) - 1.0).max(x0 + 1.0);
        let bh = (c as f32 / max * h).max(1.0);
        let inside = e >= f && s <= t;
        let Some(st) = stacks else {
            painter.rect_filled(
                Rect::from_min_max(pos2(x0, base - bh), pos2(x1, base)),
                0.0,
                if inside { on } else { off },
            );
            continue;
        };
        let parts = st.sum((s - axis.first) as usize, (e - axis.first) as usize);
        let total: u32 = parts.iter().sum();
        let mut y = base;
        for (k, &n) in parts.iter().enumerate() {
            if n == 0 || total == 0 {
                continue;
            }
            let ph = bh * n as f32 / total as f32;
            let color = st.types[k].1;
            let color = if inside {
                color
            } else {
                color.gamma_multiply(0.35)
            };
            painter.rect_filled(
                Rect::from_min_max(pos2(x0, y - ph), pos2(x1, y)),
                0.0,
                color,
            );
            y -= ph;
        }
    }
}

/// The axis: days, weeks, months, quarters or years, as the width allows; its labels are real
/// labels (readable by screen readers and tests), placed on the axis.
fn draw_axis(ui: &mut egui::Ui, painter: &egui::Painter, axis: &Axis) {
    let rect = axis.rect;
    let mut right_of_last = f32::MIN;
    for (d, label) in ticks(axis.first, axis.last, rect.width()) {
        let x = rect.left() + ((d - axis.first as f64) / axis.days() as f64) as f32 * rect.width();
        painter.line_segment(
            [pos2(x, rect.bottom() - 14.0), pos2(x, rect.bottom())],
            Stroke::new(1.0, ui.visuals().weak_text_color()),
        );
        if x + 2.0 > right_of_last + 4.0 {
            let text = egui::RichText::new(label).size(10.0);
            let galley = painter.layout_no_wrap(
                text.text().to_string(),
                egui::FontId::proportional(10.0),
                Color32::WHITE,
            );
            let at = Rect::from_min_size(
                pos2(x + 2.0, rect.bottom() - 1.0 - galley.size().y),
                galley.size() + vec2(2.0, 0.0),
            );
            if at.right() <= rect.right() + 1.0 {
                ui.put(at, egui::Label::new(text).selectable(false));
                right_of_last = at.right();
            }
        }
    }
}

/// A bar's tooltip: its period and count, and its counts per type.
fn bar_tip((s, e, c): (Day, Day, u32), first: Day, stacks: Option<&Stacks>) -> String {
    let mut label = if s == e {
        format!("{}: {c}", format_day(s))
    } else {
        format!("{} – {}: {c}", format_day(s), format_day(e))
    };
    if let Some(st) = stacks {
        let parts = st.sum((s - first) as usize, (e - first) as usize);
        for (k, n) in parts.iter().enumerate().rev() {
            if *n > 0 {
                label.push_str(&format!("\n{}: {n}", st.types[k].0));
            }
        }
    }
    label
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_is_labelled_at_every_span() {
        let d = |y, m, dd| days_from_civil(y, m, dd);
        // Ten days across 800 points: every day.
        let t = ticks(d(2021, 6, 1), d(2021, 6, 10), 800.0);
        assert_eq!(t.len(), 10);
        assert_eq!(t[1].0, d(2021, 6, 2) as f64);
        assert_eq!(t[0].1, "1 Jun 2021");
        assert_eq!(t[1].1, "2 Jun");
        // Three months: Mondays.
        let t = ticks(d(2021, 5, 1), d(2021, 7, 31), 800.0);
        assert!(
            t.iter()
                .all(|(day, _)| (*day as Day + 3).rem_euclid(7) == 0),
            "{t:?}"
        );
        assert!(t.len() >= 12);
        // Two days across 1200 points: hours between the days, every 2 hours.
        let t = ticks(d(2021, 6, 5), d(2021, 6, 6), 1200.0);
        let labels: Vec<&str> = t.iter().map(|x| x.1.as_str()).collect();
        assert_eq!(&labels[..3], ["5 Jun 2021", "02:00", "04:00"], "{labels:?}");
        assert_eq!(t[2].0, d(2021, 6, 5) as f64 + 4.0 / 24.0);
        assert!(labels.contains(&"6 Jun") && labels.contains(&"22:00"));
        // One day across 1200 points: every hour.
        let t = ticks(d(2021, 6, 6), d(2021, 6, 6), 1200.0);
        assert_eq!(t.len(), 24);
        assert_eq!(t[1].1, "01:00");
        // The bundled data's year: months, the first with its year.
        let t = ticks(d(2021, 1, 4), d(2021, 12, 19), 1200.0);
        assert_eq!(t[0].1, "Feb 2021");
        assert_eq!(t.len(), 11);
        // Narrower: quarters or half-years; ten years: years.
        let t = ticks(d(2021, 1, 4), d(2021, 12, 19), 300.0);
        assert!(t.len() <= 4 && !t.is_empty(), "{t:?}");
        let t = ticks(d(2016, 1, 1), d(2025, 12, 31), 1200.0);
        assert_eq!(t.first().unwrap().1, "Jan 2016");
        let t = ticks(d(2016, 1, 1), d(2025, 12, 31), 300.0);
        assert!(t.iter().all(|(_, l)| l.len() == 4), "{t:?}");
        // Labels never crowd: at least 40 points apart on average.
        for w in [200.0f32, 500.0, 1200.0, 2400.0] {
            for (a, b) in [
                (d(2021, 6, 6), d(2021, 6, 6)),
                (d(2021, 6, 1), d(2021, 6, 3)),
                (d(2020, 1, 1), d(2021, 12, 31)),
            ] {
                let t = ticks(a, b, w);
                assert!(!t.is_empty());
                assert!(t.len() as f32 * 40.0 <= w + 48.0, "{w} {t:?}");
            }
        }
    }

    #[test]
    fn stacks_split_each_day_by_type() {
        let s = crate::store::Store::from_csv(
            "lat,lon,date,type\n1,1,2021-06-01,IED\n1,1,2021-06-01,Drone attack\n1,1,2021-06-02,IED\n",
        );
        let sel = s.select(&Default::default()).unwrap();
        let first = days_from_civil(2021, 6, 1);
        let st = Stacks::of(&s, &sel.indices, first, 2);
        assert_eq!(st.types[0].0, "IED");
        assert_eq!(st.sum(0, 0), vec![1, 1]);
        assert_eq!(st.sum(0, 1), vec![2, 1]);
    }

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
