//! The hot path allocates nothing: evaluating a decided flag (string, list, number and contains filters,
//! a rollout and a variant) performs zero heap allocations. A counting global allocator proves it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use hogflags::{EvaluationContext, FlagSnapshot};

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Only the measuring thread counts: the test harness's own threads may allocate meanwhile.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.try_with(Cell::get).unwrap_or(false) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn evaluating_one_flag_does_not_allocate() {
    let doc = br#"{"flags":[{"key":"f","active":true,"filters":{
        "groups":[{"properties":[
            {"key":"plan","value":["pro","enterprise"],"operator":"exact","type":"person"},
            {"key":"email","value":"@Example.com","operator":"icontains","type":"person"},
            {"key":"age","value":18,"operator":"gte","type":"person"},
            {"key":"country","value":"fr","operator":"is_not","type":"person"}],
          "rollout_percentage":90}],
        "multivariate":{"variants":[{"key":"a","rollout_percentage":50},{"key":"b","rollout_percentage":50}]},
        "payloads":{"a":"{\"x\":1}","b":"[1,2]"}}}]}"#;
    let snap = FlagSnapshot::from_json(doc).unwrap();
    let ctx = EvaluationContext::new("user-3")
        .with_person_property("plan", "Pro")
        .with_person_property("email", "u3@example.com")
        .with_person_property("age", 40)
        .with_person_property("country", "DE");
    let first = snap.evaluate("f", &ctx);
    assert!(first.decided().is_some(), "{first:?}");
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    COUNTING.with(|c| c.set(true));
    for _ in 0..1000 {
        std::hint::black_box(snap.evaluate("f", &ctx));
    }
    COUNTING.with(|c| c.set(false));
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(after - before, 0, "evaluate allocated {} times in 1000 calls", after - before);
}
