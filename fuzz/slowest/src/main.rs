//! Loads each input (bytes up to the first 0xFF are a definitions document, the rest a context JSON, as
//! the `evaluate` and `c_json` targets read them) and times loading, `evaluate_all`, and each flag alone
//! (best of 3 runs each, to leave out scheduler noise). Prints the slowest of each with the input's name;
//! with `--each`, also one line per input. Arguments are folders (every file in them) or files.
use std::time::{Duration, Instant};

use hogflags::{EvaluationContext, FlagSnapshot};

fn best<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..3 {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed());
        out = Some(v);
    }
    (best, out.unwrap())
}

fn main() {
    let mut files = Vec::new();
    let mut each = false;
    for arg in std::env::args().skip(1) {
        if arg == "--each" {
            each = true;
        } else if std::path::Path::new(&arg).is_dir() {
            for e in std::fs::read_dir(&arg).unwrap_or_else(|e| panic!("{arg}: {e}")) {
                files.push(e.unwrap().path());
            }
        } else {
            files.push(arg.into());
        }
    }
    files.sort();
    let (mut loaded, mut evaluations) = (0usize, 0usize);
    let mut slowest_load = (Duration::ZERO, String::new(), 0usize);
    let mut slowest_all = (Duration::ZERO, String::new(), 0usize);
    let mut slowest_one = (Duration::ZERO, String::new(), String::new());
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let split = data.iter().position(|&b| b == 0xFF).unwrap_or(data.len());
        let (doc, rest) = data.split_at(split);
        let name = path.display().to_string();
        let (load, snap) = best(|| FlagSnapshot::from_json(doc));
        if load > slowest_load.0 {
            slowest_load = (load, name.clone(), doc.len());
        }
        let Ok(snap) = snap else {
            if each {
                println!("{name}: {} bytes, refused in {load:?}", doc.len());
            }
            continue;
        };
        loaded += 1;
        let ctx_text = rest.get(1..).and_then(|r| std::str::from_utf8(r).ok()).unwrap_or("{}");
        let ctx = EvaluationContext::from_json(ctx_text).unwrap_or_else(|_| EvaluationContext::new("fuzz-user"));
        let (t_all, all) = best(|| snap.evaluate_all(&ctx).len());
        if t_all > slowest_all.0 {
            slowest_all = (t_all, name.clone(), all);
        }
        let mut worst = (std::time::Duration::ZERO, String::new());
        for info in snap.flags() {
            let (t, _) = best(|| snap.evaluate(info.key, &ctx).decided().is_some());
            evaluations += 1;
            if t > worst.0 {
                worst = (t, info.key.to_owned());
            }
        }
        if worst.0 > slowest_one.0 {
            slowest_one = (worst.0, name.clone(), worst.1.clone());
        }
        if each {
            println!(
                "{name}: {} bytes, {all} flags ({} skipped): load {load:?}, evaluate_all {t_all:?}, slowest flag {:?} {:?}",
                doc.len(),
                snap.skipped().len(),
                worst.1,
                worst.0
            );
        }
    }
    println!("inputs {}, documents loaded {loaded}, single-flag evaluations timed {evaluations}", files.len());
    println!("slowest load: {:?} ({} bytes) {}", slowest_load.0, slowest_load.2, slowest_load.1);
    println!("slowest evaluate_all: {:?} ({} flags) {}", slowest_all.0, slowest_all.2, slowest_all.1);
    println!("slowest single evaluation: {:?} (flag {:?}) {}", slowest_one.0, slowest_one.2, slowest_one.1);
}
