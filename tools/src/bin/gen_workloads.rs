//! Writes the benchmark workloads (deterministic, from fixed seeds) as JSON files, so that every
//! language's benchmark measures exactly the same definitions and users.
//!
//! `cargo run --release -p hogflags-tools --bin gen_workloads -- target/bench/workloads`
//!
//! Files: `w1_definitions.json` + `w1_users.json` (one flag, 3 filters, 50 % rollout; 100 000 users),
//! `w2_definitions.json` + `w2_users.json` (a mixed 100-flag document; 10 000 users),
//! `w3_definitions_1000.json`, `w3_definitions_10000.json` (load workloads).
//!
//! With `--fixture FILE`, it also writes the binding tests' fixture: the w2 document and its first 200
//! users in one file (committed as `tests/fixtures/mixed-100.json`, so tests need no generated files).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

#[allow(dead_code)]
#[path = "../../../core/benches/workload.rs"]
mod workload;

fn write(dir: &Path, name: &str, value: &Value) {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(value).unwrap()).unwrap_or_else(|e| panic!("{path:?}: {e}"));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let fixture = args.iter().position(|a| a == "--fixture").and_then(|i| args.get(i + 1)).map(PathBuf::from);
    let dir = args.iter().find(|a| !a.starts_with("--") && Some(PathBuf::from(a.as_str())) != fixture);
    let dir = PathBuf::from(dir.map_or("target/bench/workloads", String::as_str));
    std::fs::create_dir_all(&dir).unwrap();

    write(&dir, "w1_definitions.json", &workload::single_flag_document());
    let mut rng = workload::Rng::new(1);
    let plans = ["free", "pro", "enterprise", "team"];
    let users: Vec<Value> = (0..100_000u64)
        .map(|u| {
            let plan = plans[rng.below(4) as usize];
            let domain = if rng.below(3) == 0 { "example.com" } else { "mail.test" };
            json!({"distinct_id": format!("user-{u}"), "person_properties": {
                "plan": plan, "email": format!("user-{u}@{domain}"), "age": 10 + rng.below(60),
                "country": "DE", "$browser": "Firefox"}})
        })
        .collect();
    write(&dir, "w1_users.json", &Value::Array(users));

    let w2 = workload::mixed_document(100, 7);
    write(&dir, "w2_definitions.json", &w2);
    let mut rng = workload::Rng::new(11);
    let users: Vec<Value> = (0..10_000u64)
        .map(|u| {
            let props: serde_json::Map<String, Value> = workload::full_properties(&mut rng, u).into_iter().collect();
            json!({"distinct_id": format!("user-{u}"), "person_properties": props})
        })
        .collect();
    if let Some(path) = &fixture {
        let fixture = json!({"definitions": w2, "users": users[..200]});
        std::fs::write(path, serde_json::to_vec(&fixture).unwrap()).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    }
    write(&dir, "w2_users.json", &Value::Array(users));

    for n in [1_000usize, 10_000] {
        write(&dir, &format!("w3_definitions_{n}.json"), &workload::mixed_document(n, 3));
    }
    println!("workloads written to {}", dir.display());
}
