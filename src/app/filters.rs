//! The window's filter state: the [`Filter`] itself, the type toggles, the text the user is
//! typing into the date and search fields, and what a change invalidates. Panels, the legend,
//! the timeline, the export dialog and saved views all change filters through these methods.

use std::collections::BTreeSet;

use crate::date::{DateError, Day, format_day, parse_ymd};
use crate::query::Filter;
use crate::store::Store;

/// What the last change invalidated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stale {
    /// Nothing to recompute.
    #[default]
    Nothing,
    /// Only the dates changed: the timeline's bars (all dates) stay valid.
    Dates,
    /// Everything.
    All,
}

/// Filters as the window holds them.
#[derive(Debug, Clone, Default)]
pub struct FilterState {
    /// Dates, text and area; the types are in `hidden` (the legend's toggles).
    filter: Filter,
    /// Type names switched off.
    hidden: BTreeSet<String>,
    /// Types to show once data is loaded (a saved view or the command line names them).
    pending_types: Option<Vec<String>>,
    /// The "From" field as typed.
    pub from_text: String,
    /// The "To" field as typed.
    pub to_text: String,
    /// The search field as typed.
    pub text_query: String,
    /// Other filters' text fields as typed, by filter name (filled from the filter when first
    /// shown, emptied when a whole filter is taken).
    typed: std::collections::BTreeMap<&'static str, String>,
    stale: Stale,
}

impl FilterState {
    /// Filters from a saved session: `filter` (its types, if any, applied once data loads) and
    /// the types switched off.
    pub fn new(filter: Filter, hidden: BTreeSet<String>) -> FilterState {
        let mut s = FilterState {
            hidden,
            stale: Stale::All,
            ..Default::default()
        };
        s.apply(filter);
        s
    }

    /// Takes a whole filter (a saved view, the command line): dates, text and area now, types
    /// once the data's types are known ([`FilterState::data_loaded`]).
    pub fn apply(&mut self, f: Filter) {
        if !f.types.is_empty() {
            self.pending_types = Some(f.types.clone());
        }
        self.from_text = f.from.map(format_day).unwrap_or_default();
        self.to_text = f.to.map(format_day).unwrap_or_default();
        self.text_query = f.text.clone().unwrap_or_default();
        self.typed.clear();
        self.filter = Filter {
            types: Vec::new(),
            ..f
        };
        self.stale = Stale::All;
    }

    /// New data: named types become the toggles.
    pub fn data_loaded(&mut self, store: &Store) {
        // A table's first store knows no types yet: the named ones wait for those that do.
        if !store.types.is_empty()
            && let Some(types) = self.pending_types.take()
        {
            self.set_shown_types(store, &types);
        }
        self.stale = Stale::All;
    }

    /// Shows exactly the types named (case-insensitive); none named shows all.
    pub fn set_shown_types(&mut self, store: &Store, types: &[String]) {
        self.hidden = if types.is_empty() {
            BTreeSet::new()
        } else {
            store
                .types
                .names()
                .filter(|n| !types.iter().any(|t| t.trim().eq_ignore_ascii_case(n)))
                .map(String::from)
                .collect()
        };
        self.stale = Stale::All;
    }

    /// The filter without types (dates, text, area).
    pub fn base(&self) -> &Filter {
        &self.filter
    }

    /// The type names switched off.
    pub fn hidden(&self) -> &BTreeSet<String> {
        &self.hidden
    }

    /// Whether a type is switched off.
    pub fn is_hidden(&self, name: &str) -> bool {
        self.hidden.contains(name)
    }

    /// The full filter in the command line's terms: types listed when some are switched off.
    pub fn effective(&self, store: Option<&Store>) -> Filter {
        let mut f = self.filter.clone();
        if let Some(s) = store
            && !self.hidden.is_empty()
        {
            f.types = s
                .types
                .names()
                .filter(|n| !self.hidden.contains(*n))
                .map(String::from)
                .collect();
            if f.types.is_empty() {
                // Every type switched off: a name no type has, so nothing matches (an empty
                // list would mean every type).
                f.types = vec![crate::query::NO_TYPE.to_string()];
            }
        }
        f
    }

    /// Sets the date range (both inclusive) and the date fields.
    pub fn set_dates(&mut self, from: Option<Day>, to: Option<Day>) {
        if (from, to) == (self.filter.from, self.filter.to) {
            return;
        }
        self.filter.from = from;
        self.filter.to = to;
        self.from_text = from.map(format_day).unwrap_or_default();
        self.to_text = to.map(format_day).unwrap_or_default();
        if self.stale == Stale::Nothing {
            self.stale = Stale::Dates;
        }
    }

    /// The dates as typed: `Ok` when both fields are empty or `YYYY-MM-DD` (a reversed range is
    /// put in order).
    pub fn typed_dates(&self) -> Result<(Option<Day>, Option<Day>), DateError> {
        let day = |t: &str| {
            let t = t.trim();
            if t.is_empty() {
                Ok(None)
            } else {
                parse_ymd(t).map(Some)
            }
        };
        let (from, to) = (day(&self.from_text)?, day(&self.to_text)?);
        Ok(match (from, to) {
            (Some(a), Some(b)) if a > b => (Some(b), Some(a)),
            x => x,
        })
    }

