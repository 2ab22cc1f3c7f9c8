//! The analyst's marks on a map: range rings, text labels and arrows. One serde type, [`Tools`],
//! shared by the settings file, saved views and the command line (`export --ring/--label/--arrow`);
//! the window and exports draw it through the same code ([`crate::view::tools`]).

use serde::{Deserialize, Serialize};

use crate::query::Selection;
use crate::store::Store;

/// Colours annotations may take (drawn from the map's palette).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ink {
    /// Near-black.
    #[default]
    Black,
    /// Red.
    Red,
    /// Blue.
    Blue,
    /// Green.
    Green,
    /// Orange.
    Orange,
    /// Purple.
    Purple,
}

impl Ink {
    /// Every ink, in menu order.
    pub const ALL: [Ink; 6] = [
        Ink::Black,
        Ink::Red,
        Ink::Blue,
        Ink::Green,
        Ink::Orange,
        Ink::Purple,
    ];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Ink::Black => "black",
            Ink::Red => "red",
            Ink::Blue => "blue",
            Ink::Green => "green",
            Ink::Orange => "orange",
            Ink::Purple => "purple",
        }
    }

    /// From a name (case-insensitive).
    pub fn parse(s: &str) -> Option<Ink> {
        Ink::ALL
            .into_iter()
            .find(|i| i.name().eq_ignore_ascii_case(s.trim()))
    }
}

/// Range rings around a point: true geodesic circles of the given radii.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ring {
    /// Centre latitude.
    pub lat: f64,
    /// Centre longitude.
    pub lon: f64,
    /// Radii in kilometres, ascending.
    pub km: Vec<f64>,
}

/// A text label at a point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// The text.
    pub text: String,
    /// Its colour.
    #[serde(default)]
    pub ink: Ink,
}

/// An arrow from one point to another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arrow {
    /// Tail `[lat, lon]`.
    pub from: [f64; 2],
    /// Head `[lat, lon]`.
    pub to: [f64; 2],
    /// Its colour.
    #[serde(default)]
    pub ink: Ink,
}

/// Everything drawn over the incidents besides the filter's own area and radius.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tools {
    /// Range rings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rings: Vec<Ring>,
    /// Labels.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
    /// Arrows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub arrows: Vec<Arrow>,
    /// The rule for possible duplicates (the window's badges and details).
    #[serde(skip_serializing_if = "is_default_rule")]
    pub dupes: crate::dupes::Rule,
}

fn is_default_rule(r: &crate::dupes::Rule) -> bool {
    *r == crate::dupes::Rule::default()
}

impl Tools {
    /// Whether there is nothing to draw.
    pub fn is_empty(&self) -> bool {
        self.rings.is_empty() && self.labels.is_empty() && self.arrows.is_empty()
    }

    /// Whether nothing differs from the defaults (nothing to draw, the default duplicate rule).
    pub fn is_default(&self) -> bool {
        *self == Tools::default()
    }
}

/// At most this many range rings, labels or arrows each, radii in all rings, and characters
/// in all labels: a map carries a few; more than these cannot be drawn (the graphics card's
/// buffers have a limit) and is a mistake in a file, not a map.
pub const MAX_TOOLS: usize = 1000;
/// See [`MAX_TOOLS`].
pub const MAX_RADII: usize = 1000;
/// See [`MAX_TOOLS`].
pub const MAX_LABEL_CHARS: usize = 20_000;

