//! `mamori`: the command-line front of the passive OT network monitor.
//!
//! A thin layer of glue: it parses arguments ([`cli`]), turns them into the library
//! crates' configurations, runs them, and reports. Library crates return typed errors;
//! here they become `anyhow` errors with context, printed once, with a non-zero exit.

mod analysis;
mod cli;
mod cmd;
mod config;
mod inputs;
mod report;
mod signatures;
mod store_sink;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cmd::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mamori: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
