//! What each column of an input means: the roles the importers detect and the record reader
//! hands back with every value.

/// The meaning of one column (CSV header) or property (GeoJSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Latitude.
    Latitude,
    /// Longitude.
    Longitude,
    /// The date, date-time or epoch time.
    Date,
    /// A separate local time of day.
    Time,
    /// A separate UTC offset.
    UtcOffset,
    /// Date precision.
    DatePrecision,
    /// Incident type.
    Type,
    /// Parent category of the type.
    Category,
    /// Place name as reported.
    Place,
    /// Location precision.
    LocPrecision,
    /// Fatalities.
    Fatalities,
    /// Injuries.
    Injuries,
    /// Free text: description, notes, summary.
    Description,
    /// Free text: actors, perpetrators, targets.
    Actor,
    /// Free text: source, publisher, URL.
    Source,
    /// Free text: administrative area (governorate, province, district).
    Area,
    /// Whether the sources disagree (`true`/`yes`/`1`).
    Disputed,
    /// Each source's account: a JSON array of objects (source, source_url, date, time,
    /// utc_offset, fatalities, injuries, claim).
    Accounts,
    /// Ids of related incidents.
    Related,
    /// Anything else (kept and shown, not interpreted).
    Other,
}

impl Role {
    /// Whether `--text` searches columns of this role (the place is searched too, through the
    /// store's interned place names).
    pub fn is_text(self) -> bool {
        matches!(
            self,
            Role::Description | Role::Actor | Role::Source | Role::Area
        )
    }
}