/// Why the tools of a view or settings file cannot be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolsError {
    /// A point off the Earth.
    #[error("{0} {1}: its point is not a latitude -90 to 90 and a longitude -180 to 180")]
    Point(&'static str, usize),
    /// A radius out of range.
    #[error("range ring {0}: a radius is not more than 0 and at most 20000 km")]
    Radius(usize),
    /// An empty label.
    #[error("label {0}: no text")]
    Empty(usize),
    /// More than can be drawn.
    #[error("more {0} than a map can carry (at most {1})")]
    TooMany(&'static str, usize),
}

impl Tools {
    /// Checks what a file gave: every point on the Earth, radii in range, and no more than can
    /// be drawn (the command line's parsers give the same rules one tool at a time).
    pub fn check(&self) -> Result<(), ToolsError> {
        for (what, n) in [
            ("range rings", self.rings.len()),
            ("labels", self.labels.len()),
            ("arrows", self.arrows.len()),
        ] {
            if n > MAX_TOOLS {
                return Err(ToolsError::TooMany(what, MAX_TOOLS));
            }
        }
        if self.rings.iter().map(|r| r.km.len()).sum::<usize>() > MAX_RADII {
            return Err(ToolsError::TooMany("radii", MAX_RADII));
        }
        let chars: usize = self.labels.iter().map(|l| l.text.chars().count()).sum();
        if chars > MAX_LABEL_CHARS {
            return Err(ToolsError::TooMany("label text", MAX_LABEL_CHARS));
        }
        for (i, r) in self.rings.iter().enumerate() {
            if !on_earth(r.lat, r.lon) {
                return Err(ToolsError::Point("range ring", i + 1));
            }
            if r.km.is_empty() || !r.km.iter().all(|&k| k > 0.0 && k <= 20_000.0) {
                return Err(ToolsError::Radius(i + 1));
            }
        }
        for (i, l) in self.labels.iter().enumerate() {
            if !on_earth(l.lat, l.lon) {
                return Err(ToolsError::Point("label", i + 1));
            }
            if l.text.trim().is_empty() {
                return Err(ToolsError::Empty(i + 1));
            }
        }
        for (i, a) in self.arrows.iter().enumerate() {
            if !(on_earth(a.from[0], a.from[1]) && on_earth(a.to[0], a.to[1])) {
                return Err(ToolsError::Point("arrow", i + 1));
            }
        }
        Ok(())
    }
}

/// Why a tool given on the command line cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{given}' is not {want}")]
pub struct ToolParseError {
    given: String,
    want: &'static str,
}

fn on_earth(lat: f64, lon: f64) -> bool {
    (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)
}

fn latlon(a: &str, b: &str) -> Option<(f64, f64)> {
    let (lat, lon): (f64, f64) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    on_earth(lat, lon).then_some((lat, lon))
}

impl Ring {
    /// `LAT,LON,KM[,KM...]`.
    pub fn parse(s: &str) -> Result<Ring, ToolParseError> {
        let err = || ToolParseError {
            given: s.to_string(),
            want: "LAT,LON,KM[,KM...] (radii in kilometres, more than 0)",
        };
        let parts: Vec<&str> = s.split(',').collect();
        if parts.len() < 3 {
            return Err(err());
        }
        let (lat, lon) = latlon(parts[0], parts[1]).ok_or_else(err)?;
        let km = parse_radii(&parts[2..].join(",")).ok_or_else(err)?;
        Ok(Ring { lat, lon, km })
    }
}

/// Radii typed as `5, 10 25` (kilometres, more than 0, at most half the Earth's circumference),
/// sorted and without repeats.
pub fn parse_radii(s: &str) -> Option<Vec<f64>> {
    let mut km = Vec::new();
    for p in s.split([',', ' ', ';']).filter(|p| !p.trim().is_empty()) {
        let v: f64 = p.trim().parse().ok()?;
        if !(v > 0.0 && v <= 20_000.0) {
            return None;
        }
        km.push(v);
        if km.len() > MAX_RADII {
            return None;
        }
    }
    km.sort_by(f64::total_cmp);
    km.dedup();
    (!km.is_empty()).then_some(km)
}

impl Label {
    /// `LAT,LON,TEXT` (the text may hold commas).
    pub fn parse(s: &str) -> Result<Label, ToolParseError> {
        let err = || ToolParseError {
            given: s.to_string(),
            want: "LAT,LON,TEXT",
        };
        let mut it = s.splitn(3, ',');
        let (a, b, text) = (
            it.next().ok_or_else(err)?,
            it.next().ok_or_else(err)?,
            it.next().ok_or_else(err)?,
        );
        let (lat, lon) = latlon(a, b).ok_or_else(err)?;
        if text.trim().is_empty() {
            return Err(err());
        }
        Ok(Label {
            lat,
            lon,
            text: text.trim().to_string(),
            ink: Ink::Black,
        })
    }
}

impl Arrow {
    /// `LAT,LON,LAT,LON` (tail, then head).
    pub fn parse(s: &str) -> Result<Arrow, ToolParseError> {
        let err = || ToolParseError {
            given: s.to_string(),
            want: "LAT,LON,LAT,LON (from the tail to the head)",
        };
        let p: Vec<&str> = s.split(',').collect();
        if p.len() != 4 {
            return Err(err());
        }
        let a = latlon(p[0], p[1]).ok_or_else(err)?;
        let b = latlon(p[2], p[3]).ok_or_else(err)?;
        Ok(Arrow {
            from: [a.0, a.1],
            to: [b.0, b.1],
            ink: Ink::Red,
        })
    }
}

/// For each ring and radius: the selected incidents within it (geodesic, the edge included).
pub fn ring_counts(store: &Store, sel: &Selection, rings: &[Ring]) -> Vec<Vec<u64>> {
    rings
        .iter()
        .map(|r| {
            let mut counts = vec![0u64; r.km.len()];
            let Some(&outer) = r.km.last() else {
                return counts;
            };
            let near = crate::query::Near {
                lat: r.lat,
                lon: r.lon,
                km: outer,
            };
            let bounds = near.bounds();
            for &i in &sel.indices {
                let (lon, lat) = (store.lon[i as usize], store.lat[i as usize]);
                if !near.contains(bounds, lon, lat) {
                    continue;
                }
                let d = crate::geodesy::distance_km((r.lon, r.lat), (lon, lat));
                for (k, &km) in r.km.iter().enumerate() {
                    if d <= km {
                        counts[k] += 1;
                    }
                }
            }
            counts
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_count() {
        let r = Ring::parse("33.786,42.441,25,5,10").unwrap();
        assert_eq!(r.km, vec![5.0, 10.0, 25.0]);
        assert!(Ring::parse("33.786,42.441").is_err());
        assert!(Ring::parse("33.786,42.441,-5").is_err());
        assert!(Ring::parse("95,42,5").is_err());
        let l = Label::parse("33.3,44.4,Launch site, reported").unwrap();
        assert_eq!(l.text, "Launch site, reported");
        assert!(Arrow::parse("33,44,34").is_err());
        assert_eq!(Arrow::parse("33,44,34,45").unwrap().to, [34.0, 45.0]);
        let s = Store::from_csv(
            "lat,lon,date,type\n33.786,42.441,2021-06-06,Drone attack\n33.8,42.5,2021-06-06,Drone attack\n33.2625,44.2344,2021-06-05,Rocket attack\n",
        );
        let sel = s.select(&Default::default()).unwrap();
        let c = ring_counts(&s, &sel, &[r]);
        assert_eq!(c, vec![vec![1, 2, 2]]);
        let t = Tools {
            rings: vec![Ring::parse("1,2,3").unwrap()],
            ..Default::default()
        };
        let back: Tools = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
    }
}
