//! Deterministic benchmark workloads: generated from a seed, so every run (and every language) measures
//! the same documents and users.

use serde_json::{json, Value};

/// A small deterministic generator (SplitMix64): the benches need repeatability, not quality.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Workload 1: one flag, one condition with 3 person-property filters and a 50 % rollout.
pub fn single_flag_document() -> Value {
    json!({"flags": [{"id": 1, "key": "bench-flag", "active": true, "filters": {"groups": [{
        "properties": [
            {"key": "plan", "value": ["pro", "enterprise"], "operator": "exact", "type": "person"},
            {"key": "email", "value": "@example.com", "operator": "icontains", "type": "person"},
            {"key": "age", "value": 18, "operator": "gte", "type": "person"}
        ],
        "rollout_percentage": 50}]}}]})
}

/// A realistic mixed document of `n` flags (operators, multivariate, payloads, cohorts, dependencies).
pub fn mixed_document(n: usize, seed: u64) -> Value {
    let mut rng = Rng::new(seed);
    let mut flags = Vec::with_capacity(n);
    for i in 0..n {
        let mut conditions = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let mut props = Vec::new();
            for _ in 0..rng.below(4) {
                let key = format!("prop_{}", rng.below(20));
                let f = match rng.below(20) {
                    0..=5 => json!({"key": key, "value": format!("value-{}", rng.below(10)), "operator": "exact", "type": "person"}),
                    6..=7 => json!({"key": key, "value": [format!("v{}", rng.below(5)), format!("v{}", rng.below(5))], "operator": "exact", "type": "person"}),
                    8..=9 => json!({"key": key, "value": format!("{}", rng.below(100)), "operator": "gt", "type": "person"}),
                    10..=11 => json!({"key": "email", "value": "@example.com", "operator": "icontains", "type": "person"}),
                    12 => json!({"key": key, "value": format!("^user-{}\\d+$", rng.below(20)), "operator": "regex", "type": "person"}),
                    13 => json!({"key": "$app_version", "value": format!("1.{}.0", rng.below(10)), "operator": "semver_gte", "type": "person"}),
                    14 => json!({"key": "signed_up", "value": "-30d", "operator": "is_date_after", "type": "person"}),
                    15 => json!({"key": key, "value": null, "operator": "is_set", "type": "person"}),
                    16 => json!({"key": "id", "value": rng.below(5), "type": "cohort"}),
                    17 if i > 0 => {
                        let dep = format!("flag-{}", rng.below(i as u64));
                        json!({"key": dep, "value": true, "operator": "flag_evaluates_to", "type": "flag", "dependency_chain": [dep]})
                    }
                    _ => json!({"key": key, "value": "x", "operator": "not_icontains", "type": "person"}),
                };
                props.push(f);
            }
            let rollout = [100, 50, 20, 0][rng.below(4) as usize];
            conditions.push(json!({"properties": props, "rollout_percentage": rollout}));
        }
        let mut filters = json!({"groups": conditions});
        if rng.below(4) == 0 {
            filters["multivariate"] = json!({"variants": [
                {"key": "control", "rollout_percentage": 50}, {"key": "test", "rollout_percentage": 50}]});
            filters["payloads"] = json!({"test": "{\"color\": \"blue\", \"size\": 3}"});
        } else if rng.below(3) == 0 {
            filters["payloads"] = json!({"true": "{\"enabled\": true}"});
        }
        flags.push(json!({"id": i, "key": format!("flag-{i}"), "active": rng.below(10) != 0, "version": 1, "filters": filters}));
    }
    let cohorts: serde_json::Map<String, Value> = (0..5)
        .map(|c| {
            (c.to_string(), json!({"type": "OR", "values": [{"type": "AND", "values": [
                {"key": format!("prop_{c}"), "value": "value-1", "operator": "exact", "type": "person"},
                {"key": "email", "value": "spam", "operator": "icontains", "type": "person", "negation": true}]}]}))
        })
        .collect();
    json!({"flags": flags, "group_type_mapping": {"0": "company"}, "cohorts": cohorts})
}

/// Person properties that every filter of the mixed document can read (so evaluation is conclusive).
pub fn full_properties(rng: &mut Rng, user: u64) -> Vec<(String, Value)> {
    let mut p: Vec<(String, Value)> = (0..20).map(|k| (format!("prop_{k}"), json!(format!("value-{}", rng.below(10))))).collect();
    p.push(("email".into(), json!(format!("user-{user}@example.com"))));
    p.push(("$app_version".into(), json!(format!("1.{}.2", rng.below(10)))));
    p.push(("signed_up".into(), json!("2026-11-01T00:00:00Z")));
    p.push(("plan".into(), json!("pro")));
    p.push(("age".into(), json!(30)));
    p
}
