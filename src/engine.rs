//! The container engine a plan is run by, said once: which engine (an enum,
//! parsed once from `--runtime`), how commands and scripts call it, and the
//! absolute path units use. Emitters, live checks and the start path decide
//! by [`EngineKind`], never by comparing its name; the name is what
//! templates and `-o json` show.

use serde::ser::SerializeStruct;

/// Which engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    Docker,
    Podman,
}

impl EngineKind {
    /// `--runtime`'s value (None: neither engine).
    pub fn parse(name: &str) -> Option<EngineKind> {
        match name {
            "docker" => Some(EngineKind::Docker),
            "podman" => Some(EngineKind::Podman),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Docker => "docker",
            EngineKind::Podman => "podman",
        }
    }

    /// Where a unit finds it unless `--runtime-path` says.
    pub fn default_unit_path(self) -> &'static str {
        match self {
            EngineKind::Docker => "/usr/bin/docker",
            EngineKind::Podman => "/usr/bin/podman",
        }
    }
}

/// The container engine, as the different outputs call it.
#[derive(Debug, Clone)]
pub struct Engine {
    pub kind: EngineKind,
    /// How commands and scripts call it: by name through `PATH`, or the
    /// `--runtime-path` given.
    pub command: String,
    /// The absolute path systemd units use.
    pub unit_path: String,
}

/// As templates and `-o json` have it: `name`, `command`, `unit_path`.
impl serde::Serialize for Engine {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut st = serializer.serialize_struct("Engine", 3)?;
        st.serialize_field("name", self.kind.name())?;
        st.serialize_field("command", &self.command)?;
        st.serialize_field("unit_path", &self.unit_path)?;
        st.end()
    }
}
