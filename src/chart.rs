//! Incidents per period and type: the numbers behind `incident-map chart` (CSV or a stacked bar
//! chart PNG) and the window's Chart window. Every period across the range is listed, empty ones
//! included; an incident counts in the period of the first day of its span.

use std::io::Write;

use crate::date::Every;
use crate::date::{Day, civil_from_days, days_from_civil, format_day};
use crate::query::Selection;
use crate::store::Store;

/// The counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Bar width.
    pub every: Every,
    /// Periods `[start, end]`, whole days, whole weeks (Monday–Sunday) or whole months.
    pub periods: Vec<(Day, Day)>,
    /// Types, most frequent first.
    pub types: Vec<String>,
    /// Their colours (the data's: [`Store::colours`]).
    pub colours: Vec<crate::style::Rgb>,
    /// `counts[p][t]`: incidents of type `t` in period `p`.
    pub counts: Vec<Vec<u64>>,
}

/// The first day of the period holding `d`.
fn period_start(d: Day, every: Every) -> Day {
    match every {
        Every::Day => d,
        Every::Week => d - (d + 3).rem_euclid(7),
        Every::Month => {
            let (y, m, _) = civil_from_days(d);
            days_from_civil(y, m, 1)
        }
    }
}

/// The first day of the period after the one starting at `s`.
fn next_start(s: Day, every: Every) -> Day {
    match every {
        Every::Day => s + 1,
        Every::Week => s + 7,
        Every::Month => {
            let (y, m, _) = civil_from_days(s);
            if m == 12 {
                days_from_civil(y + 1, 1, 1)
            } else {
                days_from_civil(y, m + 1, 1)
            }
        }
    }
}

/// At most this many periods (40 years of days).
pub const MAX_PERIODS: usize = 15_000;

impl Chart {
    /// The chart of `sel` over `[from, to]` (default: the selection's first and last start
    /// days). `None` when there is nothing dated to chart or the range has too many periods.
    pub fn of(
        store: &Store,
        sel: &Selection,
        every: Every,
        from: Option<Day>,
        to: Option<Day>,
    ) -> Option<Chart> {
        let days = sel.indices.iter().map(|&i| store.day[i as usize]);
        let first = from.or_else(|| days.clone().min())?;
        let last = to.or_else(|| days.max())?.max(first);
        let mut periods = Vec::new();
        let mut s = period_start(first, every);
        while s <= last {
            let n = next_start(s, every);
            periods.push((s, n - 1));
            if periods.len() > MAX_PERIODS {
                return None;
            }
            s = n;
        }
        let mut per_type = vec![0u64; store.types.len()];
        for &i in &sel.indices {
            per_type[store.type_id[i as usize] as usize] += 1;
        }
        let mut order: Vec<usize> = (0..per_type.len()).filter(|&t| per_type[t] > 0).collect();
        order.sort_by(|a, b| {
            per_type[*b]
                .cmp(&per_type[*a])
                .then_with(|| store.types.name(*a as u32).cmp(store.types.name(*b as u32)))
        });
        let mut column = vec![usize::MAX; store.types.len()];
        for (k, &t) in order.iter().enumerate() {
            column[t] = k;
        }
        let mut counts = vec![vec![0u64; order.len()]; periods.len()];
        for &i in &sel.indices {
            let i = i as usize;
            let d = store.day[i];
            // Periods are sorted and contiguous: find by search.
            let p = periods.partition_point(|&(_, e)| e < d);
            if let Some(row) = counts.get_mut(p)
                && periods[p].0 <= d
            {
                row[column[store.type_id[i] as usize]] += 1;
            }
        }
        Some(Chart {
            every,
            periods,
            types: order
                .iter()
                .map(|&t| store.types.name(t as u32).to_string())
                .collect(),
            colours: order
                .iter()
                .map(|&t| store.colours.style(store.types.name(t as u32)).0)
                .collect(),
            counts,
        })
    }

    /// Writes the CSV: `period_start,period_end,<one column per type>,total`.
    pub fn write_csv(&self, w: &mut dyn Write) -> std::io::Result<()> {
        let mut out = csv::Writer::from_writer(w);
        let mut header = vec!["period_start".to_string(), "period_end".to_string()];
        header.extend(self.types.iter().cloned());
        header.push("total".into());
        out.write_record(&header)?;
        for (p, row) in self.periods.iter().zip(&self.counts) {
            let mut rec = vec![format_day(p.0), format_day(p.1)];
            rec.extend(row.iter().map(|n| n.to_string()));
            rec.push(row.iter().sum::<u64>().to_string());
            out.write_record(&rec)?;
        }
        out.flush()
    }

    /// The tallest period's total.
    pub fn max_total(&self) -> u64 {
        self.counts
            .iter()
            .map(|r| r.iter().sum::<u64>())
            .max()
            .unwrap_or(0)
    }

    /// Incidents charted.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_period_with_every_type() {
        let s = Store::from_csv(
            "lat,lon,date,date_precision,type\n1,1,2021-06-01,day,IED\n1,1,2021-06-02,day,Drone attack\n\
             1,1,2021-06-16,day,IED\n1,1,2021-07,month,IED\n",
        );
        let sel = s.select(&Default::default()).unwrap();
        let c = Chart::of(&s, &sel, Every::Week, None, None).unwrap();
        // 2021-06-01 is a Tuesday: weeks from Monday 31 May to the week of 1 July.
        assert_eq!(c.periods[0].0, days_from_civil(2021, 5, 31));
        assert_eq!(c.periods.len(), 5);
        assert_eq!(c.types, vec!["IED".to_string(), "Drone attack".to_string()]);
        assert_eq!(c.counts[0], vec![1, 1]);
        assert_eq!(c.counts[1], vec![0, 0], "an empty week is listed");
        assert_eq!(c.total(), 4);
        let mut v = Vec::new();
        c.write_csv(&mut v).unwrap();
        let text = String::from_utf8(v).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "period_start,period_end,IED,Drone attack,total");
        assert_eq!(lines[1], "2021-05-31,2021-06-06,1,1,2");
        assert_eq!(lines[2], "2021-06-07,2021-06-13,0,0,0");
        let m = Chart::of(&s, &sel, Every::Month, None, None).unwrap();
        assert_eq!(m.periods.len(), 2);
        assert_eq!(m.counts, vec![vec![2, 1], vec![1, 0]]);
    }
}
