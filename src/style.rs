//! Colours and symbols for incident types, as plain data (red, green, blue bytes): the window,
//! every export and the KML writer use the same. Nothing here knows egui.
//!
//! Common types get a designed colour from the Okabe–Ito palette (distinguishable with the common
//! forms of colour blindness) and a distinct symbol, so that type never depends on colour alone.
//! Unknown types get a stable colour generated from their name.

/// Marker shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Symbol {
    /// Filled circle.
    Circle,
    /// Square.
    Square,
    /// Diamond.
    Diamond,
    /// Triangle pointing up.
    TriangleUp,
    /// Triangle pointing down.
    TriangleDown,
    /// Hexagon.
    Hexagon,
}

/// The designed classes of incident type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// Drone and air strikes.
    Air,
    /// Rockets, missiles, shelling, mortars.
    Rocket,
    /// IEDs, bombs, mines, grenades.
    Explosive,
    /// Armed clashes and battles.
    Clash,
    /// Interceptions and disrupted weapons use.
    Interception,
    /// Anything else (kept with a generated colour).
    Other,
}

/// Classifies a free-text type name by keywords.
pub fn classify(name: &str) -> Class {
    let n = name.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| n.contains(w));
    if has(&[
        "intercept",
        "disrupted",
        "shot down",
        "defus",
        "thwart",
        "foiled",
    ]) {
        Class::Interception
    } else if has(&["drone", "air strike", "airstrike", "air/", "uav", "aerial"]) {
        Class::Air
    } else if has(&[
        "rocket",
        "missile",
        "shell",
        "artillery",
        "mortar",
        "indirect fire",
    ]) {
        Class::Rocket
    } else if has(&[
        "ied", "explos", "bomb", "landmine", "mine", "grenade", "suicide", "vbied",
    ]) {
        Class::Explosive
    } else if has(&[
        "clash",
        "battle",
        "armed",
        "firefight",
        "gunfight",
        "ambush",
    ]) {
        Class::Clash
    } else {
        Class::Other
    }
}

/// A colour as sRGB bytes.
pub type Rgb = [u8; 3];

/// Okabe–Ito colours.
const VERMILLION: Rgb = [0xD5, 0x5E, 0x00];
const ORANGE: Rgb = [0xE6, 0x9F, 0x00];
const PURPLE: Rgb = [0xCC, 0x79, 0xA7];
const BLUE: Rgb = [0x00, 0x72, 0xB2];
const GREEN: Rgb = [0x00, 0x9E, 0x73];

/// Colour used for the "other types" slice of cluster donuts.
pub const OTHER: Rgb = [0x7A, 0x7A, 0x7A];

/// Colours for the types outside the designed classes, given in order of frequency: from Paul
/// Tol's muted and vibrant schemes (designed for the common colour blindnesses), with black and
/// a brown — each at least ΔE₀₀ 21 from the others and 11 from the designed colours (tested),
/// those furthest from the designed colours first.
pub const CATEGORICAL: [Rgb; 9] = [
    [0x33, 0x22, 0x88], // indigo
    [0x33, 0xBB, 0xEE], // cyan
    [0x88, 0x22, 0x55], // wine
    [0xDD, 0xCC, 0x77], // sand
    [0x11, 0x77, 0x33], // green
    [0x99, 0x77, 0x00], // brown
    [0xCC, 0x66, 0x77], // rose
    [0xCC, 0x33, 0x11], // red
    [0x00, 0x00, 0x00], // black
];

/// Colour and symbol of a type by its name alone: the designed ones, else a generated colour.
/// Drawing goes through [`TypeColours`], which gives the data's most frequent other types the
/// [`CATEGORICAL`] colours first.
pub fn style(name: &str) -> (Rgb, Symbol) {
    match designed(name) {
        Some(s) => s,
        None => (generated(name), Symbol::Circle),
    }
}

/// The designed colour and symbol of a type's class (none for other types).
fn designed(name: &str) -> Option<(Rgb, Symbol)> {
    Some(match classify(name) {
        Class::Air => (VERMILLION, Symbol::TriangleDown),
        Class::Rocket => (ORANGE, Symbol::Diamond),
        Class::Explosive => (PURPLE, Symbol::Square),
        Class::Clash => (BLUE, Symbol::Hexagon),
        Class::Interception => (GREEN, Symbol::TriangleUp),
        Class::Other => return None,
    })
}

/// The colours of a data set's types: the designed classes keep theirs; the other types take
/// the [`CATEGORICAL`] colours in order of frequency in the whole data (ties by name), and past
/// those a colour generated from the name. Derived from the data alone, so the same data gives
/// the same colours under any filter, after a restart and in every export.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TypeColours {
    /// Type name → its colour, for the other types that got a categorical one.
    ranked: std::collections::HashMap<String, Rgb>,
}

