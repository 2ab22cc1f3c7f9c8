//! Web Mercator: the one projection of the map, used by the cluster index, the offline basemap,
//! the view (markers, scale bar) and the window. Positions are in Mercator units, `[0, 1]` across
//! the world from 180°W and from the north edge; at zoom `z` the world is `256 · 2^z` pixels
//! wide, the same as walkers' tiles, so everything drawn lines up with them.

use std::f64::consts::PI;

/// Latitude limit of Web Mercator.
pub const MAX_LAT: f64 = 85.051_128_779_806_59;

/// Pixels across the whole world at zoom 0 (walkers' and OSM's tile size).
pub const TILE: f64 = 256.0;

/// Equatorial circumference of the WGS84 ellipsoid in metres (the scale of Web Mercator).
pub const EARTH_CIRCUMFERENCE: f64 = 40_075_016.686;

/// Mercator x in [0, 1] (0 = 180°W).
pub fn merc_x(lon: f64) -> f64 {
    (lon + 180.0) / 360.0
}

/// Mercator y in [0, 1] (0 = north edge); latitudes beyond [`MAX_LAT`] are clamped.
pub fn merc_y(lat: f64) -> f64 {
    let r = lat.clamp(-MAX_LAT, MAX_LAT).to_radians();
    (1.0 - r.tan().asinh() / PI) / 2.0
}

/// Longitude of a Mercator x.
pub fn lon_of(x: f64) -> f64 {
    x * 360.0 - 180.0
}

/// Latitude of a Mercator y.
pub fn lat_of(y: f64) -> f64 {
    (PI * (1.0 - 2.0 * y)).sinh().atan().to_degrees()
}

/// Pixels per Mercator unit (the world's width in pixels) at a zoom level.
pub fn world_px(zoom: f64) -> f64 {
    TILE * 2f64.powf(zoom)
}

/// Ground metres per pixel at a latitude and zoom.
pub fn metres_per_pixel(lat: f64, zoom: f64) -> f64 {
    EARTH_CIRCUMFERENCE * lat.clamp(-MAX_LAT, MAX_LAT).to_radians().cos() / world_px(zoom)
}

/// An axis-aligned box in Mercator units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MercRect {
    /// West.
    pub x0: f64,
    /// North.
    pub y0: f64,
    /// East.
    pub x1: f64,
    /// South.
    pub y1: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use walkers::{MercatorProjection, Projection, lon_lat};

    #[test]
    fn round_trips() {
        for (lon, lat) in [
            (42.441, 33.786),
            (-179.9, -60.0),
            (0.0, 0.0),
            (179.99, 85.0),
        ] {
            assert!((lon_of(merc_x(lon)) - lon).abs() < 1e-9);
            assert!((lat_of(merc_y(lat)) - lat).abs() < 1e-9);
        }
    }

    /// The same pixels as walkers' projection, to a millionth of a pixel, at every zoom.
    #[test]
    fn agrees_with_walkers_at_every_zoom() {
        let places = [
            (42.441, 33.786),
            (44.2344, 33.2625),
            (-0.1276, 51.5072),
            (179.9, -16.5),
            (-179.9, 71.0),
            (0.0, 0.0),
            (18.07, 84.9),
        ];
        for z in 0..=19 {
            let zoom = z as f64;
            for (lon, lat) in places {
                let theirs = MercatorProjection.project(lon_lat(lon, lat), zoom);
                let (x, y) = (merc_x(lon) * world_px(zoom), merc_y(lat) * world_px(zoom));
                assert!(
                    (x - theirs.x()).abs() < 1e-6 && (y - theirs.y()).abs() < 1e-6,
                    "zoom {z} at {lon},{lat}: ({x}, {y}) vs ({}, {})",
                    theirs.x(),
                    theirs.y()
                );
                let m = MercatorProjection.scale_pixel_per_meter(lon_lat(lon, lat), zoom);
                assert!((metres_per_pixel(lat, zoom) * m - 1.0).abs() < 1e-9);
            }
        }
    }
}
