//! The configuration file: one typed TOML document, every section optional.
//!
//! `--config FILE` (or `MAMORI_CONFIG`) names it; without either, `./mamori.toml` is
//! read when it exists. Command-line options win over the file, the file over the
//! defaults. Unknown keys are errors that name the key (`detect.zones[0].nets: ...`),
//! so a typo never silently turns a setting off. `mamori.example.toml` at the
//! repository root shows every key with its default.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mamori_detect::DetectConfig;
use serde::Deserialize;

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Config {
    /// `[store]`.
    pub(crate) store: StoreSection,
    /// `[rules]`.
    pub(crate) rules: RulesSection,
    /// `[portal]`.
    pub(crate) portal: PortalSection,
    /// `[detect]`: owned by the detect crate.
    pub(crate) detect: DetectConfig,
}

/// Where the store lives.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct StoreSection {
    /// SQLite file (default `mamori.db`; `--db` wins).
    pub(crate) path: Option<PathBuf>,
}

/// Signature rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RulesSection {
    /// Load mamori's own OT rules (built into the binary).
    pub(crate) builtin: bool,
    /// More rule files (Suricata syntax), in order.
    pub(crate) files: Vec<PathBuf>,
    /// Address variables (`HOME_NET = "[10.0.0.0/8]"`), replacing the defaults.
    pub(crate) address_vars: BTreeMap<String, String>,
    /// Port variables (`HTTP_PORTS = "[80,8080]"`).
    pub(crate) port_vars: BTreeMap<String, String>,
}

impl Default for RulesSection {
    fn default() -> Self {
        RulesSection {
            builtin: true,
            files: Vec::new(),
            address_vars: BTreeMap::new(),
            port_vars: BTreeMap::new(),
        }
    }
}

/// The web portal.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct PortalSection {
    /// Address and port to listen on (loopback unless configured otherwise).
    pub(crate) bind: String,
    /// Allow `bind` to be an address other than loopback.
    pub(crate) allow_remote: bool,
}

impl Default for PortalSection {
    fn default() -> Self {
        PortalSection {
            bind: "127.0.0.1:8080".into(),
            allow_remote: false,
        }
    }
}

/// Why a configuration file was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not TOML.
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
    /// A key is unknown or its value wrong.
    #[error("{path}: {key}: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
}

/// Parses and validates configuration text (`path` names it in errors).
pub(crate) fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let de = toml::de::Deserializer::parse(text).map_err(|e| ConfigError::Syntax {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        ConfigError::Invalid {
            path: path.to_path_buf(),
            key: if key == "." {
                "(top level)".into()
            } else {
                key
            },
            message: e.into_inner().message().trim().to_string(),
        }
    })?;
    config.detect.validate().map_err(|e| match e {
        mamori_detect::ConfigError::Invalid { key, message } => ConfigError::Invalid {
            path: path.to_path_buf(),
            key,
            message,
        },
        other => ConfigError::Syntax {
            path: path.to_path_buf(),
            message: other.to_string(),
        },
    })?;
    Ok(config)
}

/// Reads the configuration: `explicit` when given (it must exist), else
/// `./mamori.toml` when present, else the defaults.
pub(crate) fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let default = PathBuf::from("mamori.toml");
            if !default.exists() {
                return Ok(Config::default());
            }
            default
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })?;
    parse(&text, &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_is_valid_and_empty_text_is_the_default() {
        let example = include_str!("../../../mamori.example.toml");
        let config = parse(example, Path::new("mamori.example.toml")).unwrap();
        assert!(config.rules.builtin);
        assert_eq!(config.portal.bind, "127.0.0.1:8080");
        let empty = parse("", Path::new("x")).unwrap();
        assert_eq!(empty.detect, DetectConfig::default());
        assert!(empty.store.path.is_none());
    }

    #[test]
    fn errors_name_the_key() {
        let err = parse("[rules]\nbuiltn = false\n", Path::new("m.toml")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("m.toml") && text.contains("builtn"), "{text}");
        let err = parse("[portal]\nbind = 8080\n", Path::new("m.toml")).unwrap_err();
        assert!(err.to_string().contains("portal.bind"), "{err}");
        let err = parse("[detect]\nlearning_hours = \"x\"\n", Path::new("m.toml")).unwrap_err();
        assert!(err.to_string().contains("detect.learning_hours"), "{err}");
        let err = parse("[store\n", Path::new("m.toml")).unwrap_err();
        assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
    }
}
