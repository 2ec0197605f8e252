//! The datastore configuration (`CalicoAPIConfig`), read the way upstream
//! calicoctl reads it: a strict YAML or JSON file, or, when the default file
//! is absent, the same settings from environment variables.

use serde::Deserialize;
use std::collections::HashMap;

/// Which datastore calico/node talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DatastoreType {
    Etcdv3,
    Kubernetes,
}

/// The `spec` of a `CalicoAPIConfig`, every field optional as upstream.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DatastoreSpec {
    pub datastore_type: Option<String>,
    pub etcd_endpoints: Option<String>,
    pub etcd_discovery_srv: Option<String>,
    pub etcd_username: Option<String>,
    pub etcd_password: Option<String>,
    pub etcd_key_file: Option<String>,
    pub etcd_cert_file: Option<String>,
    #[serde(rename = "etcdCACertFile")]
    pub etcd_ca_cert_file: Option<String>,
    pub etcd_key: Option<String>,
    pub etcd_cert: Option<String>,
    #[serde(rename = "etcdCACert")]
    pub etcd_ca_cert: Option<String>,
    pub kubeconfig: Option<String>,
    #[serde(rename = "k8sAPIEndpoint")]
    pub k8s_api_endpoint: Option<String>,
    pub k8s_key_file: Option<String>,
    pub k8s_cert_file: Option<String>,
    #[serde(rename = "k8sCAFile")]
    pub k8s_ca_file: Option<String>,
    #[serde(rename = "k8sAPIToken")]
    pub k8s_api_token: Option<String>,
    #[serde(rename = "k8sInsecureSkipTLSVerify")]
    pub k8s_insecure_skip_tls_verify: Option<bool>,
    pub k8s_disable_node_poll: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CalicoApiConfig {
    api_version: String,
    kind: String,
    #[serde(default)]
    #[allow(dead_code)]
    metadata: Option<yaml_serde::Value>,
    #[serde(default)]
    spec: Option<DatastoreSpec>,
}

/// Why the configuration could not be had. Each maps to one upstream message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// `--config` named a path that does not exist (not the default path).
    Missing(String),
    /// The file could not be read or is not a valid `CalicoAPIConfig`.
    Invalid,
    /// `datastoreType` is neither `etcdv3` nor `kubernetes`.
    UnsupportedDatastore,
    /// No datastore configured at all, under a release without a default
    /// (v3.17 on): upstream's same line, and ours to say what to give.
    NoDatastore,
    /// Nested too deep to be handed to the YAML parser (`nesting.rs`).
    TooDeep(crate::nesting::TooDeep),
    /// Not a file an input may be (`input.rs`): a link out of its
    /// directory, a fifo, a kernel file, too large.
    Refused(crate::input::Refusal),
}

impl ConfigError {
    /// Whether calicoctl v3.31 and later write this line in lower case
    /// (`node run`'s own two; the file's absence is reported elsewhere).
    pub fn lowered_from_v3_31(&self) -> bool {
        matches!(
            self,
            ConfigError::Invalid | ConfigError::UnsupportedDatastore | ConfigError::NoDatastore
        )
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        use crate::error::executing;
        match self {
            // Upstream's one line without the prefix.
            ConfigError::Missing(path) => write!(f, "Error reading config file: {path}"),
            ConfigError::Invalid => executing(f, format_args!("invalid config file")),
            ConfigError::UnsupportedDatastore | ConfigError::NoDatastore => {
                executing(f, format_args!("unsupported backend specified in config"))
            }
            ConfigError::TooDeep(deep) => executing(f, format_args!("invalid config file: {deep}")),
            ConfigError::Refused(why) => executing(f, format_args!("invalid config file: {why}")),
        }
    }
}

impl ConfigError {
    /// A line of ours under upstream's, saying what to do (None: upstream's
    /// line says enough).
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ConfigError::NoDatastore => Some(
                "No datastore is configured: give etcdEndpoints, or datastoreType: kubernetes, in the config file (--config FILE, default /etc/calico/calicoctl.cfg), or ETCD_ENDPOINTS or DATASTORE_TYPE in the environment (docs/config.md).",
            ),
            _ => None,
        }
    }
}

