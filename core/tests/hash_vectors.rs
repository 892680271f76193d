//! Every bit-exact hash vector in `tests/vectors/hash-vectors.json` (PostHog's contract vectors, holdout
//! vectors and the shared 1000-user tables) must reproduce to the last bit.

use hogflags::hash::{hash_parts, truncate_identifier};
use serde_json::Value;

#[test]
fn all_hash_vectors_are_bit_exact() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/hash-vectors.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let vectors = doc["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 3000, "expected the full vector set, got {}", vectors.len());
    let mut failures = Vec::new();
    for v in vectors {
        let prefix = v["prefix"].as_str().unwrap();
        let id = v["distinct_id"].as_str().unwrap();
        let salt = v["salt"].as_str().unwrap();
        let expected = u64::from_str_radix(v["expected_hash_binary64_hex"].as_str().unwrap(), 16).unwrap();
        // The input as the vector states it (truncation vectors already carry the truncated id).
        let got = hash_parts(prefix, id, salt).to_bits();
        if got != expected {
            failures.push(format!("{prefix}{id}{salt}: got {got:016x}, want {expected:016x}"));
        }
        if let Some(before) = v.get("identifier_before_truncation").and_then(Value::as_str) {
            assert_eq!(truncate_identifier(before), id, "truncation of {before:?}");
        }
    }
    assert!(failures.is_empty(), "{} hash mismatches:\n{}", failures.len(), failures.join("\n"));
}
