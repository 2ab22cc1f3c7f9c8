//! The coordinate systems the shapefile and GeoPackage readers reproject from to WGS 84:
//! geographic WGS 84, Web Mercator and WGS 84 / UTM (any zone, north or south).

/// The coordinate systems read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Crs {
    Wgs84,
    WebMercator,
    Utm { zone: i32, north: bool },
}

/// The quoted name after the first `key[` of an upper-cased WKT.
fn name_after<'a>(p: &'a str, key: &str) -> Option<&'a str> {
    let rest = &p[p.find(&format!("{key}[\""))? + key.len() + 2..];
    Some(&rest[..rest.find('"')?])
}

/// Whether a WKT's datum (or, without one, its geographic system) is WGS 84, by name: not by
/// any "WGS" and "84" in the text, which a `TOWGS84[...]` clause of another datum also has.
fn datum_is_wgs84(p: &str) -> bool {
    let name = ["DATUM", "ENSEMBLE", "GEOGCS", "GEOGCRS", "BASEGEOGCRS"]
        .iter()
        .find_map(|k| name_after(p, k));
    let Some(name) = name else { return false };
    let n: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
    n.starts_with("WORLDGEODETICSYSTEM1984")
        || matches!(n.as_str(), "WGS84" | "WGS1984" | "DWGS1984" | "GCSWGS1984")
}

/// A coordinate system these readers do not reproject from, by the name its WKT gives it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "its coordinate system ({0}) is not one this program reprojects: WGS 84, Web Mercator or UTM"
)]
pub struct UnknownSystem(pub String);