impl DatastoreSpec {
    /// The datastore this spec selects under a release: without
    /// `datastoreType`, etcdv3 (`etcd_by_default`, up to v3.16), or from
    /// v3.17 etcdv3 only where etcd endpoints are configured; otherwise
    /// upstream picks kubernetes, which its `node run` refuses, and so do
    /// we (our Kubernetes datastore is for a `datastoreType` that says so).
    pub fn datastore_in(&self, etcd_by_default: bool) -> Result<DatastoreType, ConfigError> {
        let unset = self.datastore_type.as_deref().is_none_or(str::is_empty);
        let endpoints = self
            .etcd_endpoints
            .as_deref()
            .is_some_and(|e| !e.is_empty());
        if unset && !etcd_by_default && !endpoints {
            return Err(ConfigError::NoDatastore);
        }
        self.datastore()
    }

    /// The datastore this spec selects; `etcdv3` when unset.
    pub fn datastore(&self) -> Result<DatastoreType, ConfigError> {
        match self.datastore_type.as_deref().unwrap_or("etcdv3") {
            "etcdv3" | "" => Ok(DatastoreType::Etcdv3),
            "kubernetes" => Ok(DatastoreType::Kubernetes),
            _ => Err(ConfigError::UnsupportedDatastore),
        }
    }
}

/// Parse the text of a configuration file (YAML or JSON).
pub fn parse(text: &str) -> Result<DatastoreSpec, ConfigError> {
    crate::nesting::check(text).map_err(ConfigError::TooDeep)?;
    let doc: CalicoApiConfig = yaml_serde::from_str(text).map_err(|_| ConfigError::Invalid)?;
    if doc.api_version != "projectcalico.org/v3" || doc.kind != "CalicoAPIConfig" {
        return Err(ConfigError::Invalid);
    }
    let spec = doc.spec.unwrap_or_default();
    spec.datastore()?;
    Ok(spec)
}

/// Build the spec from environment variables, `CALICO_NAME` before `NAME`.
pub fn from_env(env: &HashMap<String, String>) -> Result<DatastoreSpec, ConfigError> {
    let get = |name: &str| {
        env.get(&format!("CALICO_{name}"))
            .or_else(|| env.get(name))
            .cloned()
    };
    let get_bool = |name: &str| -> Result<Option<bool>, ConfigError> {
        match get(name) {
            None => Ok(None),
            Some(v) => parse_env_bool(&v).map(Some).ok_or(ConfigError::Invalid),
        }
    };
    let spec = DatastoreSpec {
        datastore_type: get("DATASTORE_TYPE"),
        etcd_endpoints: get("ETCD_ENDPOINTS"),
        etcd_discovery_srv: get("ETCD_DISCOVERY_SRV"),
        etcd_username: get("ETCD_USERNAME"),
        etcd_password: get("ETCD_PASSWORD"),
        etcd_key_file: get("ETCD_KEY_FILE"),
        etcd_cert_file: get("ETCD_CERT_FILE"),
        etcd_ca_cert_file: get("ETCD_CA_CERT_FILE"),
        etcd_key: None,
        etcd_cert: None,
        etcd_ca_cert: None,
        kubeconfig: get("KUBECONFIG"),
        k8s_api_endpoint: get("K8S_API_ENDPOINT"),
        k8s_key_file: get("K8S_KEY_FILE"),
        k8s_cert_file: get("K8S_CERT_FILE"),
        k8s_ca_file: get("K8S_CA_FILE"),
        k8s_api_token: get("K8S_API_TOKEN"),
        k8s_insecure_skip_tls_verify: get_bool("K8S_INSECURE_SKIP_TLS_VERIFY")?,
        k8s_disable_node_poll: get_bool("K8S_DISABLE_NODE_POLL")?,
    };
    spec.datastore()?;
    Ok(spec)
}

/// The datastore variables [`from_env`] reads (each also as `CALICO_NAME`).
pub const ENV_SETTINGS: [&str; 16] = [
    "DATASTORE_TYPE",
    "ETCD_ENDPOINTS",
    "ETCD_DISCOVERY_SRV",
    "ETCD_USERNAME",
    "ETCD_PASSWORD",
    "ETCD_KEY_FILE",
    "ETCD_CERT_FILE",
    "ETCD_CA_CERT_FILE",
    "KUBECONFIG",
    "K8S_API_ENDPOINT",
    "K8S_KEY_FILE",
    "K8S_CERT_FILE",
    "K8S_CA_FILE",
    "K8S_API_TOKEN",
    "K8S_INSECURE_SKIP_TLS_VERIFY",
    "K8S_DISABLE_NODE_POLL",
];

