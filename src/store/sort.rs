//! Putting the store's columns in date order: where each incident goes, and moving a column
//! there.

/// Where each incident goes in the sorted order (by key, equal keys in input order).
#[derive(Debug)]
pub(super) enum Places {
    /// Keys (less the smallest, less the trailing zero bits all share) within 16 bits, as the
    /// dates of a file without times are: each incident's bucket, and where each bucket starts.
    Buckets { digit: Vec<u16>, start: Vec<u32> },
    /// Wider keys: each incident's place.
    Each(Vec<u32>),
}

/// Positions `0..n` in the order of their keys `key(i)`, equal keys in position order.
pub fn stable_order(n: usize, key: impl Fn(usize) -> i64) -> Vec<u32> {
    match Places::of(n, key) {
        Some(places) => places.order(),
        None => (0..n as u32).collect(),
    }
}

impl Places {
    /// The places of `n` incidents whose keys `key(0..n)` gives; `None` when the keys are in
    /// order already.
    ///
    /// Narrow keys are counted into buckets (one pass). Wider ones go through a radix sort of
    /// each key packed above its position, over the key bits only: two or three passes, where a
    /// comparison sort of a million pairs took several times longer. Keys spread over more
    /// than 32 bits are sorted by comparison.
    pub(super) fn of(n: usize, key: impl Fn(usize) -> i64) -> Option<Places> {
        // One pass: whether the keys are in order, the smallest and largest, and the low bits
        // where keys differ (all keys agree with the first below the lowest set bit of
        // `differ`).
        if n == 0 {
            return None;
        }
        let k0 = key(0);
        let (mut lo, mut hi, mut differ, mut prev, mut sorted) = (k0, k0, 0u64, k0, true);
        for i in 1..n {
            let k = key(i);
            (lo, hi, differ) = (lo.min(k), hi.max(k), differ | (k ^ k0) as u64);
            sorted &= prev <= k;
            prev = k;
        }
        if sorted {
            return None;
        }
        let shift = differ.trailing_zeros().min(63);
        let bits = 64 - (hi.wrapping_sub(lo) as u64 >> shift).leading_zeros();
        let digit = |k: i64| (k.wrapping_sub(lo) as u64 >> shift) as usize;
        if bits <= 16 {
            let mut count = vec![0u32; 1 << bits];
            let digit: Vec<u16> = (0..n)
                .map(|i| {
                    let d = digit(key(i));
                    count[d] += 1;
                    d as u16
                })
                .collect();
            let mut sum = 0;
            for c in count.iter_mut() {
                (*c, sum) = (sum, sum + *c);
            }
            return Some(Places::Buckets {
                digit,
                start: count,
            });
        }
        let keys: Vec<i64> = (0..n).map(key).collect();
        let order: Vec<u32> = if bits > 32 {
            let mut order: Vec<(i64, u32)> =
                keys.iter().zip(0u32..).map(|(&k, i)| (k, i)).collect();
            order.sort_unstable();
            order.into_iter().map(|(_, i)| i).collect()
        } else {
            radix_order(&keys, lo, shift, bits)
        };
        let mut places = vec![0u32; n];
        for (j, &i) in order.iter().enumerate() {
            places[i as usize] = j as u32;
        }
        Some(Places::Each(places))
    }

    /// The sorted order: position `j` holds the incident that was `order[j]`-th.
    pub(super) fn order(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.len() as u32).collect();
        self.apply(&mut order, &mut Vec::new());
        order
    }

    fn len(&self) -> usize {
        match self {
            Places::Buckets { digit, .. } => digit.len(),
            Places::Each(places) => places.len(),
        }
    }

    /// Moves `v` into the sorted order. `spare`, if it has `v`'s length, is written over
    /// instead of fresh memory, and is left holding `v`'s old buffer: columns of one type
    /// moved one after the other need fresh memory once. Fresh memory is zeroed by the
    /// kernel as it is first written (no pass to fill it first, for the primitive types the
    /// standard library allocates zeroed).
    ///
    /// Each value is written straight to its place. Tried with 10M incidents and slower:
    /// buffering each bucket's values and writing them a cache line at a time (fewer pages
    /// touched per write; the writes wait on memory either way, and the buffering costs
    /// instructions), and two passes (64 coarse buckets, then the buckets within each).
    pub(super) fn apply<T: Copy + Default>(&self, v: &mut Vec<T>, spare: &mut Vec<T>) {
        if spare.len() != v.len() {
            *spare = vec![T::default(); v.len()];
        }
        match self {
            Places::Buckets { digit, start } => {
                let mut next = start.clone();
                for (&x, &d) in v.iter().zip(digit) {
                    let at = &mut next[d as usize];
                    spare[*at as usize] = x;
                    *at += 1;
                }
            }
            Places::Each(places) => {
                for (&x, &t) in v.iter().zip(places) {
                    spare[t as usize] = x;
                }
            }
        }
        std::mem::swap(v, spare);
    }
}

