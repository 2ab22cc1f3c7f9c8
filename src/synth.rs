//! A deterministic generator of ACLED-like CSV exports, for benchmarks and scale tests.
//! The same `(rows, seed)` always produces the same bytes. Rows are in random date order
//! (the worst case for the store's sort) and average about 230 bytes.

use std::io::{self, Write};

/// ACLED's export header.
pub const ACLED_HEADER: &str = "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,iso,region,country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,source_scale,notes,fatalities,tags,timestamp";

/// splitmix64: tiny, fast and good enough for synthetic data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const TYPES: [(&str, &str, u64); 9] = [
    (
        "Explosions/Remote violence",
        "Remote explosive/landmine/IED",
        30,
    ),
    (
        "Explosions/Remote violence",
        "Shelling/artillery/missile attack",
        18,
    ),
    ("Explosions/Remote violence", "Air/drone strike", 14),
    ("Explosions/Remote violence", "Grenade", 3),
    ("Strategic developments", "Disrupted weapons use", 8),
    ("Battles", "Armed clash", 14),
    ("Violence against civilians", "Attack", 8),
    ("Protests", "Peaceful protest", 4),
    ("Riots", "Violent demonstration", 1),
];

/// (admin1, location, lat, lon): real place names with approximate coordinates.
const PLACES: [(&str, &str, f64, f64); 12] = [
    ("Anbar", "Ain al-Asad Air Base", 33.786, 42.441),
    ("Baghdad", "Baghdad International Airport", 33.2625, 44.2344),
    ("Baghdad", "Baghdad - Green Zone", 33.303, 44.39),
    ("Erbil", "Erbil", 36.19, 44.01),
    ("Salah al-Din", "Balad", 33.94, 44.36),
    ("Anbar", "Ramadi", 33.42, 43.3),
    ("Anbar", "Fallujah", 33.35, 43.78),
    ("Ninewa", "Mosul", 36.34, 43.13),
    ("Kirkuk", "Kirkuk", 35.47, 44.39),
    ("Basrah", "Basrah", 30.51, 47.78),
    ("Diyala", "Baqubah", 33.75, 44.64),
    ("Babil", "Hilla", 32.48, 44.42),
];

const ACTORS: [&str; 6] = [
    "Unidentified Armed Group (Iraq)",
    "Military Forces of Iraq",
    "US Forces",
    "Islamic State (Iraq)",
    "Civilians (Iraq)",
    "PMF",
];

const SOURCES: [&str; 5] = [
    "Shafaq News",
    "Rudaw",
    "Xinhua; Kurdistan 24",
    "AFP",
    "Iraqi Security Media Cell",
];

fn pick_type(r: &mut Rng) -> (&'static str, &'static str) {
    let total: u64 = TYPES.iter().map(|t| t.2).sum();
    let mut x = r.below(total);
    for t in TYPES {
        if x < t.2 {
            return (t.0, t.1);
        }
        x -= t.2;
    }
    (TYPES[0].0, TYPES[0].1)
}

/// Writes `rows` ACLED-like rows (plus the header) to `w`.
pub fn write_acled_csv(rows: u64, seed: u64, w: &mut dyn Write) -> io::Result<()> {
    let mut r = Rng::new(seed);
    writeln!(w, "{ACLED_HEADER}")?;
    let first = crate::date::days_from_civil(2016, 1, 1);
    let span = crate::date::days_from_civil(2025, 12, 31) - first;
    for i in 0..rows {
        let day = first + r.below(span as u64 + 1) as i32;
        let (y, m, d) = crate::date::civil_from_days(day);
        let (event_type, sub) = pick_type(&mut r);
        let (admin1, loc, plat, plon) = PLACES[r.below(PLACES.len() as u64) as usize];
        // Most events near a known place; some spread over the whole country.
        let (lat, lon) = if r.below(4) == 0 {
            (29.5 + r.unit() * 7.5, 39.0 + r.unit() * 9.0)
        } else {
            (plat + (r.unit() - 0.5) * 0.2, plon + (r.unit() - 0.5) * 0.2)
        };
        let precision = [1, 1, 1, 1, 1, 1, 1, 2, 2, 3][r.below(10) as usize];
        let a1 = ACTORS[r.below(ACTORS.len() as u64) as usize];
        let a2 = if r.below(3) == 0 {
            ACTORS[r.below(ACTORS.len() as u64) as usize]
        } else {
            ""
        };
        let source = SOURCES[r.below(SOURCES.len() as u64) as usize];
        let fatalities = if r.below(3) == 0 { r.below(6) } else { 0 };
        writeln!(
            w,
            "IRQ{i},{y:04}-{m:02}-{d:02},{y},{precision},Political violence,{event_type},{sub},{a1},,3,{a2},,1,13,,368,Middle East,Iraq,{admin1},,,{loc},{lat:.4},{lon:.4},{},{source},National,\"{fatalities} killed\",{fatalities},,{}",
            1 + r.below(3),
            1_600_000_000 + r.below(100_000_000),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_loadable() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        write_acled_csv(500, 7, &mut a).unwrap();
        write_acled_csv(500, 7, &mut b).unwrap();
        assert_eq!(a, b);
        let per_row = a.len() / 500;
        assert!((150..=300).contains(&per_row), "{per_row} bytes per row");
        let l =
            crate::import::csv::load("s.csv", "s.csv".into(), a, &Default::default(), 0).unwrap();
        assert!(l.source.map.acled);
        assert_eq!(l.builder.len(), 500);
        assert!(l.problems.is_empty(), "{:?}", l.problems.first());
    }
}