/// Lower-cases a header name and folds spaces, dashes and dots to `_` for matching.
pub fn normalize(name: &str) -> String {
    name.trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .map(|c| {
            if c == ' ' || c == '-' || c == '.' {
                '_'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// The one rule that decides which columns are free text, and of which kind, from the column
/// name alone. The name is split into words at `_` (after [`normalize`]) with trailing digits
/// dropped, so `assoc_actor_1`, `Actor 2`, `source_url` and `admin1` are recognised while
/// `source_scale`, `geo_precision` and `civilian_targeting` are not text.
pub fn text_role(name: &str) -> Option<Role> {
    let n = normalize(name);
    let words: Vec<&str> = n
        .split('_')
        .map(|w| w.trim_end_matches(|c: char| c.is_ascii_digit()))
        .filter(|w| !w.is_empty())
        .collect();
    let any = |list: &[&str]| words.iter().any(|w| list.contains(w));
    if any(&["scale", "precision", "id", "code"]) {
        return None;
    }
    if any(&[
        "note",
        "notes",
        "description",
        "desc",
        "summary",
        "detail",
        "details",
        "comment",
        "comments",
        "narrative",
    ]) {
        Some(Role::Description)
    } else if any(&[
        "actor",
        "actors",
        "perpetrator",
        "perpetrators",
        "target",
        "targets",
        "attacker",
        "attackers",
        "claimed",
    ]) {
        Some(Role::Actor)
    } else if any(&[
        "source",
        "sources",
        "url",
        "urls",
        "publisher",
        "link",
        "links",
        "reference",
        "references",
        "citation",
    ]) {
        Some(Role::Source)
    } else if any(&["admin", "province", "governorate", "district"]) {
        Some(Role::Area)
    } else {
        None
    }
}

/// Which column holds what. Indices refer to the file's header (CSV) or to the union of
/// property keys in order of first appearance (GeoJSON). Built by the importers' detection,
/// kept with the loaded file so the record reader can label every value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMap {
    /// Latitude (GeoJSON: only used when a feature has no geometry or when overridden).
    pub lat: Option<usize>,
    /// Longitude.
    pub lon: Option<usize>,
    /// The date (or date-time, or epoch time).
    pub date: Option<usize>,
    /// A separate local time of day `HH:MM`.
    pub time: Option<usize>,
    /// A separate UTC offset.
    pub offset: Option<usize>,
    /// Date precision (name or ACLED code).
    pub date_precision: Option<usize>,
    /// Incident type.
    pub type_column: Option<usize>,
    /// Parent category of the type.
    pub category: Option<usize>,
    /// Place name as reported.
    pub place: Option<usize>,
    /// Location precision (name or ACLED code).
    pub loc_precision: Option<usize>,
    /// Fatalities.
    pub fatalities: Option<usize>,
    /// Injuries.
    pub injuries: Option<usize>,
    /// Whether the sources disagree.
    pub disputed: Option<usize>,
    /// The sources' accounts.
    pub accounts: Option<usize>,
    /// Related incidents.
    pub related: Option<usize>,
    /// Whether the layout is ACLED's export format.
    pub acled: bool,
    /// The role of every column, in column order.
    pub roles: Vec<Role>,
}

impl ColumnMap {
    /// Fills [`ColumnMap::roles`] for `names`: the mapped columns first, then [`text_role`] for
    /// the others.
    pub fn assign_roles(&mut self, names: &[String]) {
        let mut roles: Vec<Role> = names
            .iter()
            .map(|n| text_role(n).unwrap_or(Role::Other))
            .collect();
        for (col, role) in [
            (self.lat, Role::Latitude),
            (self.lon, Role::Longitude),
            (self.date, Role::Date),
            (self.time, Role::Time),
            (self.offset, Role::UtcOffset),
            (self.date_precision, Role::DatePrecision),
            (self.type_column, Role::Type),
            (self.category, Role::Category),
            (self.place, Role::Place),
            (self.loc_precision, Role::LocPrecision),
            (self.fatalities, Role::Fatalities),
            (self.injuries, Role::Injuries),
            (self.disputed, Role::Disputed),
            (self.accounts, Role::Accounts),
            (self.related, Role::Related),
        ] {
            if let Some(r) = col.and_then(|c| roles.get_mut(c)) {
                *r = role;
            }
        }
        self.roles = roles;
    }

    /// Maps column `c` to `role` (a role of one column: a text role or [`Role::Other`] is
    /// given by the name in [`ColumnMap::assign_roles`], and is left alone here).
    pub fn put(&mut self, role: Role, c: usize) {
        let slot = match role {
            Role::Latitude => &mut self.lat,
            Role::Longitude => &mut self.lon,
            Role::Date => &mut self.date,
            Role::Time => &mut self.time,
            Role::UtcOffset => &mut self.offset,
            Role::DatePrecision => &mut self.date_precision,
            Role::Type => &mut self.type_column,
            Role::Category => &mut self.category,
            Role::Place => &mut self.place,
            Role::LocPrecision => &mut self.loc_precision,
            Role::Fatalities => &mut self.fatalities,
            Role::Injuries => &mut self.injuries,
            Role::Disputed => &mut self.disputed,
            Role::Accounts => &mut self.accounts,
            Role::Related => &mut self.related,
            Role::Description | Role::Actor | Role::Source | Role::Area | Role::Other => return,
        };
        *slot = Some(c);
    }

    /// The role of column `c` ([`Role::Other`] when unknown).
    pub fn role(&self, c: usize) -> Role {
        self.roles.get(c).copied().unwrap_or(Role::Other)
    }

    /// Columns that `--text` searches.
    pub fn text_columns(&self) -> impl Iterator<Item = usize> + '_ {
        self.roles
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_text())
            .map(|(c, _)| c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_text_columns() {
        for (name, role) in [
            ("notes", Some(Role::Description)),
            ("Description", Some(Role::Description)),
            ("assoc_actor_1", Some(Role::Actor)),
            ("Actor 2", Some(Role::Actor)),
            ("actors", Some(Role::Actor)),
            ("source", Some(Role::Source)),
            ("source_url", Some(Role::Source)),
            ("Publisher", Some(Role::Source)),
            ("link", Some(Role::Source)),
            ("admin1", Some(Role::Area)),
            ("governorate", Some(Role::Area)),
            ("source_scale", None),
            ("geo_precision", None),
            ("civilian_targeting", None),
            ("event_id_cnty", None),
            ("latitude", None),
        ] {
            assert_eq!(text_role(name), role, "{name}");
        }
    }

    #[test]
    fn mapped_columns_win_over_the_name_rule() {
        let names: Vec<String> = ["lat", "lon", "date", "source", "notes", "x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut m = ColumnMap {
            lat: Some(0),
            lon: Some(1),
            date: Some(2),
            place: Some(5),
            ..Default::default()
        };
        m.assign_roles(&names);
        assert_eq!(
            m.roles,
            vec![
                Role::Latitude,
                Role::Longitude,
                Role::Date,
                Role::Source,
                Role::Description,
                Role::Place
            ]
        );
        assert_eq!(m.text_columns().collect::<Vec<_>>(), vec![3, 4]);
    }
}