    /// Applies the typed dates when they are valid; returns whether they were.
    pub fn commit_typed_dates(&mut self) -> bool {
        match self.typed_dates() {
            Ok((from, to)) => {
                self.set_dates(from, to);
                true
            }
            Err(_) => false,
        }
    }

    /// Sets the text search (surrounding spaces ignored; blank clears it).
    pub fn set_text(&mut self, text: &str) {
        self.text_query = text.to_string();
        let t = text.trim();
        let new = (!t.is_empty()).then(|| t.to_string());
        if new != self.filter.text {
            self.filter.text = new;
            self.stale = Stale::All;
        }
    }

    /// Changes the filter (any part but the types, which are toggles); what changed decides
    /// what goes stale.
    pub fn update(&mut self, change: impl FnOnce(&mut Filter)) {
        let before = self.filter.clone();
        change(&mut self.filter);
        self.filter.types.clear();
        if self.filter == before {
            return;
        }
        let dates_only = Filter {
            from: before.from,
            to: before.to,
            ..self.filter.clone()
        } == before;
        if dates_only {
            let (from, to) = (self.filter.from, self.filter.to);
            self.filter = before;
            self.set_dates(from, to);
        } else {
            self.stale = Stale::All;
        }
    }

    /// The text a filter's field holds as typed: the filter's own value (`init`) until typed in.
    pub fn typed(
        &mut self,
        name: &'static str,
        init: impl FnOnce(&Filter) -> String,
    ) -> &mut String {
        let f = &self.filter;
        self.typed.entry(name).or_insert_with(|| init(f))
    }

    /// Sets or clears the near filter.
    pub fn set_near(&mut self, near: Option<crate::query::Near>) {
        if self.filter.near != near {
            self.filter.near = near;
            self.stale = Stale::All;
        }
    }

    /// Sets or clears the area of interest.
    pub fn set_within(&mut self, area: Option<crate::area::Area>) {
        if self.filter.within != area {
            self.filter.within = area;
            self.stale = Stale::All;
        }
    }

    /// Shows only incidents whose sources disagree, or all.
    pub fn set_disputed(&mut self, on: bool) {
        if self.filter.disputed != on {
            self.filter.disputed = on;
            self.stale = Stale::All;
        }
    }

    /// Switches a type on or off.
    pub fn toggle_type(&mut self, name: &str) {
        if !self.hidden.remove(name) {
            self.hidden.insert(name.to_string());
        }
        self.stale = Stale::All;
    }

    /// Shows every type.
    pub fn show_all_types(&mut self) {
        self.hidden.clear();
        self.stale = Stale::All;
    }

    /// Hides every type of `store`.
    pub fn hide_all_types(&mut self, store: &Store) {
        self.hidden = store.types.names().map(String::from).collect();
        self.stale = Stale::All;
    }

    /// Marks everything for recomputing.
    pub fn invalidate(&mut self) {
        self.stale = Stale::All;
    }

    /// Whether something changed since the last [`FilterState::take_stale`].
    pub fn is_stale(&self) -> bool {
        self.stale != Stale::Nothing
    }

    /// What needs recomputing since the last call.
    pub fn take_stale(&mut self) -> Stale {
        std::mem::take(&mut self.stale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_dates_trim_order_and_refuse_bad() {
        let mut f = FilterState {
            from_text: " 2021-06-06 ".into(),
            to_text: "2021-06-05".into(),
            ..Default::default()
        };
        assert!(f.commit_typed_dates());
        assert_eq!(f.base().from.map(format_day).as_deref(), Some("2021-06-05"));
        assert_eq!(f.base().to.map(format_day).as_deref(), Some("2021-06-06"));
        assert_eq!(f.take_stale(), Stale::Dates);
        f.from_text = "2021-02-30".into();
        assert!(!f.commit_typed_dates());
        assert_eq!(f.take_stale(), Stale::Nothing);
        f.set_text("  asad ");
        assert_eq!(f.base().text.as_deref(), Some("asad"));
        assert_eq!(f.take_stale(), Stale::All);
        f.set_text("asad");
        assert_eq!(f.take_stale(), Stale::Nothing);
    }

    #[test]
    fn every_type_off_matches_nothing_and_named_types_wait_for_a_store_that_has_them() {
        let s =
            Store::from_csv("lat,lon,date,type\n1,1,2021-01-01,IED\n1,1,2021-01-02,Drone attack\n");
        let mut f = FilterState::default();
        f.hide_all_types(&s);
        let e = f.effective(Some(&s));
        assert_eq!(s.select(&e).unwrap().len(), 0);
        assert_eq!(e.describe_lines()[1], "Types: none");
        // A table's first store knows no types: the named ones wait.
        let mut f = FilterState::new(Filter::default(), Default::default());
        f.apply(Filter {
            types: vec!["ied".into()],
            ..Default::default()
        });
        f.data_loaded(&Store::default());
        f.data_loaded(&s);
        assert_eq!(f.effective(Some(&s)).types, vec!["IED".to_string()]);
    }
}
