//! Lookup tables from an object's identity (namespace and name, or its whole key) to its
//! index, without copying a single name: a list of 64-bit hashes of the identities, sorted,
//! beside the object indices. At 40,000 objects this takes about 16 bytes per object (20 to 24
//! with the prefix table below), where hash maps keyed by owned strings took about 300, and a
//! lookup allocates nothing.
//!
//! A lookup goes straight to the few hashes that share its top bits (a table of where each
//! top-bits prefix starts, about one prefix per object) instead of a binary search: at 41,000
//! objects a binary search took 16 dependent steps through memory for every reference.
//!
//! Distinct identities never share a hash within a table: [`KeyTable::build`] checks every
//! pair of equal hashes and picks another seed if two differ (with 64-bit hashes that
//! practically never happens). So the objects with one hash all have the same identity, and
//! a lookup compares the identity of the first of them to tell a hit from an absent key.

use std::hash::BuildHasher;

/// Object indices by the hash of their identity (see the module docs).
#[derive(Clone, Debug, Default)]
pub(crate) struct KeyTable {
    /// Sorted.
    hashes: Vec<u64>,
    /// The object with the hash at the same position; ascending within one hash.
    objects: Vec<usize>,
    /// Where the hashes of each top-bits prefix start in `hashes` (see [`KeyTable::prefix_of`]),
    /// one more entry than there are prefixes; empty only in a `Default` table, which was never
    /// built.
    starts: Vec<u32>,
    /// How many top bits of a hash its prefix takes.
    prefix_bits: u32,
    seed: u64,
}

fn hash(seed: u64, parts: &[&str]) -> u64 {
    // foldhash, not SipHash: a lookup hashes a short name or two, and SipHash's setup cost
    // showed in profiles. Collisions are harmless (see the module docs).
    foldhash::fast::FixedState::with_seed(seed).hash_one(parts)
}

impl KeyTable {
    /// The table of `entries`: an object index (ascending) and its identity.
    pub(crate) fn build<const N: usize>(entries: &[(usize, [&str; N])]) -> KeyTable {
        let mut seed = 0;
        loop {
            let mut pairs: Vec<(u64, usize)> = entries
                .iter()
                .enumerate()
                .map(|(at, (_, parts))| (hash(seed, parts), at))
                .collect();
            pairs.sort_unstable();
            let collides = pairs
                .windows(2)
                .any(|w| w[0].0 == w[1].0 && entries[w[0].1].1 != entries[w[1].1].1);
            if !collides {
                let hashes: Vec<u64> = pairs.iter().map(|&(h, _)| h).collect();
                // About one prefix per hash: the slice a lookup scans holds one or two.
                let prefix_bits = hashes.len().next_power_of_two().trailing_zeros();
                let prefixes = 1usize << prefix_bits;
                let mut starts = Vec::with_capacity(prefixes + 1);
                let mut at = 0;
                for prefix in 0..prefixes {
                    while at < hashes.len() && Self::prefix_of(hashes[at], prefix_bits) < prefix {
                        at += 1;
                    }
                    starts.push(at as u32);
                }
                starts.push(hashes.len() as u32);
                return KeyTable {
                    objects: pairs.iter().map(|&(_, at)| entries[at].0).collect(),
                    hashes,
                    starts,
                    prefix_bits,
                    seed,
                };
            }
            seed += 1;
        }
    }

    /// The objects whose identity is `parts`, ascending; `identity` gives an object's.
    pub(crate) fn get<'t, 'o, const N: usize>(
        &'t self,
        parts: [&str; N],
        identity: impl Fn(usize) -> [&'o str; N],
    ) -> &'t [usize] {
        let wanted = hash(self.seed, &parts);
        let prefix = Self::prefix_of(wanted, self.prefix_bits);
        let (Some(&from), Some(&to)) = (self.starts.get(prefix), self.starts.get(prefix + 1))
        else {
            return &[];
        };
        let (from, to) = (from as usize, to as usize);
        // Every hash with this prefix lies in `from..to`, sorted.
        let start = from + self.hashes[from..to].partition_point(|&h| h < wanted);
        let end = start + self.hashes[start..to].partition_point(|&h| h == wanted);
        match self.objects.get(start) {
            Some(&first) if end > start && identity(first) == parts => &self.objects[start..end],
            _ => &[],
        }
    }

    /// The top `bits` bits of `hash`: its place in `starts`.
    fn prefix_of(hash: u64, bits: u32) -> usize {
        if bits == 0 { 0 } else { (hash >> (64 - bits)) as usize }
    }

    /// The objects of each identity, one slice per identity.
    pub(crate) fn groups(&self) -> impl Iterator<Item = &[usize]> {
        let mut start = 0;
        std::iter::from_fn(move || {
            let &first = self.hashes.get(start)?;
            let end = start + self.hashes[start..].partition_point(|&h| h == first);
            let group = &self.objects[start..end];
            start = end;
            Some(group)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_object_of_an_identity_and_nothing_else() {
        let names = ["a", "b", "a", "c", "b", "a"];
        let entries: Vec<(usize, [&str; 2])> =
            names.iter().enumerate().map(|(i, n)| (i * 10, ["ns", *n])).collect();
        let table = KeyTable::build(&entries);
        let identity = |object: usize| ["ns", names[object / 10]];
        assert_eq!(table.get(["ns", "a"], identity), &[0, 20, 50]);
        assert_eq!(table.get(["ns", "b"], identity), &[10, 40]);
        assert_eq!(table.get(["ns", "c"], identity), &[30]);
        assert!(table.get(["ns", "d"], identity).is_empty());
        assert!(table.get(["other", "a"], identity).is_empty());
        let mut groups: Vec<&[usize]> = table.groups().collect();
        groups.sort();
        assert_eq!(groups, vec![&[0, 20, 50][..], &[10, 40], &[30]]);
        assert!(KeyTable::default().get(["ns", "a"], identity).is_empty());
        assert!(KeyTable::build::<2>(&[]).get(["ns", "a"], identity).is_empty());
    }

    /// Thousands of identities spread over every prefix of the table: each is found with all
    /// its objects, and near misses are not.
    #[test]
    fn large_tables_find_what_a_map_finds() {
        let names: Vec<String> = (0..5000).map(|i| format!("name-{}", i % 3700)).collect();
        let entries: Vec<(usize, [&str; 2])> =
            names.iter().enumerate().map(|(i, n)| (i, ["ns", n.as_str()])).collect();
        let table = KeyTable::build(&entries);
        let identity = |object: usize| entries[object].1;
        let mut expected: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
        for (i, name) in names.iter().enumerate() {
            expected.entry(name.as_str()).or_default().push(i);
        }
        for (name, objects) in &expected {
            assert_eq!(table.get(["ns", name], identity), objects.as_slice(), "{name}");
            assert!(table.get(["other", name], identity).is_empty(), "{name}");
        }
        assert!(table.get(["ns", "name-3700"], identity).is_empty());
        assert_eq!(table.groups().count(), expected.len());
    }

    #[test]
    fn parts_are_not_run_together() {
        // ("ab", "c") and ("a", "bc") are different identities.
        let entries = [(0, ["ab", "c"]), (1, ["a", "bc"])];
        let table = KeyTable::build(&entries);
        let identity = |object: usize| entries[object].1;
        assert_eq!(table.get(["ab", "c"], identity), &[0]);
        assert_eq!(table.get(["a", "bc"], identity), &[1]);
    }
}
