//! The plan: everything the node container needs, as one plain value.
//!
//! Options are checked here in upstream's order and with its messages
//! (`checks.rs`), then turned into a `Plan` (`model.rs`) by a pure function
//! (`build.rs`), so every emitter (dry-run text, run path, and the rest)
//! works from the same validated value.

mod build;
mod checks;
mod error;
mod health;
mod model;
pub mod user_env;

pub use build::build;
pub use checks::{CheckedOptions, check_options, node_name, parse_as_number};
pub use error::PlanError;
pub use health::{
    ContainerCheck, DEFAULT_READY_TIMEOUT, Health, HealthRequest, HttpGet, ProbeView,
};
pub use model::{
    ByName, CONTAINER_NAME, EnvVar, FixedAddress, Libnetwork, Mode, MountKind, NodeName, Origin,
    Plan, Volume,
};

#[cfg(test)]
mod tests {
    use super::checks::check_ip;
    use super::*;
    use crate::ip::methods::Family;

    #[test]
    fn as_numbers() {
        assert_eq!(parse_as_number("64512"), Some(64512));
        assert_eq!(parse_as_number("4294967295"), Some(u32::MAX));
        assert_eq!(parse_as_number("4294967296"), None);
        assert_eq!(parse_as_number("1.10"), Some(65546));
        assert_eq!(parse_as_number("65535.65535"), Some(u32::MAX));
        assert_eq!(parse_as_number("65536.1"), None);
        assert_eq!(parse_as_number("+5"), None);
        assert_eq!(parse_as_number("1.2.3"), None);
        assert_eq!(parse_as_number(""), None);
    }

    #[test]
    fn mapped_ipv6_counts_as_ipv4() {
        let v = Some("::ffff:10.0.0.1".to_string());
        assert!(check_ip(&v, Family::V4, "--ip").is_ok());
        assert_eq!(
            check_ip(&v, Family::V6, "--ip6").unwrap_err().to_string(),
            "Error executing command: --ip6 is wrong IP version"
        );
    }
}
