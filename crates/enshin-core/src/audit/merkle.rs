//! The RFC 6962 Merkle tree of the access log (LOG-4): leaf and node hashes with distinct
//! prefixes, tree heads of any size, inclusion and consistency proofs (RFC 6962 §2.1).

use ring::digest::{Context, SHA256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut ctx = Context::new(&SHA256);
    for part in parts {
        ctx.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The hash of a leaf: SHA-256(0x00 || data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    sha256(&[&[0x00], data])
}

/// The hash of an inner node: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    sha256(&[&[0x01], left, right])
}

/// The root of an empty tree: SHA-256 of nothing.
pub fn empty_root() -> Hash {
    sha256(&[])
}

/// The largest power of two smaller than `n` (n ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The tree head of `leaves` (already leaf-hashed), as RFC 6962 defines it.
pub fn root(leaves: &[Hash]) -> Hash {
    let mut frontier = Frontier::default();
    for leaf in leaves {
        frontier.push(*leaf);
    }
    frontier.root()
}

/// The right edge of a growing tree: the roots of its perfect subtrees, largest first. Appending
/// is O(log n) and the head of the whole tree is available at any size; the writer keeps one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// (height, root) of each perfect subtree, from the left.
    subtrees: Vec<(u32, Hash)>,
}

impl Frontier {
    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut node = (0u32, leaf);
        while let Some(&(height, left)) = self.subtrees.last() {
            if height != node.0 {
                break;
            }
            self.subtrees.pop();
            node = (height + 1, node_hash(&left, &node.1));
        }
        self.subtrees.push(node);
        self.size += 1;
    }

    /// A text form to store beside a checkpoint: `size` then `height:hash` per subtree.
    pub fn encode(&self) -> String {
        let mut out = self.size.to_string();
        for (height, hash) in &self.subtrees {
            out.push_str(&format!(" {height}:{}", crate::encoding::to_hex(hash)));
        }
        out
    }

    /// Reads [`Frontier::encode`]'s form back; `None` if it is not consistent with its size.
    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split(' ');
        let size: u64 = parts.next()?.parse().ok()?;
        let mut subtrees = Vec::new();
        for part in parts {
            let (height, hash) = part.split_once(':')?;
            let hash: Hash = crate::encoding::from_hex(hash)?.try_into().ok()?;
            subtrees.push((height.parse::<u32>().ok()?, hash));
        }
        let covered: u64 = subtrees
            .iter()
            .map(|(h, _)| 1u64.checked_shl(*h).unwrap_or(0))
            .sum();
        let decreasing = subtrees.windows(2).all(|w| w[0].0 > w[1].0);
        (covered == size && decreasing).then_some(Self { size, subtrees })
    }

    /// The tree head at the current size.
    pub fn root(&self) -> Hash {
        let mut iter = self.subtrees.iter().rev();
        let Some(&(_, mut acc)) = iter.next() else {
            return empty_root();
        };
        for (_, left) in iter {
            acc = node_hash(left, &acc);
        }
        acc
    }
}

/// The audit path of leaf `index` in the tree of `leaves` (RFC 6962 §2.1.1), leaf side first.
pub fn inclusion_proof(leaves: &[Hash], index: usize) -> Option<Vec<Hash>> {
    if index >= leaves.len() {
        return None;
    }
    let mut path = Vec::new();
    subproof_inclusion(leaves, index, &mut path);
    Some(path)
}

fn subproof_inclusion(leaves: &[Hash], index: usize, path: &mut Vec<Hash>) {
    if leaves.len() <= 1 {
        return;
    }
    let k = split(leaves.len());
    if index < k {
        subproof_inclusion(&leaves[..k], index, path);
        path.push(root(&leaves[k..]));
    } else {
        subproof_inclusion(&leaves[k..], index - k, path);
        path.push(root(&leaves[..k]));
    }
}

/// Whether `path` proves leaf `leaf` at `index` in a tree of `size` with head `root`
/// (the verification algorithm of RFC 9162 §2.1.3.2, which RFC 6962 paths satisfy).
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, path: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && &r == root
}

/// The consistency proof between the tree heads at `old` leaves and at all of `leaves`
/// (RFC 6962 §2.1.2).
pub fn consistency_proof(leaves: &[Hash], old: usize) -> Option<Vec<Hash>> {
    if old == 0 || old > leaves.len() {
        return None;
    }
    let mut path = Vec::new();
    subproof_consistency(leaves, old, true, &mut path);
    Some(path)
}