impl TypeColours {
    /// The colours for types with these counts (the whole data's, not a filtered view's).
    pub fn from_counts<'a>(counts: impl IntoIterator<Item = (&'a str, u64)>) -> TypeColours {
        let mut other: Vec<(&str, u64)> = counts
            .into_iter()
            .filter(|(n, c)| *c > 0 && designed(n).is_none())
            .collect();
        other.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        TypeColours {
            ranked: other
                .iter()
                .zip(CATEGORICAL)
                .map(|((n, _), c)| (n.to_string(), c))
                .collect(),
        }
    }

    /// Whether no type has a categorical colour (none counted yet).
    pub fn is_empty(&self) -> bool {
        self.ranked.is_empty()
    }

    /// Colour and symbol of a type.
    pub fn style(&self, name: &str) -> (Rgb, Symbol) {
        match (designed(name), self.ranked.get(name)) {
            (Some(s), _) => s,
            (None, Some(&c)) => (c, Symbol::Circle),
            (None, None) => (generated(name), Symbol::Circle),
        }
    }
}

/// A stable colour from a name: FNV-1a hash → hue, at a fixed saturation and value (in linear
/// light, then encoded as sRGB) that reads on both the light basemap and OSM tiles.
pub fn generated(name: &str) -> Rgb {
    let hue = hue(name);
    let (s, v) = (SATURATION, VALUE);
    let f = hue * 6.0 - (hue * 6.0).floor();
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - f * s), v * (1.0 - (1.0 - f) * s));
    let [r, g, b] = match (hue * 6.0).floor() as i32 % 6 {
        0 => [v, t, p],
        1 => [q, v, p],
        2 => [p, v, t],
        3 => [p, q, v],
        4 => [t, p, v],
        _ => [v, p, q],
    };
    [srgb(r), srgb(g), srgb(b)]
}

/// Saturation and value of generated colours.
pub const SATURATION: f32 = 0.55;
/// See [`SATURATION`].
pub const VALUE: f32 = 0.65;

/// The hue (0–1) a name's generated colour has.
pub fn hue(name: &str) -> f32 {
    (fnv1a(name) % 360) as f32 / 360.0
}

/// Linear light in [0, 1] to an sRGB byte.
fn srgb(l: f32) -> u8 {
    let v = if l <= 0.0 {
        0.0
    } else if l <= 0.0031308 {
        3294.6 * l
    } else if l <= 1.0 {
        269.025 * l.powf(1.0 / 2.4) - 14.025
    } else {
        255.0
    };
    (v + 0.5) as u8
}

/// 32-bit FNV-1a: a hash that is the same in every run and every version, unlike std's.
fn fnv1a(s: &str) -> u32 {
    let mut h: u32 = 0x811C_9DC5;
    for b in s.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_types_get_designed_styles() {
        assert_eq!(classify("Drone attack"), Class::Air);
        assert_eq!(classify("Air/drone strike"), Class::Air);
        assert_eq!(classify("Rocket attack"), Class::Rocket);
        assert_eq!(classify("Shelling/artillery/missile attack"), Class::Rocket);
        assert_eq!(classify("IED"), Class::Explosive);
        assert_eq!(classify("Remote explosive/landmine/IED"), Class::Explosive);
        assert_eq!(classify("Armed clash"), Class::Clash);
        assert_eq!(classify("Interception"), Class::Interception);
        assert_eq!(classify("Disrupted weapons use"), Class::Interception);
        assert_eq!(classify("Peaceful protest"), Class::Other);
        let designed: std::collections::HashSet<_> = [
            "Drone attack",
            "Rocket attack",
            "IED",
            "Armed clash",
            "Interception",
        ]
        .iter()
        .map(|n| style(n))
        .collect();
        assert_eq!(designed.len(), 5);
    }

    #[test]
    fn generated_colours_are_stable_across_runs_and_versions() {
        // The published FNV-1a test vectors: the hash, hence every generated colour, is fixed.
        assert_eq!(fnv1a(""), 0x811c_9dc5);
        assert_eq!(fnv1a("a"), 0xe40c_292c);
        assert_eq!(fnv1a("foobar"), 0xbf9c_f968);
        // "a" → hue 0xe40c292c % 360 = 340°: a raspberry red.
        let [r, g, b] = generated("a");
        assert!(r > b && b > g, "{r} {g} {b}");
        // Distinct names mostly get distinct colours, all readable on the light basemap.
        let names: Vec<String> = (0..50).map(|k| format!("Type {k}")).collect();
        let colours: std::collections::HashSet<Rgb> = names.iter().map(|n| generated(n)).collect();
        assert!(colours.len() >= 45, "{}", colours.len());
        for [r, g, b] in colours {
            let luma = 0.299 * r as f32 + 0.587 * g as f32 + 0.114 * b as f32;
            assert!((60.0..200.0).contains(&luma), "{r} {g} {b}");
        }
    }
}
