//! Small commands: `config check`, `rules check`, `assets export`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use mamori_assets::Lang;
use mamori_store::{AssetQuery, LedgerStore, SqliteStore};

use crate::cli::{
    AssetsArgs, AssetsCommand, ConfigArgs, ConfigCommand, ExportFormat, RulesArgs, RulesCommand,
};
use crate::{config, signatures};

/// `mamori config check FILE`.
pub(crate) fn config(args: &ConfigArgs) -> anyhow::Result<ExitCode> {
    let ConfigCommand::Check { file } = &args.command;
    let config = config::load(Some(file))?;
    signatures::vars(&config.rules)?;
    println!("{}: valid", file.display());
    println!("{}", mamori_detect::Summary::of(&config.detect));
    println!(
        "rules: built-in OT rules {}, {} more file(s); portal on {}",
        if config.rules.builtin { "on" } else { "off" },
        config.rules.files.len(),
        config.portal.bind
    );
    Ok(ExitCode::SUCCESS)
}

/// `mamori rules check FILE...`: how many rules load, and why the others do not.
pub(crate) fn rules(args: &RulesArgs) -> anyhow::Result<ExitCode> {
    let RulesCommand::Check { files, config } = &args.command;
    let config = config::load(config.as_deref())?;
    let vars = signatures::vars(&config.rules)?;
    for file in files {
        let report = mamori_rules::check_file(file, &vars)
            .with_context(|| format!("reading {}", file.display()))?;
        println!("{}:\n{report}", file.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `mamori assets export`: the stored ledger as CSV (UTF-8 with BOM, for Excel) or JSON.
pub(crate) fn assets(args: &AssetsArgs) -> anyhow::Result<ExitCode> {
    let AssetsCommand::Export { format, lang, out } = &args.command;
    let store = SqliteStore::open(&args.db)
        .with_context(|| format!("opening the store {}", args.db.display()))?;
    let rows = store.assets(&AssetQuery::default())?;
    let mut sink: Box<dyn Write> = match out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let lang = if lang == "ja" { Lang::Ja } else { Lang::En };
    match format {
        ExportFormat::Csv => {
            mamori_assets::write_csv(&mut sink, &rows, lang)?;
        }
        ExportFormat::Json => {
            mamori_assets::write_json(&mut sink, &rows)?;
        }
    }
    sink.flush()?;
    Ok(ExitCode::SUCCESS)
}
