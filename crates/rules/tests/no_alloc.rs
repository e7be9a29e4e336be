//! Scanning allocates nothing once the scratch buffers and the flow state have grown.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use mamori_rules::{FlowRuleState, RuleSet, Scratch, Vars, parse_rules, synth};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn scanning_allocates_nothing_after_warm_up() {
    let text = synth::rules(2000, 3);
    let set = RuleSet::compile(parse_rules(&text).rules, &Vars::default());
    let mut packets = synth::payloads(300, 3);
    packets.extend(synth::attack_payloads(&text, 20));
    let mut scratch = Scratch::default();
    let mut hits = Vec::new();
    let mut flows: Vec<FlowRuleState> = vec![FlowRuleState::default(); packets.len()];
    let mut pass = |count: &mut usize| {
        for (p, flow) in packets.iter().zip(flows.iter_mut()) {
            hits.clear();
            set.scan(&p.context(), flow, &mut scratch, &mut hits);
            *count += hits.len();
        }
    };
    let mut warm = 0;
    // Two passes: buffers grow, regex caches fill, flowbits get their words.
    pass(&mut warm);
    pass(&mut warm);
    assert!(warm > 0, "the attack payloads match");
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut n = 0;
    pass(&mut n);
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(after - before, 0, "allocations during a warm pass");
    assert_eq!(n * 2, warm);
}
