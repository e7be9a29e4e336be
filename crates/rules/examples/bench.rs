//! Scanning throughput: `cargo run --release -p mamori-rules --example bench -- [RULES...]`
//! with synthetic ET-style rules (default 1000 10000), or `-- --file FILE` with a rule file.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let time = std::time::Duration::from_secs(3);
    let reports = if let [flag, path] = args.as_slice()
        && flag == "--file"
    {
        let text = std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned());
        match text {
            Ok(text) => vec![mamori_rules::bench::run_text(&text, time)],
            Err(e) => {
                eprintln!("{path}: {e}");
                std::process::exit(1);
            }
        }
    } else {
        let counts: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
        let counts = if counts.is_empty() {
            vec![1_000, 10_000]
        } else {
            counts
        };
        counts
            .into_iter()
            .map(|n| mamori_rules::bench::run(n, time))
            .collect()
    };
    for r in reports {
        println!("{r}");
        if !r.consistent {
            eprintln!("inconsistent hits between passes");
            std::process::exit(1);
        }
    }
}