/// What a WKT (a shapefile's `.prj`, a GeoPackage's definition; WKT 1 or 2) says.
pub(super) fn crs_of(prj: &str) -> Result<Crs, UnknownSystem> {
    let p = prj.to_ascii_uppercase();
    let wgs84 = datum_is_wgs84(&p);
    if !p.contains("PROJCS[") && !p.contains("PROJCRS[") {
        if wgs84 {
            return Ok(Crs::Wgs84);
        }
        return Err(UnknownSystem(prj_name(prj)));
    }
    if p.contains("MERCATOR_AUXILIARY_SPHERE")
        || p.contains("PSEUDO-MERCATOR")
        || p.contains("PSEUDO_MERCATOR")
        || p.contains("WEB_MERCATOR")
        || p.contains("POPULAR VISUALISATION")
    {
        return Ok(Crs::WebMercator);
    }
    // "WGS 84 / UTM zone 38N", "WGS_1984_UTM_Zone_38N".
    if let Some(i) = p
        .find("UTM ZONE ")
        .map(|i| i + 9)
        .or_else(|| p.find("UTM_ZONE_").map(|i| i + 9))
        && wgs84
    {
        let rest = &p[i..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let hemi = rest[digits.len()..].chars().next();
        if let (Ok(zone), Some(h @ ('N' | 'S'))) = (digits.parse::<i32>(), hemi)
            && (1..=60).contains(&zone)
        {
            return Ok(Crs::Utm {
                zone,
                north: h == 'N',
            });
        }
    }
    Err(UnknownSystem(prj_name(prj)))
}

/// The system's name in a WKT (`PROJCS["name"`), for messages.
fn prj_name(prj: &str) -> String {
    prj.split('"')
        .nth(1)
        .unwrap_or("an unnamed coordinate system")
        .to_string()
}

impl Crs {
    /// The system of an EPSG code: 4326 (and 4979), Web Mercator (3857 and its old codes 900913
    /// and 3785), and WGS 84 / UTM zones (326zz north, 327zz south).
    pub(super) fn from_epsg(code: i64) -> Option<Crs> {
        match code {
            4326 | 4979 => Some(Crs::Wgs84),
            3857 | 900913 | 3785 | 102100 => Some(Crs::WebMercator),
            32601..=32660 => Some(Crs::Utm {
                zone: (code - 32600) as i32,
                north: true,
            }),
            32701..=32760 => Some(Crs::Utm {
                zone: (code - 32700) as i32,
                north: false,
            }),
            _ => None,
        }
    }

    /// `(lon, lat)` of a position in this system.
    pub(super) fn to_wgs84(self, x: f64, y: f64) -> Option<(f64, f64)> {
        match self {
            Crs::Wgs84 => Some((x, y)),
            Crs::WebMercator => {
                const R: f64 = 6_378_137.0;
                Some(((x / R).to_degrees(), (y / R).sinh().atan().to_degrees()))
            }
            Crs::Utm { zone, north } => {
                let u = geoconvert::UtmUps::create(zone, north, x, y).ok()?;
                let ll = geoconvert::LatLon::from_utmups(&u);
                Some((ll.longitude(), ll.latitude()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinate_systems_from_prj() {
        assert_eq!(
            crs_of(
                r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137,298.257223563]]]"#
            ),
            Ok(Crs::Wgs84)
        );
        assert_eq!(
            crs_of(r#"PROJCS["WGS_1984_UTM_Zone_38N",GEOGCS["GCS_WGS_1984"]]"#),
            Ok(Crs::Utm {
                zone: 38,
                north: true
            })
        );
        assert_eq!(
            crs_of(r#"PROJCS["WGS 84 / UTM zone 33S",GEOGCS["WGS 84"]]"#),
            Ok(Crs::Utm {
                zone: 33,
                north: false
            })
        );
        assert_eq!(
            crs_of(r#"PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984"]]"#),
            Ok(Crs::WebMercator)
        );
        assert_eq!(
            crs_of(r#"PROJCS["Karbala_1979_UTM_Zone_38N",GEOGCS["GCS_Karbala_1979"]]"#),
            Err(UnknownSystem("Karbala_1979_UTM_Zone_38N".to_string()))
        );
        // Web Mercator and UTM back to degrees.
        let r = 6_378_137.0f64;
        let (x, y) = (
            42.441f64.to_radians() * r,
            (std::f64::consts::FRAC_PI_4 + 33.786f64.to_radians() / 2.0)
                .tan()
                .ln()
                * r,
        );
        let (lon, lat) = Crs::WebMercator.to_wgs84(x, y).unwrap();
        assert!(
            (lon - 42.441).abs() < 1e-9 && (lat - 33.786).abs() < 1e-9,
            "{lon} {lat}"
        );
        let u =
            geoconvert::UtmUps::from_latlon(&geoconvert::LatLon::create(33.786, 42.441).unwrap());
        let (lon, lat) = Crs::Utm {
            zone: 38,
            north: true,
        }
        .to_wgs84(u.easting(), u.northing())
        .unwrap();
        assert!((lon - 42.441).abs() < 1e-7 && (lat - 33.786).abs() < 1e-7);
    }

    #[test]
    fn other_datums_with_a_towgs84_clause_are_not_wgs84() {
        let ed50 = r#"GEOGCS["ED50",DATUM["European_Datum_1950",SPHEROID["International 1924",6378388,297],TOWGS84[-87,-98,-121,0,0,0,0]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]"#;
        assert_eq!(crs_of(ed50), Err(UnknownSystem("ED50".to_string())));
        let utm = r#"PROJCS["ED50 / UTM zone 38N",GEOGCS["ED50",DATUM["European_Datum_1950",SPHEROID["International 1924",6378388,297],TOWGS84[-87,-98,-121,0,0,0,0]]],PROJECTION["Transverse_Mercator"]]"#;
        assert_eq!(
            crs_of(utm),
            Err(UnknownSystem("ED50 / UTM zone 38N".to_string()))
        );
        // WKT 2, as GDAL writes it in a GeoPackage's definition_12_063.
        let wkt2 = r#"PROJCRS["WGS 84 / UTM zone 38N",BASEGEOGCRS["WGS 84",ENSEMBLE["World Geodetic System 1984 ensemble",MEMBER["World Geodetic System 1984 (Transit)"]]],CONVERSION["UTM zone 38N"]]"#;
        assert_eq!(
            crs_of(wkt2),
            Ok(Crs::Utm {
                zone: 38,
                north: true
            })
        );
        let geo2 = r#"GEOGCRS["WGS 84",ENSEMBLE["World Geodetic System 1984 ensemble",MEMBER["World Geodetic System 1984 (G2139)"]]]"#;
        assert_eq!(crs_of(geo2), Ok(Crs::Wgs84));
    }

    #[test]
    fn epsg_codes() {
        assert_eq!(Crs::from_epsg(4326), Some(Crs::Wgs84));
        assert_eq!(Crs::from_epsg(3857), Some(Crs::WebMercator));
        assert_eq!(
            Crs::from_epsg(32638),
            Some(Crs::Utm {
                zone: 38,
                north: true
            })
        );
        assert_eq!(
            Crs::from_epsg(32760),
            Some(Crs::Utm {
                zone: 60,
                north: false
            })
        );
        assert_eq!(Crs::from_epsg(3393), None);
        assert_eq!(Crs::from_epsg(32661), None, "UPS north is not a UTM zone");
    }
}
