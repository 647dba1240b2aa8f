//! Lookup tables from an object's identity (namespace and name, or its whole key) to its
//! index, without copying a single name: a list of 64-bit hashes of the identities, sorted,
//! beside the object indices. At 40,000 objects this takes about 16 bytes per object, where
//! hash maps keyed by owned strings took about 300, and a lookup allocates nothing.
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
                return KeyTable {
                    hashes: pairs.iter().map(|&(h, _)| h).collect(),
                    objects: pairs.iter().map(|&(_, at)| entries[at].0).collect(),
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
        let start = self.hashes.partition_point(|&h| h < wanted);
        let end = start + self.hashes[start..].partition_point(|&h| h == wanted);
        match self.objects.get(start) {
            Some(&first) if end > start && identity(first) == parts => &self.objects[start..end],
            _ => &[],
        }
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