/// The names of [`ENV_SETTINGS`] set in `env` (names only: a value may be
/// a credential).
pub fn env_settings_set(env: &HashMap<String, String>) -> Vec<&'static str> {
    ENV_SETTINGS
        .into_iter()
        .filter(|name| env.contains_key(*name) || env.contains_key(&format!("CALICO_{name}")))
        .collect()
}

/// Booleans as Go's `strconv.ParseBool` (which upstream's envconfig uses) reads them.
fn parse_env_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Load the configuration as upstream: `path` (or the default path) if the
/// file exists, else the environment when the path is the default one.
pub fn load(
    path: Option<&str>,
    default_path: &str,
    env: &HashMap<String, String>,
) -> Result<DatastoreSpec, ConfigError> {
    let path = path.unwrap_or(default_path);
    match crate::input::read(std::path::Path::new(path)) {
        Ok(bytes) => {
            let text = String::from_utf8(bytes).map_err(|_| ConfigError::Invalid)?;
            parse(&text)
        }
        Err(e) if e.is_not_found() => {
            if path == default_path {
                from_env(env)
            } else {
                Err(ConfigError::Missing(path.to_string()))
            }
        }
        // Upstream's line where upstream fails too (a directory, a denial).
        Err(crate::input::InputError::Io(_))
        | Err(crate::input::InputError::Refused(crate::input::Refusal::NotAFile(
            crate::input::NotAFile::Directory,
        ))) => Err(ConfigError::Invalid),
        Err(crate::input::InputError::Refused(why)) => Err(ConfigError::Refused(why)),
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::TooDeep(deep) => Some(deep),
            ConfigError::Refused(why) => Some(why),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\n";

    #[test]
    fn yaml_and_json_give_the_same_spec() {
        let yaml = format!(
            "{HEAD}metadata:\nspec:\n  etcdEndpoints: http://a:2379\n  etcdCACertFile: /ca\n"
        );
        let json = r#"{"apiVersion":"projectcalico.org/v3","kind":"CalicoAPIConfig","spec":{"etcdEndpoints":"http://a:2379","etcdCACertFile":"/ca"}}"#;
        let a = parse(&yaml).unwrap();
        assert_eq!(a, parse(json).unwrap());
        assert_eq!(a.etcd_endpoints.as_deref(), Some("http://a:2379"));
        assert_eq!(a.etcd_ca_cert_file.as_deref(), Some("/ca"));
    }

    #[test]
    fn strictness() {
        assert_eq!(
            parse(&format!("{HEAD}spec:\n  etcdEndpoint: x\n")),
            Err(ConfigError::Invalid)
        );
        assert_eq!(
            parse("apiVersion: v1\nkind: CalicoAPIConfig\n"),
            Err(ConfigError::Invalid)
        );
        assert_eq!(
            parse("apiVersion: projectcalico.org/v3\nkind: Node\n"),
            Err(ConfigError::Invalid)
        );
        assert_eq!(
            parse(&format!("{HEAD}extra: 1\n")),
            Err(ConfigError::Invalid)
        );
        assert_eq!(parse("{{{"), Err(ConfigError::Invalid));
        assert_eq!(
            parse(&format!("{HEAD}spec:\n  datastoreType: consul\n")),
            Err(ConfigError::UnsupportedDatastore)
        );
    }

    #[test]
    fn env_prefers_calico_prefix() {
        let env: HashMap<String, String> = [
            ("ETCD_ENDPOINTS", "http://plain:2379"),
            ("CALICO_ETCD_ENDPOINTS", "http://prefixed:2379"),
            ("ETCD_USERNAME", "u"),
            ("K8S_DISABLE_NODE_POLL", "1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let spec = from_env(&env).unwrap();
        assert_eq!(spec.etcd_endpoints.as_deref(), Some("http://prefixed:2379"));
        assert_eq!(spec.etcd_username.as_deref(), Some("u"));
        assert_eq!(spec.k8s_disable_node_poll, Some(true));
    }
}