fn subproof_consistency(leaves: &[Hash], m: usize, complete: bool, path: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !complete {
            path.push(root(leaves));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof_consistency(&leaves[..k], m, complete, path);
        path.push(root(&leaves[k..]));
    } else {
        subproof_consistency(&leaves[k..], m - k, false, path);
        path.push(root(&leaves[..k]));
    }
}

/// Whether `path` proves that the tree of `old` leaves with head `old_root` is a prefix of the
/// tree of `new` leaves with head `new_root` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    path: &[Hash],
) -> bool {
    if old == 0 || old > new {
        return false;
    }
    if old == new {
        return path.is_empty() && old_root == new_root;
    }
    let mut path: Vec<Hash> = path.to_vec();
    if old.is_power_of_two() {
        path.insert(0, *old_root);
    }
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (mut fn_, mut sn) = (old - 1, new - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && &fr == old_root && &sr == new_root
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    /// RFC 6962's definition, written out recursively, to check the frontier against.
    fn reference_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n);
                node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn known_answers() {
        // The empty tree and a one-leaf tree of the empty string (RFC 6962 test vectors).
        assert_eq!(
            crate::encoding::to_hex(&empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            crate::encoding::to_hex(&leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn the_frontier_matches_the_definition_at_every_size() {
        let all = leaves(70);
        for n in 0..=all.len() {
            assert_eq!(root(&all[..n]), reference_root(&all[..n]), "size {n}");
        }
    }

    #[test]
    fn a_frontier_survives_its_text_form() {
        let mut frontier = Frontier::default();
        for leaf in leaves(45) {
            frontier.push(leaf);
        }
        let back = Frontier::decode(&frontier.encode()).unwrap();
        assert_eq!(back, frontier);
        assert_eq!(Frontier::decode("0"), Some(Frontier::default()));
        assert_eq!(Frontier::decode("3 0:00"), None);
        assert_eq!(Frontier::decode("junk"), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn inclusion_proofs_verify_and_any_flipped_byte_fails(
            n in 1usize..300, pick in any::<prop::sample::Index>(), flip in any::<prop::sample::Index>(), bit in 0u8..8
        ) {
            let all = leaves(n);
            let index = pick.index(n);
            let head = root(&all);
            let path = inclusion_proof(&all, index).unwrap();
            prop_assert!(verify_inclusion(&all[index], index as u64, n as u64, &path, &head));
            // Flip one bit of the leaf, of the root, or of a path element: it must fail.
            let mut blob: Vec<u8> = all[index].to_vec();
            blob.extend(head);
            for p in &path { blob.extend(p); }
            let at = flip.index(blob.len());
            blob[at] ^= 1 << bit;
            let leaf: Hash = blob[..32].try_into().unwrap();
            let bad_root: Hash = blob[32..64].try_into().unwrap();
            let bad_path: Vec<Hash> = blob[64..].chunks(32).map(|c| c.try_into().unwrap()).collect();
            prop_assert!(!verify_inclusion(&leaf, index as u64, n as u64, &bad_path, &bad_root));
            prop_assert!(!verify_inclusion(&all[index], index as u64 + 1, n as u64, &path, &head));
        }

        #[test]
        fn consistency_proofs_verify_and_any_flipped_byte_fails(
            n in 1usize..300, pick in any::<prop::sample::Index>(), flip in any::<prop::sample::Index>(), bit in 0u8..8
        ) {
            let all = leaves(n);
            let old = pick.index(n) + 1;
            let (old_root, new_root) = (root(&all[..old]), root(&all));
            let path = consistency_proof(&all, old).unwrap();
            prop_assert!(verify_consistency(old as u64, n as u64, &old_root, &new_root, &path));
            if old < n {
                let mut blob: Vec<u8> = old_root.to_vec();
                blob.extend(new_root);
                for p in &path { blob.extend(p); }
                let at = flip.index(blob.len());
                blob[at] ^= 1 << bit;
                let o: Hash = blob[..32].try_into().unwrap();
                let r: Hash = blob[32..64].try_into().unwrap();
                let p: Vec<Hash> = blob[64..].chunks(32).map(|c| c.try_into().unwrap()).collect();
                prop_assert!(!verify_consistency(old as u64, n as u64, &o, &r, &p));
            }
        }
    }
}
