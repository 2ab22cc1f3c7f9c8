//! From Web Mercator to screen points and back, in f64 so that deep zooms stay exact.

use egui::{Pos2, Rect, pos2};

pub use crate::projection::TILE;
use crate::projection::{MercRect, lat_of, lon_of, merc_x, merc_y, metres_per_pixel, world_px};

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
        world_px(self.zoom)
    }

    /// Screen position of a Mercator point, in f64.
    pub fn to_screen_f64(&self, x: f64, y: f64) -> (f64, f64) {
        let s = self.scale();
        let c = self.rect.center();
        (
            c.x as f64 + (x - self.cx) * s,
            c.y as f64 + (y - self.cy) * s,
        )
    }

    /// Screen position of a Mercator point.
    pub fn to_screen(&self, x: f64, y: f64) -> Pos2 {
        let (x, y) = self.to_screen_f64(x, y);
        pos2(x as f32, y as f32)
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
        metres_per_pixel(lat_of(self.cy), self.zoom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Markers land on the same pixels as walkers' tiles: the screen transform agrees with
    /// walkers' `Projector` (computed in f64, as it does) at every zoom 0–19.
    #[test]
    fn agrees_with_walkers_projector() {
        use walkers::{MapMemory, MercatorProjection, Projection, Projector, lon_lat};
        let rect = Rect::from_min_size(pos2(13.0, 57.0), egui::vec2(1021.0, 733.0));
        let (clon, clat) = (43.9632, 36.2376);
        for z in 0..=19 {
            let zoom = z as f64;
            let mut memory = MapMemory::default();
            memory.center_at(lon_lat(clon, clat));
            memory.set_zoom(zoom).unwrap();
            let projector = Projector::new(rect, &MercatorProjection, &memory, lon_lat(0.0, 0.0));
            let s = Screen::new(rect, clon, clat, zoom);
            // Points a few hundred pixels from the centre at this zoom.
            let d = (300.0 / world_px(zoom) * 360.0).min(20.0);
            for (lon, lat) in [
                (clon, clat),
                (clon + d, clat - d * 0.7),
                (clon - d * 0.4, clat + d * 0.3),
            ] {
                let c = MercatorProjection.project(lon_lat(clon, clat), zoom);
                let p = MercatorProjection.project(lon_lat(lon, lat), zoom);
                let centre = rect.center();
                let (wx, wy) = (
                    centre.x as f64 + (p.x() - c.x()),
                    centre.y as f64 + (p.y() - c.y()),
                );
                let (ox, oy) = s.to_screen_f64(merc_x(lon), merc_y(lat));
                assert!(
                    (ox - wx).abs() < 1e-6 && (oy - wy).abs() < 1e-6,
                    "zoom {z}: ({ox}, {oy}) vs walkers ({wx}, {wy})"
                );
                // And the f32 positions walkers hands out agree to f32 precision.
                let v = projector.project(lon_lat(lon, lat));
                let q = s.lonlat_to_screen(lon, lat);
                assert!(
                    (v.x - q.x).abs() < 1e-3 && (v.y - q.y).abs() < 1e-3,
                    "zoom {z}"
                );
            }
        }
    }

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
