//! Prints the `rules check` report of a file:
//! `cargo run -p mamori-rules --example check -- FILE [--all]` (`--all`: every skip reason).
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: check FILE [--all]");
        std::process::exit(2);
    };
    match mamori_rules::check_file(std::path::Path::new(path), &mamori_rules::Vars::default()) {
        Ok(report) => {
            print!("{report}");
            if args.iter().any(|a| a == "--all") {
                for r in report.reasons() {
                    println!("{:>7}  {}", r.count, r.reason);
                }
            }
        }
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    }
}
