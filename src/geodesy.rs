//! Distances, bearings and circles on the WGS84 ellipsoid (geo's Karney geodesics), never planar
//! degrees: the ruler, range rings and the near filter all measure here.

use geo::{Bearing, Destination, Distance, Geodesic, Point};

/// Kilometres per statute mile.
pub const KM_PER_MILE: f64 = 1.609_344;

/// Geodesic distance in kilometres between two `(lon, lat)` positions.
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    Geodesic.distance(Point::new(a.0, a.1), Point::new(b.0, b.1)) / 1000.0
}

/// Great-circle (haversine) distance in kilometres on the sphere of the WGS84 mean radius: fast,
/// within 0.6% of [`distance_km`].
pub fn sphere_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (p1, p2) = (a.1.to_radians(), b.1.to_radians());
    let (dp, dl) = (p2 - p1, (b.0 - a.0).to_radians());
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371.008_8 * h.min(1.0).sqrt().asin()
}

/// Initial bearing from `a` to `b`, degrees clockwise from north in `[0, 360)`.
pub fn bearing_deg(a: (f64, f64), b: (f64, f64)) -> f64 {
    Geodesic
        .bearing(Point::new(a.0, a.1), Point::new(b.0, b.1))
        .rem_euclid(360.0)
}

/// The position `km` from `from` along `bearing` (degrees), as `(lon, lat)`.
pub fn destination(from: (f64, f64), bearing: f64, km: f64) -> (f64, f64) {
    let p = Geodesic.destination(Point::new(from.0, from.1), bearing, km * 1000.0);
    (p.x(), p.y())
}

/// A geodesic circle of radius `km` around `center` as `n` positions, longitudes unwrapped so
/// the ring is continuous (they may leave [-180, 180] across the antimeridian; the map wraps).
pub fn circle(center: (f64, f64), km: f64, n: usize) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(n + 1);
    for k in 0..=n {
        let (mut lon, lat) = destination(center, 360.0 * k as f64 / n as f64, km);
        // Keep each longitude within 180° of the centre's.
        while lon - center.0 > 180.0 {
            lon -= 360.0;
        }
        while lon - center.0 < -180.0 {
            lon += 360.0;
        }
        out.push((lon, lat));
    }
    out
}

/// A lon/lat box surely holding every point within `km` of `center` (a cheap test before the
/// exact one): `None` when it would reach a pole or wrap the antimeridian, where only the exact
/// test is used.
pub fn bounds_within(center: (f64, f64), km: f64) -> Option<[f64; 4]> {
    // A degree of latitude is at least 110.5 km; of longitude, at least that times cos(lat) at
    // the box's most poleward edge. 1% margin for the ellipsoid.
    let dlat = km / 110.5 * 1.01 + 1e-9;
    let (lon, lat) = center;
    let edge = lat.abs() + dlat;
    if edge >= 89.0 {
        return None;
    }
    let dlon = km / (110.5 * edge.to_radians().cos()) * 1.01 + 1e-9;
    if lon - dlon < -180.0 || lon + dlon > 180.0 {
        return None;
    }
    Some([lon - dlon, lat - dlat, lon + dlon, lat + dlat])
}

/// `"12.3 km (7.6 mi)"`.
pub fn km_text(km: f64) -> String {
    let mi = km / KM_PER_MILE;
    if km < 10.0 {
        format!("{km:.2} km ({mi:.2} mi)")
    } else {
        format!("{km:.1} km ({mi:.1} mi)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_distances_and_bearings() {
        // Ain al-Asad to Baghdad airport: within 0.3% of the spherical (haversine) distance,
        // to the east-south-east.
        let asad = (42.441, 33.786);
        let biap = (44.2344, 33.2625);
        let d = distance_km(asad, biap);
        let sphere = sphere_km(asad, biap);
        assert!((d / sphere - 1.0).abs() < 0.003, "{d} vs {sphere}");
        let b = bearing_deg(asad, biap);
        assert!((100.0..115.0).contains(&b), "{b}");
        // One degree of longitude on the equator is 111.32 km on WGS84.
        assert!((distance_km((0.0, 0.0), (1.0, 0.0)) - 111.319_5).abs() < 0.001);
        assert_eq!(km_text(12.345), "12.3 km (7.7 mi)");
    }

    #[test]
    fn the_sphere_is_within_its_margin_of_the_ellipsoid() {
        let mut r = crate::synth::Rng::new(9);
        for _ in 0..20_000 {
            let a = (r.unit() * 360.0 - 180.0, r.unit() * 170.0 - 85.0);
            let b = (
                a.0 + (r.unit() - 0.5) * 20.0,
                (a.1 + (r.unit() - 0.5) * 20.0).clamp(-89.0, 89.0),
            );
            let (e, s) = (distance_km(a, b), sphere_km(a, b));
            assert!((s / e - 1.0).abs() < 0.006, "{a:?} {b:?} {e} {s}");
        }
    }

    #[test]
    fn circles_are_geodesic_everywhere() {
        for center in [(44.0, 33.0), (179.5, 10.0), (-179.9, -20.0), (20.0, 78.0)] {
            for km in [1.0, 50.0, 500.0] {
                let ring = circle(center, km, 72);
                for &p in &ring {
                    let d = distance_km(center, p);
                    assert!((d - km).abs() < 1e-6 * km.max(1.0), "{center:?} {km} {d}");
                    assert!((p.0 - center.0).abs() <= 180.0);
                }
                if let Some([x0, y0, x1, y1]) = bounds_within(center, km) {
                    for &(x, y) in &ring {
                        assert!(x >= x0 && x <= x1 && y >= y0 && y <= y1, "{center:?} {km}");
                    }
                }
            }
        }
        // Across the antimeridian the ring stays continuous around its centre.
        let ring = circle((179.5, 10.0), 500.0, 36);
        assert!(ring.iter().any(|p| p.0 > 180.0));
    }
}
