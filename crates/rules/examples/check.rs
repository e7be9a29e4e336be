//! Prints the `rules check` report of a file: `cargo run -p mamori-rules --example check -- FILE`.
fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: check FILE");
        std::process::exit(2);
    };
    match mamori_rules::check_file(std::path::Path::new(&path), &mamori_rules::Vars::default()) {
        Ok(report) => print!("{report}"),
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    }
}
