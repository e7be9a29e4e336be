//! Scanning throughput with synthetic ET-style rules:
//! `cargo run --release -p mamori-rules --example bench -- [RULES...]` (default 1000 10000).
fn main() {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let counts = if counts.is_empty() {
        vec![1_000, 10_000]
    } else {
        counts
    };
    for n in counts {
        let r = mamori_rules::bench::run(n, std::time::Duration::from_secs(3));
        println!("{r}");
        if !r.consistent {
            eprintln!("inconsistent hits between passes");
            std::process::exit(1);
        }
    }
}
