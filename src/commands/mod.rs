//! One module per subcommand; `main.rs` only dispatches to them. What the
//! subcommands share (the process environment, the host name, the interface
//! table) lives here.

pub mod completion;
pub mod detect_ip;
mod error;
pub mod fleet;
pub mod man;
pub mod node_import;
pub mod node_run;
pub mod planning;
pub mod report;
pub mod version;

use crate::cli::{self, Parsed};
use crate::config::{self, ConfigError, DatastoreSpec};
use crate::ip::detection;
pub use error::{Error, FleetFailure, OptionError, Spooling};
use std::collections::HashMap;

/// The files emitters ask for (the DaemonSet's TLS files), read here with
/// the rules of every input file (`crate::input`): regular files only,
/// capped, links only within their own directory.
pub struct InputFiles;

impl crate::emit::Files for InputFiles {
    fn read(&self, path: &std::path::Path) -> std::io::Result<Vec<u8>> {
        crate::input::read(path).map_err(Into::into)
    }
}

/// Whether a variable can be configuration: calicoctl's own (`CALICO*`)
/// and the datastore's (`ETCD_*`, `K8S_*`, `KUBECONFIG`, `DATASTORE_TYPE`).
fn is_configuration(name: &str) -> bool {
    name.starts_with("CALICO")
        || name.starts_with("ETCD_")
        || name.starts_with("K8S_")
        || name == "KUBECONFIG"
        || name == "DATASTORE_TYPE"
}

/// The environment's configuration variables, as valid UTF-8 pairs (others
/// cannot be configuration).
pub fn environment() -> HashMap<String, String> {
    std::env::vars_os()
        .filter(|(k, _)| k.to_str().is_some_and(is_configuration))
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// The host name, lower-cased and trimmed later; `CALICOCTL_HOSTNAME`
/// stands in for it in tests.
pub fn host_name(env: &HashMap<String, String>) -> Option<String> {
    if let Some(h) = env.get("CALICOCTL_HOSTNAME") {
        return Some(h.clone());
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname").ok()
}

/// The interfaces to detect on: the fixture named by `CALICOCTL_INTERFACES`
/// (for tests), or the live system.
pub fn interface_source(
    env: &HashMap<String, String>,
) -> Result<(Vec<detection::Interface>, Box<dyn detection::Reach>), detection::TableError> {
    match env.get("CALICOCTL_INTERFACES") {
        Some(path) => {
            let fixture = detection::Fixture::load(path)?;
            Ok((fixture.interfaces.clone(), Box::new(fixture)))
        }
        None => Ok((
            detection::live_interfaces()?,
            Box::new(detection::KernelReach),
        )),
    }
}

/// Loads datastore configurations, each path once (a fleet names the same
/// file for thousands of hosts).
pub struct ConfigLoader<'a> {
    env: &'a HashMap<String, String>,
    default_path: String,
    loaded: HashMap<Option<String>, Result<DatastoreSpec, ConfigError>>,
    /// The default file was absent: the settings came from the environment.
    from_environment: bool,
}

impl<'a> ConfigLoader<'a> {
    pub fn new(env: &'a HashMap<String, String>) -> ConfigLoader<'a> {
        let default_path = env
            .get("CALICOCTL_DEFAULT_CONFIG")
            .map_or(cli::DEFAULT_CONFIG_PATH, String::as_str)
            .to_string();
        ConfigLoader {
            env,
            default_path,
            loaded: HashMap::new(),
            from_environment: false,
        }
    }

    /// One line for stderr when nothing configured the datastore: the
    /// default file absent and no datastore variable set, so the plan
    /// silently carries etcd with no endpoints. (Settings from the
    /// environment are the user's choice, and said nothing of.)
    pub fn environment_note(&self) -> Option<String> {
        let unconfigured = self.from_environment && config::env_settings_set(self.env).is_empty();
        unconfigured.then(|| {
            format!(
                "No {} and no datastore variable set: etcd with no endpoints (docs/config.md).",
                self.default_path
            )
        })
    }

    /// The configuration at `path` (`None`: the default path, then the
    /// environment), as `node run` loads it.
    pub fn load(&mut self, path: Option<&str>) -> Result<DatastoreSpec, ConfigError> {
        let key = path.map(str::to_string);
        if let Some(found) = self.loaded.get(&key) {
            return found.clone();
        }
        let result = config::load(path, &self.default_path, self.env);
        if path.is_none() && result.is_ok() {
            self.from_environment = !std::path::Path::new(&self.default_path).exists();
        }
        self.loaded.insert(key, result.clone());
        result
    }
}

/// The options a subcommand was given, or `None` once its `--help` text
/// is printed (the caller then exits 0).
pub fn options_or_help<T>(parsed: Parsed<T>) -> Option<Box<T>> {
    match parsed {
        Parsed::Help(text) => {
            out!("{text}");
            None
        }
        Parsed::Run(args) => Some(args),
    }
}
