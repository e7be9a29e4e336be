//! Signature rules: mamori's own OT rules (built in) and the files the
//! configuration names, with its variables, compiled once for every worker.

use std::sync::Arc;

use anyhow::Context;
use mamori_rules::{RuleSet, Vars};

use crate::config::RulesSection;

/// mamori's own OT rules (`rules/mamori-ot.rules`), built into the binary.
pub(crate) const BUILTIN: &str = include_str!("../../../rules/mamori-ot.rules");

/// The variables of the configuration over Suricata's defaults.
pub(crate) fn vars(section: &RulesSection) -> anyhow::Result<Vars> {
    let mut vars = Vars::default();
    for (name, value) in &section.address_vars {
        vars.set_address(name, value);
    }
    for (name, value) in &section.port_vars {
        vars.set_port(name, value);
    }
    vars.validate()
        .map_err(|e| anyhow::anyhow!("rules variables: {e:?}"))?;
    Ok(vars)
}

/// Loads the built-in rules (unless switched off) and the configured files. Rules
/// that cannot be used are skipped and counted (`mamori rules check` lists why);
/// `None` when no rule is left.
pub(crate) fn load(section: &RulesSection) -> anyhow::Result<Option<Arc<RuleSet>>> {
    let vars = vars(section)?;
    let mut text = String::new();
    if section.builtin {
        text.push_str(BUILTIN);
        text.push('\n');
    }
    for path in &section.files {
        let file = std::fs::read_to_string(path)
            .with_context(|| format!("reading the rule file {}", path.display()))?;
        text.push_str(&file);
        text.push('\n');
    }
    if text.trim().is_empty() {
        return Ok(None);
    }
    let (set, skipped, errors) = mamori_rules::load(&text, &vars);
    if !section.files.is_empty() && (!skipped.is_empty() || !errors.is_empty()) {
        eprintln!(
            "mamori: {} rules skipped and {} malformed (see `mamori rules check`)",
            skipped.len(),
            errors.len()
        );
    }
    Ok(Some(Arc::new(set)))
}
