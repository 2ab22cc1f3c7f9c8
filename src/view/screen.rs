//! From Web Mercator to screen points and back, in f64 so that deep zooms stay exact.

use egui::{Pos2, Rect, pos2};

use crate::cluster::{MercRect, lat_of, lon_of, merc_x, merc_y};

/// Pixels across the whole world at zoom 0 (walkers' and OSM's tile size).
pub const TILE: f64 = 256.0;

/// A view of the map: which Mercator point sits at the centre of which screen rectangle, and at
/// what zoom. The same transform walkers' `Projector` uses, so markers, the offline basemap and
/// tiles line up exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Screen {
    /// Screen rectangle of the map.
    pub rect: Rect,
    /// Mercator x of the centre.
    pub cx: f64,
    /// Mercator y of the centre.
    pub cy: f64,
    /// Zoom level (fractional).
    pub zoom: f64,
}

impl Screen {
    /// A view centred on a longitude/latitude.
    pub fn new(rect: Rect, lon: f64, lat: f64, zoom: f64) -> Screen {
        Screen {
            rect,
            cx: merc_x(lon),
            cy: merc_y(lat),
            zoom,
        }
    }

    /// Screen pixels per Mercator unit.
    pub fn scale(&self) -> f64 {
        TILE * 2f64.powf(self.zoom)
    }

    /// Screen position of a Mercator point.
    pub fn to_screen(&self, x: f64, y: f64) -> Pos2 {
        let s = self.scale();
        let c = self.rect.center();
        pos2(
            (c.x as f64 + (x - self.cx) * s) as f32,
            (c.y as f64 + (y - self.cy) * s) as f32,
        )
    }

    /// Screen position of a longitude/latitude.
    pub fn lonlat_to_screen(&self, lon: f64, lat: f64) -> Pos2 {
        self.to_screen(merc_x(lon), merc_y(lat))
    }

    /// Mercator point under a screen position.
    pub fn to_merc(&self, p: Pos2) -> (f64, f64) {
        let s = self.scale();
        let c = self.rect.center();
        (
            self.cx + (p.x as f64 - c.x as f64) / s,
            self.cy + (p.y as f64 - c.y as f64) / s,
        )
    }

    /// Longitude/latitude under a screen position.
    pub fn to_lonlat(&self, p: Pos2) -> (f64, f64) {
        let (x, y) = self.to_merc(p);
        (lon_of(x), lat_of(y))
    }

    /// The Mercator box visible on screen, grown by `margin` pixels on every side.
    pub fn visible(&self, margin: f32) -> MercRect {
        let r = self.rect.expand(margin);
        let (x0, y0) = self.to_merc(r.min);
        let (x1, y1) = self.to_merc(r.max);
        MercRect { x0, y0, x1, y1 }
    }

    /// Centre longitude and latitude.
    pub fn center_lonlat(&self) -> (f64, f64) {
        (lon_of(self.cx), lat_of(self.cy))
    }

    /// The view that fits a lon/lat box into `rect` with `margin` pixels to spare, at most
    /// `max_zoom`.
    pub fn fit(rect: Rect, bbox: [f64; 4], margin: f32, max_zoom: f64) -> Screen {
        let [x0, y0, x1, y1] = [
            merc_x(bbox[0]),
            merc_y(bbox[3]),
            merc_x(bbox[2]),
            merc_y(bbox[1]),
        ];
        let w = (rect.width() - 2.0 * margin).max(16.0) as f64;
        let h = (rect.height() - 2.0 * margin).max(16.0) as f64;
        let zx = if x1 > x0 {
            (w / ((x1 - x0) * TILE)).log2()
        } else {
            max_zoom
        };
        let zy = if y1 > y0 {
            (h / ((y1 - y0) * TILE)).log2()
        } else {
            max_zoom
        };
        let zoom = zx.min(zy).clamp(0.0, max_zoom);
        Screen {
            rect,
            cx: (x0 + x1) / 2.0,
            cy: (y0 + y1) / 2.0,
            zoom,
        }
    }

    /// Metres per screen pixel at the centre latitude.
    pub fn metres_per_pixel(&self) -> f64 {
        const EARTH_CIRCUMFERENCE: f64 = 40_075_016.686;
        let lat = lat_of(self.cy).to_radians();
        EARTH_CIRCUMFERENCE * lat.cos() / self.scale()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_fit() {
        let rect = Rect::from_min_size(pos2(10.0, 20.0), egui::vec2(800.0, 600.0));
        let s = Screen::new(rect, 42.441, 33.786, 12.0);
        let p = s.lonlat_to_screen(42.441, 33.786);
        assert!((p - rect.center()).length() < 1e-3);
        let (lon, lat) = s.to_lonlat(pos2(100.0, 200.0));
        let back = s.lonlat_to_screen(lon, lat);
        assert!((back - pos2(100.0, 200.0)).length() < 1e-2);
        let f = Screen::fit(rect, [42.0, 33.0, 45.0, 37.0], 20.0, 16.0);
        let a = f.lonlat_to_screen(42.0, 37.0);
        let b = f.lonlat_to_screen(45.0, 33.0);
        assert!(
            rect.shrink(19.0).contains(a) && rect.shrink(19.0).contains(b),
            "{a:?} {b:?}"
        );
        assert!((b.y - a.y - 560.0).abs() < 1.0 || (b.x - a.x - 760.0).abs() < 1.0);
    }
}
