//! PostHog's bucketing hash (`sha1_60_v1`): the top 60 bits of SHA-1(prefix + identifier + salt),
//! divided by 2^60 − 1 in binary64. Both operands are converted to binary64 *before* the one division;
//! rounding the exact rational once instead gives a different last bit for some inputs.

use sha1::{Digest, Sha1};

/// 2^60 − 1, which rounds to exactly 2^60 as a binary64.
const LONG_SCALE: u64 = 0x0FFF_FFFF_FFFF_FFFF;

/// The server truncates distinct ids to this many Unicode scalar values before hashing.
pub const MAX_IDENTIFIER_CHARS: usize = 200;

/// Hash of `prefix + identifier + salt` in [0, 1], exactly as every PostHog implementation computes it.
/// No allocation: the three parts are fed to SHA-1 in turn.
pub fn hash_parts(prefix: &str, identifier: &str, salt: &str) -> f64 {
    let mut sha = Sha1::new();
    sha.update(prefix.as_bytes());
    sha.update(identifier.as_bytes());
    sha.update(salt.as_bytes());
    let digest = sha.finalize();
    let mut top = [0u8; 8];
    top.copy_from_slice(&digest[..8]);
    let n = u64::from_be_bytes(top) >> 4;
    n as f64 / LONG_SCALE as f64
}

/// Rollout or variant hash for a flag, with the server's identifier rules: an empty identifier hashes
/// to 0.0 without hashing, and identifiers are truncated to 200 Unicode scalar values.
/// `prefix` is the flag key followed by `"."`.
pub fn flag_hash(prefix: &str, identifier: &str, salt: &str) -> f64 {
    if identifier.is_empty() {
        return 0.0;
    }
    hash_parts(prefix, truncate_identifier(identifier), salt)
}

/// Holdout membership hash: `"holdout-" + identifier`, no flag key, no empty-id short-circuit.
pub fn holdout_hash(identifier: &str) -> f64 {
    hash_parts("holdout-", truncate_identifier(identifier), "")
}

/// The first 200 Unicode scalar values of `id` (a borrowed slice; no allocation).
pub fn truncate_identifier(id: &str) -> &str {
    if id.len() <= MAX_IDENTIFIER_CHARS {
        return id; // at most 200 bytes ⇒ at most 200 scalar values
    }
    match id.char_indices().nth(MAX_IDENTIFIER_CHARS) {
        Some((byte_index, _)) => &id[..byte_index],
        None => id,
    }
}

/// `included(p) = p == 100 || hash <= p / 100`, computed in binary64.
pub fn in_rollout(percentage: f64, hash: impl FnOnce() -> f64) -> bool {
    if percentage == 100.0 {
        return true;
    }
    hash() <= percentage / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_edge_is_bit_exact() {
        let h = hash_parts("beta-search.", "user-17", "");
        assert_eq!(h.to_bits(), 0x3f82a3a8af87bb6a);
    }

    #[test]
    fn empty_identifier_hashes_to_zero_but_holdout_does_not() {
        assert_eq!(flag_hash("beta-search.", "", ""), 0.0);
        assert_eq!(holdout_hash(""), 0.9268829483920294);
    }

    #[test]
    fn truncation_counts_scalar_values() {
        let long: String = "é".repeat(250);
        let t = truncate_identifier(&long);
        assert_eq!(t.chars().count(), 200);
        assert_eq!(truncate_identifier("short"), "short");
    }

    #[test]
    fn rollout_is_inclusive() {
        assert!(in_rollout(50.0, || 0.5));
        assert!(!in_rollout(50.0, || 0.5000000000000001));
        assert!(in_rollout(0.0, || 0.0));
        assert!(in_rollout(100.0, || unreachable!()));
    }
}
