//! A GeoJSON geometry read lean: each position as its first two numbers, straight into the
//! geo types whose centroid places the incident. A `serde_json::Value` took about 100 bytes a
//! position and the geojson crate's types as many again while converting (one feature of
//! millions of vertices needed 30 times its file size); here a position takes 24 bytes while it
//! is read and 16 once converted.

use std::fmt;

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::geojson::GeometryError;

/// Nested coordinates as read.
enum Coords {
    /// A position: its first two numbers (a third, the height, is checked and dropped).
    Pos(f64, f64),
    /// An array of positions, or of arrays of them.
    List(Vec<Coords>),
    /// A number where an array belongs (only seen inside a position while it is read).
    Num(f64),
    /// A position that is not two or more finite numbers, or a value that is no coordinate.
    Bad,
}

impl<'de> Deserialize<'de> for Coords {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Coords, D::Error> {
        d.deserialize_any(CoordsVisitor)
    }
}

struct CoordsVisitor;

impl<'de> Visitor<'de> for CoordsVisitor {
    type Value = Coords;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("coordinates")
    }

    fn visit_f64<E>(self, v: f64) -> Result<Coords, E> {
        Ok(Coords::Num(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Coords, E> {
        Ok(Coords::Num(v as f64))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Coords, E> {
        Ok(Coords::Num(v as f64))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Coords, A::Error> {
        // The first element tells a position (numbers) from a list (arrays).
        let first = match seq.next_element::<Coords>()? {
            None => return Ok(Coords::List(Vec::new())),
            Some(c) => c,
        };
        if let Coords::Num(x) = first {
            let (mut y, mut n, mut ok) = (f64::NAN, 1, x.is_finite());
            while let Some(c) = seq.next_element::<Coords>()? {
                match c {
                    Coords::Num(v) => {
                        if n == 1 {
                            y = v;
                        }
                        ok &= v.is_finite();
                        n += 1;
                    }
                    _ => ok = false,
                }
            }
            return Ok(if ok && n >= 2 {
                Coords::Pos(x, y)
            } else {
                Coords::Bad
            });
        }
        let mut ok = matches!(first, Coords::Pos(..) | Coords::List(_));
        let mut list = vec![first];
        while ok {
            match seq.next_element::<Coords>()? {
                None => return Ok(Coords::List(list)),
                Some(c @ (Coords::Pos(..) | Coords::List(_))) => list.push(c),
                Some(_) => ok = false,
            }
        }
        // Something that is no coordinate: the rest is read past, not kept.
        drop(list);
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Coords::Bad)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Coords, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Coords::Bad)
    }

    fn visit_str<E>(self, _: &str) -> Result<Coords, E> {
        Ok(Coords::Bad)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Coords, E> {
        Ok(Coords::Bad)
    }

    fn visit_unit<E>(self) -> Result<Coords, E> {
        Ok(Coords::Bad)
    }
}

impl Coords {
    /// Whether every position in it is good (and it is no bare number).
    fn positions_ok(&self) -> bool {
        match self {
            Coords::Pos(..) => true,
            Coords::List(l) => l.iter().all(Coords::positions_ok),
            Coords::Num(_) | Coords::Bad => false,
        }
    }
}

/// A geometry as read: its type, coordinates and members (a collection's); any other member
/// (`bbox`, foreign members) is read past.
pub struct Geom {
    kind: Option<String>,
    coordinates: Option<Coords>,
    geometries: Option<Vec<Geom>>,
    /// It was no JSON object (or its `type` no text).
    malformed: bool,
}

impl<'de> Deserialize<'de> for Geom {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Geom, D::Error> {
        d.deserialize_any(GeomVisitor)
    }
}

struct GeomVisitor;

impl GeomVisitor {
    fn malformed() -> Geom {
        Geom {
            kind: None,
            coordinates: None,
            geometries: None,
            malformed: true,
        }
    }
}

impl<'de> Visitor<'de> for GeomVisitor {
    type Value = Geom;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a geometry")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Geom, A::Error> {
        let mut g = Geom {
            kind: None,
            coordinates: None,
            geometries: None,
            malformed: false,
        };
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "type" => match map.next_value::<serde_json::Value>()? {
                    serde_json::Value::String(s) => g.kind = Some(s),
                    _ => g.malformed = true,
                },
                "coordinates" => g.coordinates = Some(map.next_value()?),
                "geometries" => match map.next_value::<Members>()? {
                    Members::List(l) => g.geometries = Some(l),
                    Members::Null => {}
                    Members::Bad => g.malformed = true,
                },
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(g)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Geom, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(GeomVisitor::malformed())
    }

    fn visit_str<E>(self, _: &str) -> Result<Geom, E> {
        Ok(GeomVisitor::malformed())
    }

    fn visit_f64<E>(self, _: f64) -> Result<Geom, E> {
        Ok(GeomVisitor::malformed())
    }

    fn visit_i64<E>(self, _: i64) -> Result<Geom, E> {
        Ok(GeomVisitor::malformed())
    }

    fn visit_u64<E>(self, _: u64) -> Result<Geom, E> {
        Ok(GeomVisitor::malformed())
    }

    fn visit_bool<E>(self, _: bool) -> Result<Geom, E> {
        Ok(GeomVisitor::malformed())
    }

    fn visit_unit<E>(self) -> Result<Geom, E> {
        Ok(GeomVisitor::malformed())
    }
}

/// A collection's `geometries` as read: an array of geometries, `null`, or anything else.
enum Members {
    List(Vec<Geom>),
    Null,
    Bad,
}

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Members, D::Error> {
        d.deserialize_any(MembersVisitor)
    }
}

struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Members;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("geometries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Members, A::Error> {
        let mut l = Vec::new();
        while let Some(g) = seq.next_element()? {
            l.push(g);
        }
        Ok(Members::List(l))
    }

    fn visit_unit<E>(self) -> Result<Members, E> {
        Ok(Members::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Members::Bad)
    }

    fn visit_str<E>(self, _: &str) -> Result<Members, E> {
        Ok(Members::Bad)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Members, E> {
        Ok(Members::Bad)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Members, E> {
        Ok(Members::Bad)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Members, E> {
        Ok(Members::Bad)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Members, E> {
        Ok(Members::Bad)
    }
}

fn shape(kind: &str) -> GeometryError {
    GeometryError::Invalid(format!("the coordinates do not have the shape of a {kind}"))
}

fn coord(c: Coords, kind: &str) -> Result<Coord<f64>, GeometryError> {
    match c {
        Coords::Pos(x, y) => Ok(Coord { x, y }),
        _ => Err(shape(kind)),
    }
}

fn list(c: Coords, kind: &str) -> Result<Vec<Coords>, GeometryError> {
    match c {
        Coords::List(l) => Ok(l),
        _ => Err(shape(kind)),
    }
}

fn line(c: Coords, kind: &str) -> Result<LineString<f64>, GeometryError> {
    list(c, kind)?
        .into_iter()
        .map(|p| coord(p, kind))
        .collect::<Result<Vec<_>, _>>()
        .map(LineString)
}

fn polygon(c: Coords, kind: &str) -> Result<Polygon<f64>, GeometryError> {
    let mut rings = list(c, kind)?.into_iter();
    let exterior = match rings.next() {
        Some(r) => line(r, kind)?,
        None => LineString(Vec::new()),
    };
    let interiors = rings.map(|r| line(r, kind)).collect::<Result<_, _>>()?;
    Ok(Polygon::new(exterior, interiors))
}

impl Geom {
    /// Whether every position is two or more finite numbers (in every member).
    fn positions_ok(&self) -> bool {
        match (&self.geometries, &self.coordinates) {
            (Some(gs), _) => gs.iter().all(Geom::positions_ok),
            (_, Some(c)) => c.positions_ok(),
            _ => false,
        }
    }

    /// The geo geometry and its GeoJSON type name (positions checked first, as a bad one is
    /// the likelier mistake).
    pub fn into_geo(self) -> Result<(Geometry<f64>, String), GeometryError> {
        if self.malformed {
            return Err(GeometryError::Invalid(
                "not a GeoJSON geometry object".into(),
            ));
        }
        let Some(kind) = self.kind.clone() else {
            return Err(GeometryError::Invalid("a geometry without a type".into()));
        };
        if kind != "GeometryCollection" && self.coordinates.is_none() {
            return Err(GeometryError::Invalid(format!(
                "a {kind} without coordinates"
            )));
        }
        if !self.positions_ok() {
            return Err(GeometryError::Positions);
        }
        if kind == "GeometryCollection" {
            let members = self
                .geometries
                .unwrap_or_default()
                .into_iter()
                .map(|g| g.into_geo().map(|(g, _)| g))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok((Geometry::GeometryCollection(members.into()), kind));
        }
        let Some(c) = self.coordinates else {
            return Err(GeometryError::Invalid(format!(
                "a {kind} without coordinates"
            )));
        };
        let k = kind.as_str();
        let geometry = match k {
            "Point" => Geometry::Point(Point(coord(c, k)?)),
            "MultiPoint" => {
                Geometry::MultiPoint(MultiPoint(line(c, k)?.0.into_iter().map(Point).collect()))
            }
            "LineString" => Geometry::LineString(line(c, k)?),
            "MultiLineString" => Geometry::MultiLineString(MultiLineString(
                list(c, k)?
                    .into_iter()
                    .map(|l| line(l, k))
                    .collect::<Result<_, _>>()?,
            )),
            "Polygon" => Geometry::Polygon(polygon(c, k)?),
            "MultiPolygon" => Geometry::MultiPolygon(MultiPolygon(
                list(c, k)?
                    .into_iter()
                    .map(|p| polygon(p, k))
                    .collect::<Result<_, _>>()?,
            )),
            other => {
                return Err(GeometryError::Invalid(format!(
                    "unknown geometry type {other:?}"
                )));
            }
        };
        Ok((geometry, kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lean(v: &serde_json::Value) -> Result<(Geometry<f64>, String), GeometryError> {
        // Through text, as a file is read, and from a `Value`, as an edit compares.
        let from_text: Geom = serde_json::from_str(&v.to_string()).unwrap();
        let from_value = Geom::deserialize(v).unwrap().into_geo();
        let r = from_text.into_geo();
        assert_eq!(r, from_value, "{v}");
        r
    }

    #[test]
    fn the_same_geometry_as_the_geojson_crate_gives() {
        let ring = |x: f64, s: f64| json!([[x, 33], [x + s, 33], [x + s, 33.0 + s], [x, 33]]);
        let cases = [
            json!({"type": "Point", "coordinates": [44.25, 33.5]}),
            json!({"type": "Point", "coordinates": [44, 33, 120.5]}),
            json!({"type": "MultiPoint", "coordinates": [[44, 33], [45, 34, 1]]}),
            json!({"type": "LineString", "coordinates": [[44, 33], [45, 34], [46, 33]]}),
            json!({"type": "MultiLineString", "coordinates": [[[44, 33], [45, 34]], [[1, 2], [3, 4]]]}),
            json!({"bbox": [0, 0, 1, 1], "type": "Polygon", "coordinates": [ring(44.0, 1.0), ring(44.2, 0.3)]}),
            json!({"coordinates": [[ring(44.0, 1.0)], [ring(40.0, 2.0), ring(40.5, 0.5)]], "type": "MultiPolygon"}),
            json!({"type": "GeometryCollection", "geometries": [
                {"type": "Point", "coordinates": [1, 2]},
                {"type": "Polygon", "coordinates": [ring(44.0, 1.0)]}
            ]}),
            json!({"type": "Polygon", "coordinates": []}),
        ];
        for v in cases {
            let theirs: geojson::Geometry = serde_json::from_value(v.clone()).unwrap();
            let theirs: Geometry<f64> = (&theirs.value).try_into().unwrap();
            let (ours, name) = lean(&v).unwrap();
            assert_eq!(ours, theirs, "{v}");
            assert_eq!(name, v["type"].as_str().unwrap());
        }
    }

    #[test]
    fn bad_positions_and_shapes_are_named() {
        for bad in [
            json!({"type": "Point", "coordinates": [44]}),
            json!({"type": "Point", "coordinates": [1, "x"]}),
            json!({"type": "LineString", "coordinates": [[1, 2], [3, null]]}),
            json!({"type": "Polygon", "coordinates": [[[43, 33], [43, 34], [42.34], [42, 33]]]}),
            json!({"type": "LineString", "coordinates": [[1, 2], 3]}),
            json!({"type": "LineString", "coordinates": [[1, 2], {"x": 1}]}),
            json!({"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1]}]}),
        ] {
            assert_eq!(lean(&bad), Err(GeometryError::Positions), "{bad}");
        }
        for (bad, why) in [
            (
                json!({"type": "Polygon", "coordinates": [[1, 2], [3, 4]]}),
                "shape of a Polygon",
            ),
            (
                json!({"type": "Point", "coordinates": [[1, 2]]}),
                "shape of a Point",
            ),
            (
                json!({"type": "Circle", "coordinates": [1, 2]}),
                "unknown geometry type \"Circle\"",
            ),
            (json!([1, 2]), "not a GeoJSON geometry object"),
            (json!("POINT (1 2)"), "not a GeoJSON geometry object"),
            (
                json!({"type": 5, "coordinates": [1, 2]}),
                "not a GeoJSON geometry object",
            ),
            (
                json!({"type": "GeometryCollection", "geometries": {}}),
                "not a GeoJSON geometry object",
            ),
            (
                json!({"type": "GeometryCollection", "geometries": 5}),
                "not a GeoJSON geometry object",
            ),
            (json!({}), "a geometry without a type"),
        ] {
            match lean(&bad) {
                Err(GeometryError::Invalid(m)) => assert!(m.contains(why), "{bad}: {m}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
