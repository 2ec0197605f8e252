//! Why options cannot make a plan: upstream's checks in its order, then
//! ours, as values. Each variant's `Display` is the user's line (through
//! `crate::error::executing` where it carries upstream's prefix).

use super::Origin;
use crate::config::ConfigError;
use crate::ip::methods::MethodError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    InvalidIp {
        value: String,
    },
    WrongIpVersion {
        flag: String,
    },
    InvalidAs {
        value: String,
    },
    UnknownBackend {
        value: String,
    },
    Method(MethodError),
    NoNodeName,
    Config(ConfigError),
    InlineCertificates,
    InvalidIfPrefix {
        prefix: String,
    },
    NoNetworkingWithLabels,
    /// A host path option given empty (`origin`: the option).
    EmptyHostPath {
        origin: Origin,
    },
    EmptyImage,
    ImageLooksLikeOption {
        image: String,
    },
    ColonInHostPath {
        origin: Origin,
        path: String,
    },
    Nul {
        origin: Origin,
    },
    /// A control character other than a tab (a line break, an escape).
    ControlCharacter {
        origin: Origin,
    },
    EnvBadName {
        word: String,
    },
    EnvSetByPlan {
        name: String,
        option: &'static str,
    },
    EnvTwice {
        name: String,
    },
    EnvByNameUnset {
        name: String,
    },
}

impl PlanError {
    /// Whether calicoctl v3.31 and later write this line in lower case:
    /// upstream's returned errors, not the address and AS number checks it
    /// prints itself, nor ours.
    pub fn lowered_from_v3_31(&self) -> bool {
        match self {
            PlanError::WrongIpVersion { .. }
            | PlanError::UnknownBackend { .. }
            | PlanError::NoNodeName => true,
            PlanError::Method(e) => e.lowered_from_v3_31(),
            PlanError::Config(e) => e.lowered_from_v3_31(),
            _ => false,
        }
    }
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        use crate::error::executing;
        let line = |f: &mut std::fmt::Formatter, a: std::fmt::Arguments| executing(f, a);
        match self {
            PlanError::InvalidIp { value } => {
                line(f, format_args!("invalid IP address specified: {value}"))
            }
            PlanError::WrongIpVersion { flag } => {
                line(f, format_args!("{flag} is wrong IP version"))
            }
            PlanError::InvalidAs { value } => {
                line(f, format_args!("invalid AS Number specified: {value}"))
            }
            PlanError::UnknownBackend { value } => {
                line(f, format_args!("unknown backend '{value}'"))
            }
            PlanError::Method(e) => e.fmt(f),
            PlanError::NoNodeName => line(f, format_args!("unable to determine node name")),
            PlanError::Config(e) => write!(f, "{e}"),
            PlanError::InlineCertificates => line(
                f,
                format_args!(
                    "inline etcdKey, etcdCert and etcdCACert are not supported; use etcdKeyFile, etcdCertFile and etcdCACertFile"
                ),
            ),
            PlanError::InvalidIfPrefix { prefix } => {
                line(f, format_args!("invalid interface prefix '{prefix}'"))
            }
            PlanError::NoNetworkingWithLabels => line(
                f,
                format_args!("invalid to disable Docker Networking and enable Container labels"),
            ),
            PlanError::EmptyHostPath { origin } => {
                line(f, format_args!("{origin} cannot be empty"))
            }
            PlanError::EmptyImage => line(f, format_args!("--node-image cannot be empty")),
            PlanError::ImageLooksLikeOption { image } => line(
                f,
                format_args!("--node-image cannot start with '-': {image}"),
            ),
            PlanError::ColonInHostPath { origin, path } => line(
                f,
                format_args!(
                    "{origin} cannot contain ':' (docker -v separates paths with it): {path}"
                ),
            ),
            PlanError::Nul { origin } => line(f, format_args!("{origin} contains a NUL character")),
            PlanError::ControlCharacter { origin } => line(
                f,
                format_args!(
                    "{origin} contains a control character (a line break, an escape...), which no output carries as meant"
                ),
            ),
            PlanError::EnvBadName { word } => line(
                f,
                format_args!("--env {word}: a variable name must match [A-Za-z_][A-Za-z0-9_]*"),
            ),
            PlanError::EnvSetByPlan { name, option } => line(
                f,
                format_args!("--env {name}: calicoctl sets {name} itself; use {option}"),
            ),
            PlanError::EnvTwice { name } => line(f, format_args!("--env {name} is given twice")),
            PlanError::EnvByNameUnset { name } => line(
                f,
                format_args!(
                    "--env {name} passes {name} by name, but it is not set in the environment"
                ),
            ),
        }
    }
}

impl From<ConfigError> for PlanError {
    fn from(e: ConfigError) -> PlanError {
        PlanError::Config(e)
    }
}

impl From<MethodError> for PlanError {
    fn from(e: MethodError) -> PlanError {
        PlanError::Method(e)
    }
}

impl std::error::Error for PlanError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PlanError::Method(e) => Some(e),
            PlanError::Config(e) => Some(e),
            _ => None,
        }
    }
}
