//! Configuration read once from the environment at start-up.

use std::path::PathBuf;

/// Where Galley keeps its data. `TABLE_NAME` selects AWS; its absence selects
/// the embedded default in `GALLEY_DATA_DIR` (default `.galley`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    Embedded { data_dir: PathBuf },
    Aws { table_name: String },
}

pub const DEFAULT_DATA_DIR: &str = ".galley";

impl Backend {
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The same rules over any variable source, so they can be tested.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Self {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        match set("TABLE_NAME") {
            Some(table_name) => Backend::Aws { table_name },
            None => {
                Backend::Embedded { data_dir: set("GALLEY_DATA_DIR").unwrap_or_else(|| DEFAULT_DATA_DIR.into()).into() }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_name_selects_aws_else_embedded_data_dir() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        };
        assert_eq!(
            Backend::from_lookup(env(&[("TABLE_NAME", "galley")])),
            Backend::Aws { table_name: "galley".into() }
        );
        assert_eq!(Backend::from_lookup(env(&[])), Backend::Embedded { data_dir: ".galley".into() });
        assert_eq!(
            Backend::from_lookup(env(&[("TABLE_NAME", " "), ("GALLEY_DATA_DIR", "/tmp/x")])),
            Backend::Embedded { data_dir: "/tmp/x".into() }
        );
    }
}