/// [`Places::of`]'s radix sort: keys (less `lo`, shifted right by `shift`) of `bits` bits.
fn radix_order(keys: &[i64], lo: i64, shift: u32, bits: u32) -> Vec<u32> {
    let mut a: Vec<u64> = keys
        .iter()
        .zip(0u64..)
        .map(|(&k, i)| ((k.wrapping_sub(lo) as u64 >> shift) << 32) | i)
        .collect();
    let mut b = vec![0u64; a.len()];
    let passes = bits.div_ceil(12).max(1);
    let width = bits.div_ceil(passes);
    let mask = (1u64 << width) - 1;
    for p in 0..passes {
        let at = 32 + p * width;
        let mut count = vec![0usize; 1 << width];
        for &x in &a {
            count[((x >> at) & mask) as usize] += 1;
        }
        let mut sum = 0;
        for c in count.iter_mut() {
            (*c, sum) = (sum, sum + *c);
        }
        for &x in &a {
            let d = ((x >> at) & mask) as usize;
            b[count[d]] = x;
            count[d] += 1;
        }
        std::mem::swap(&mut a, &mut b);
    }
    a.into_iter().map(|x| x as u32).collect()
}

#[cfg(test)]
mod tests {
    use super::Places;

    fn order(keys: &[i64]) -> Vec<u32> {
        super::stable_order(keys.len(), |i| keys[i])
    }

    /// Both kinds of places give the order of a stable comparison sort, whatever the keys'
    /// spread.
    #[test]
    fn places_give_a_stable_sort() {
        let mut rng = crate::synth::Rng::new(0x2545_f491_4f6c_dd1d);
        let mut rnd = move || rng.next_u64();
        for spread in [1u64, 3, 4096, 1 << 20, 1 << 40, u64::MAX] {
            for shift in [0, 16] {
                let keys: Vec<i64> = (0..5000)
                    .map(|_| (((rnd() % spread) as i64) << shift).wrapping_sub(12345))
                    .collect();
                let mut expected: Vec<u32> = (0..keys.len() as u32).collect();
                expected.sort_by_key(|&i| keys[i as usize]);
                match Places::of(keys.len(), |i| keys[i]) {
                    Some(places) => {
                        let narrow = spread <= 1 << 16;
                        assert_eq!(matches!(places, Places::Buckets { .. }), narrow);
                        assert_eq!(places.order(), expected, "spread {spread} shift {shift}");
                    }
                    None => assert_eq!(spread, 1, "only equal keys are in order"),
                }
            }
        }
        assert!(order(&[]).is_empty());
        assert_eq!(order(&[i64::MAX, i64::MIN, 0]), vec![1, 2, 0]);
        assert_eq!(order(&[7, 3, 7, 3]), vec![1, 3, 0, 2]);
        assert_eq!(order(&[5]), vec![0]);
        assert!(Places::of(4, |i| [1, 1, 2, 9][i]).is_none());
        assert!(Places::of(0, |_| 0).is_none());
        assert!(Places::of(2, |i| [2, 1][i]).is_some());
    }

    /// A column moved through bucket places holds its values in the sorted order, for values
    /// of every width, any number of buckets (empty ones, ones of a single value) and a spare
    /// of the right length written over.
    #[test]
    fn columns_move_into_the_sorted_order() {
        fn check<T: Copy + Default + PartialEq + std::fmt::Debug>(
            keys: &[i64],
            f: impl Fn(usize) -> T,
        ) {
            let Some(places) = Places::of(keys.len(), |i| keys[i]) else {
                assert!(keys.is_sorted());
                return;
            };
            assert!(matches!(places, Places::Buckets { .. }));
            // The order from a stable comparison sort, not from the places under test.
            let mut order: Vec<usize> = (0..keys.len()).collect();
            order.sort_by_key(|&i| keys[i]);
            let expected: Vec<T> = order.iter().map(|&i| f(i)).collect();
            let mut v: Vec<T> = (0..keys.len()).map(&f).collect();
            let mut spare = Vec::new();
            places.apply(&mut v, &mut spare);
            assert_eq!(v, expected, "{} keys", keys.len());
            // Again through the spare the first move left (the old values, of the same length).
            let mut w: Vec<T> = (0..keys.len()).map(&f).collect();
            assert_eq!(spare, w);
            places.apply(&mut w, &mut spare);
            assert_eq!(w, expected);
        }
        let mut rng = crate::synth::Rng::new(0x9e37_79b9_7f4a_7c15);
        for n in [1usize, 2, 7, 63, 64, 65, 1000, 20_000] {
            for buckets in [1u64, 2, 5, 300, 1 << 16] {
                let keys: Vec<i64> = (0..n)
                    .map(|_| {
                        // Skewed: some buckets large, many empty or of one value.
                        let r = rng.next_u64();
                        let k = if r & 1 == 0 { r % 3 } else { r % buckets };
                        (k.min(buckets - 1) * 2) as i64
                    })
                    .collect();
                check(&keys, |i| i as u8);
                check(&keys, |i| i % 7 == 0);
                check(&keys, |i| i as u16);
                check(&keys, |i| i as i32 - 5);
                check(&keys, |i| i as f64 * 0.5);
                check(&keys, |i| i as u64 * 3);
            }
        }
    }
}
