//! calico/node's own settings, passed with `--env` (upstream never let a
//! user pass any: calicoctl issues #1403 and #1501). One source of truth
//! per variable: a name the plan sets itself is refused, naming the option
//! that sets it. `--env NAME=VALUE` passes a value; `--env NAME` passes the
//! variable by name, its value read from this run's environment and then
//! treated as a credential (never on a command line, a unit or a log; units
//! keep it in the 0600 env file). The user's variables follow the plan's
//! own, in the order given.

use super::{Origin, PlanError};
use std::collections::HashMap;
use std::sync::Mutex;

/// One variable of `--env`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserVar {
    pub name: String,
    pub value: String,
    /// Given as `NAME` alone: passed by name, as a secret.
    pub by_name: bool,
}

/// The option that sets `name` when the plan sets it itself.
fn owner(name: &str) -> Option<&'static str> {
    // In any case: a DaemonSet's Secret keys are lower case, so
    // `etcd_password` would take the key of the config's ETCD_PASSWORD.
    let name = name.to_ascii_uppercase();
    let name = name.as_str();
    let exact = match name {
        "NODENAME" => "--name",
        "IP" => "--ip",
        "IP6" => "--ip6",
        "AS" => "--as",
        "CALICO_NETWORKING_BACKEND" => "--backend",
        "NO_DEFAULT_POOLS" => "--no-default-ippools",
        "IP_AUTODETECTION_METHOD" => "--ip-autodetection-method",
        "IP6_AUTODETECTION_METHOD" => "--ip6-autodetection-method",
        "CALICO_LIBNETWORK_ENABLED" => "--disable-docker-networking",
        "CALICO_LIBNETWORK_IFPREFIX" => "--docker-networking-ifprefix",
        "CALICO_LIBNETWORK_CREATE_PROFILES" | "CALICO_LIBNETWORK_LABEL_ENDPOINTS" => {
            "--use-docker-networking-container-labels"
        }
        "DATASTORE_TYPE" | "KUBECONFIG" => "the datastore configuration (--config)",
        _ => "",
    };
    if !exact.is_empty() {
        return Some(exact);
    }
    (name.starts_with("ETCD_") || name.starts_with("K8S_"))
        .then_some("the datastore configuration (--config)")
}

fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `--env`'s words checked, in the order given; by-name values from
/// `environ`.
pub fn check(
    words: &[String],
    environ: &HashMap<String, String>,
) -> Result<Vec<UserVar>, PlanError> {
    let mut vars: Vec<UserVar> = Vec::with_capacity(words.len());
    for word in words {
        let (name, value) = match word.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (word.as_str(), None),
        };
        if !valid_name(name) {
            return Err(PlanError::EnvBadName { word: word.clone() });
        }
        if let Some(option) = owner(name) {
            return Err(PlanError::EnvSetByPlan {
                name: name.to_string(),
                option,
            });
        }
        if vars.iter().any(|v| v.name == name) {
            return Err(PlanError::EnvTwice {
                name: name.to_string(),
            });
        }
        let by_name = value.is_none();
        let value = match value {
            Some(value) => value.to_string(),
            None => environ
                .get(name)
                .cloned()
                .ok_or_else(|| PlanError::EnvByNameUnset {
                    name: name.to_string(),
                })?,
        };
        vars.push(UserVar {
            name: name.to_string(),
            value,
            by_name,
        });
    }
    Ok(vars)
}

/// Where a user's variable came from, as errors name it (`--env NAME`):
/// its name made once and kept, as a plan's origins live as long as the
/// run (a fleet asks for the same few names host after host).
pub fn origin(name: &str) -> Origin {
    static NAMES: Mutex<Option<HashMap<String, &'static str>>> = Mutex::new(None);
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let names = names.get_or_insert_with(HashMap::new);
    if let Some(found) = names.get(name) {
        return Origin::UserEnv(found);
    }
    let made: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.insert(name.to_string(), made);
    Origin::UserEnv(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn values_and_names_in_the_order_given() {
        let environ = HashMap::from([("SECRET_X".to_string(), "v a l".to_string())]);
        let vars = check(&words(&["B=1", "SECRET_X", "A==x"]), &environ).unwrap();
        let got: Vec<_> = vars
            .iter()
            .map(|v| (v.name.as_str(), v.value.as_str(), v.by_name))
            .collect();
        assert_eq!(
            got,
            [
                ("B", "1", false),
                ("SECRET_X", "v a l", true),
                ("A", "=x", false)
            ]
        );
        assert_eq!(origin("B").to_string(), "--env B");
        let (Origin::UserEnv(first), Origin::UserEnv(again)) = (origin("B"), origin("B")) else {
            panic!("not a user's variable");
        };
        assert!(std::ptr::eq(first, again), "made once");
    }

    #[test]
    fn refusals_name_what_is_wrong() {
        let none = HashMap::new();
        for (word, says) in [
            ("1X=1", "a variable name must match"),
            ("=1", "a variable name must match"),
            ("A-B=1", "a variable name must match"),
            ("NODENAME=x", "calicoctl sets NODENAME itself; use --name"),
            (
                "ETCD_ENDPOINTS=x",
                "use the datastore configuration (--config)",
            ),
            (
                "K8S_API_TOKEN",
                "use the datastore configuration (--config)",
            ),
            ("UNSET", "passes UNSET by name, but it is not set"),
        ] {
            let e = check(&words(&[word]), &none).unwrap_err().to_string();
            assert!(e.contains(says) && !e.contains('\n'), "{word}: {e}");
        }
        let e = check(&words(&["A=1", "A=2"]), &none)
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("--env A is given twice"), "{e}");
    }
}
