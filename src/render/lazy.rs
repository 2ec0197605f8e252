//! The context built-in templates read, made into template values field
//! by field as a template asks for them. Turning the whole
//! [`super::TemplateContext`] into template values for every file (the
//! plan's every variable and volume, the command three ways) was most of a
//! fleet's rendering and of its allocations, though a unit reads a handful
//! of fields. The values are the same ones (each field goes through its own
//! `Serialize`), so a template cannot tell the difference: a test holds the
//! two equal, and every golden case passes unchanged. Each field is
//! computed at most once per render (`OnceLock`). User templates (`--template`)
//! get it too, without secret values: so a built-in template copied with
//! `--template-source` renders as its `-o` does.

use super::{Engine, SCHEMA, UNIT_ENV_FILE};
use crate::plan::{ByName, Plan};
use minijinja::value::{Enumerator, Object, Serde, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// The keys of the context, as `-o json` has them, plus the two extras
/// built-in templates receive.
pub const KEYS: [&str; 12] = [
    "schema",
    "plan",
    "engine",
    "argv",
    "run_groups",
    "run_groups_by_name",
    "stop_argv",
    "secret_names",
    "unit_env_file",
    "secrets",
    "env_file",
    "release",
];

/// One render's context.
#[derive(Debug)]
pub struct LazyContext {
    plan: Arc<Plan>,
    engine: Arc<Engine>,
    /// Hand the secrets' values to the template (0600 env files only).
    secrets: bool,
    env_file: Option<&'static str>,
    cache: [OnceLock<Value>; KEYS.len()],
}

impl LazyContext {
    pub fn new(
        plan: Arc<Plan>,
        engine: Arc<Engine>,
        secrets: bool,
        env_file: Option<&'static str>,
    ) -> LazyContext {
        LazyContext {
            plan,
            engine,
            secrets,
            env_file,
            cache: Default::default(),
        }
    }

    fn compute(&self, key: &str) -> Value {
        let plan = &*self.plan;
        match key {
            "schema" => Value::from(SCHEMA),
            "plan" => Value::from_object(PlanView::new(self.plan.clone())),
            "engine" => Value::from(Serde(&*self.engine)),
            "argv" => Value::from(Serde(super::argv(plan, &self.engine))),
            "run_groups" => groups(plan, ByName::Secrets),
            "run_groups_by_name" => groups(plan, ByName::All),
            "stop_argv" => Value::from(Serde(plan.stop_argv(&self.engine.command))),
            "secret_names" => {
                Value::from_iter(plan.secrets().map(|v| Value::from(v.name.as_str())))
            }
            "unit_env_file" => Value::from(UNIT_ENV_FILE),
            "secrets" => {
                let values: BTreeMap<&str, &str> = if self.secrets {
                    plan.secrets()
                        .map(|v| (v.name.as_str(), v.value.as_str()))
                        .collect()
                } else {
                    BTreeMap::new()
                };
                Value::from(Serde(values))
            }
            "env_file" => Value::from(self.env_file),
            _ => release_words(plan),
        }
    }
}

/// The run path's words that change with the release the plan is for
/// (the launcher script says what `node run` would): the conntrack
/// warning's spelling, and the prefix of the errors upstream returns.
fn release_words(plan: &Plan) -> Value {
    let profile = plan.served.profile;
    let conntrack_max = match profile.conntrack_spelled {
        true => "nf_conntrack_max",
        false => "nf_contrack_max",
    };
    let returned_prefix = match profile.lower_case {
        true => "error executing command: ",
        false => crate::error::PREFIX,
    };
    minijinja::context! { conntrack_max, returned_prefix }
}

/// `run_groups` as template values, made from the plan's words directly.
fn groups(plan: &Plan, by_name: ByName) -> Value {
    let mut groups = Vec::with_capacity(plan.env.len() + plan.volumes.len() + 2);
    plan.each_run_group(by_name, |group| {
        groups.push(Value::from(
            group.iter().map(|w| Value::from(*w)).collect::<Vec<_>>(),
        ));
    });
    Value::from(groups)
}

impl Object for LazyContext {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let i = KEYS.iter().position(|k| Some(*k) == key.as_str())?;
        Some(self.cache[i].get_or_init(|| self.compute(KEYS[i])).clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&KEYS)
    }
}

/// The plan's fields, as its `Serialize` has them (`calico_version` only
/// when a release is named, `health` only when there are checks).
const PLAN_KEYS: [&str; 10] = [
    "calico_version",
    "node_name",
    "container_name",
    "image",
    "mode",
    "datastore",
    "env",
    "volumes",
    "ignored_options",
    "health",
];

#[derive(Debug)]
struct PlanView {
    plan: Arc<Plan>,
    cache: [OnceLock<Value>; PLAN_KEYS.len()],
}

impl PlanView {
    fn new(plan: Arc<Plan>) -> PlanView {
        PlanView {
            plan,
            cache: Default::default(),
        }
    }

    /// Whether this plan has the key (as its `Serialize` writes it).
    fn has(&self, key: &str) -> bool {
        match key {
            "calico_version" => self.plan.served.asked.is_some(),
            "health" => self.plan.health.is_some(),
            _ => true,
        }
    }

    fn compute(&self, key: &str) -> Value {
        let p = &*self.plan;
        match key {
            "calico_version" => Value::from(p.served.asked.map(|r| r.to_string())),
            "node_name" => Value::from(p.node_name.as_str()),
            "container_name" => Value::from(p.container_name.as_str()),
            "image" => Value::from(p.image.as_str()),
            "mode" => Value::from(Serde(p.mode)),
            "datastore" => Value::from(Serde(p.datastore)),
            "env" => Value::from(Serde(&p.env)),
            "volumes" => Value::from(Serde(&p.volumes)),
            "health" => Value::from(Serde(&p.health)),
            _ => Value::from(Serde(&p.ignored_options)),
        }
    }
}

impl Object for PlanView {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str().filter(|k| self.has(k))?;
        let i = PLAN_KEYS.iter().position(|k| *k == key)?;
        Some(
            self.cache[i]
                .get_or_init(|| self.compute(PLAN_KEYS[i]))
                .clone(),
        )
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let keys = PLAN_KEYS.iter().filter(|k| self.has(k));
        Enumerator::Values(keys.map(|k| Value::from(*k)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{EnvVar, Mode, Volume};

    fn plan() -> Plan {
        let var = |name: &str, value: &str, secret: bool| EnvVar {
            name: name.into(),
            value: value.into(),
            origin: crate::plan::Origin::Flag("--name"),
            secret,
        };
        Plan {
            node_name: "n 1".into(),
            container_name: "calico-node".into(),
            image: "quay.io/calico/node:v3".into(),
            mode: Mode::Detached,
            datastore: crate::config::DatastoreType::Etcdv3,
            env: vec![
                var("NODENAME", "n 1", false),
                var("ETCD_PASSWORD", "s3cret", true),
            ],
            volumes: vec![Volume {
                host: "/var/log/calico".into(),
                container: "/var/log/calico".into(),
                read_only: true,
                origin: crate::plan::Origin::Flag("--log-dir"),
                kind: crate::plan::MountKind::Host,
            }],
            ignored_options: vec!["--as".into()],
            node_name_from: crate::plan::NodeName::Given,
            libnetwork: crate::plan::Libnetwork::Off,
            served: Default::default(),
            fixed_addresses: Vec::new(),
            health: None,
        }
    }

    /// What a template sees of `value`, as JSON.
    fn seen(value: Value) -> serde_json::Value {
        let mut env = minijinja::Environment::new();
        env.add_template("t", "{{ ctx | tojson }}").unwrap();
        let text = env
            .get_template("t")
            .unwrap()
            .render(minijinja::context! { ctx => value })
            .unwrap();
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn the_lazy_context_is_the_eager_one_plus_the_extras() {
        let named = Plan {
            served: crate::release::Served::new(Some("v3.28.0")).unwrap(),
            ..plan()
        };
        let checked = Plan {
            health: Some(crate::plan::Health {
                probes: named.served.probes(),
                bird: crate::release::health::Bird::Runs,
                ready_timeout: 120,
            }),
            ..named.clone()
        };
        for plan in [plan(), named, checked] {
            lazy_equals_eager(&plan);
        }
    }

    fn lazy_equals_eager(plan: &Plan) {
        let engine = crate::emit::engine("docker", None).unwrap();
        let eager = seen(Value::from(Serde(super::super::TemplateContext::new(
            plan, &engine,
        ))));
        for (secrets, env_file) in [(false, None), (true, Some(UNIT_ENV_FILE))] {
            let lazy = Value::from_object(LazyContext::new(
                Arc::new(plan.clone()),
                Arc::new(engine.clone()),
                secrets,
                env_file,
            ));
            let mut expected = eager.clone();
            let secret_map = if secrets {
                serde_json::json!({"ETCD_PASSWORD": "s3cret"})
            } else {
                serde_json::json!({})
            };
            expected["secrets"] = secret_map;
            expected["env_file"] = serde_json::json!(env_file);
            expected["release"] = match &plan.served.asked {
                Some(_) => {
                    serde_json::json!({"conntrack_max": "nf_conntrack_max", "returned_prefix": "Error executing command: "})
                }
                None => {
                    serde_json::json!({"conntrack_max": "nf_contrack_max", "returned_prefix": "Error executing command: "})
                }
            };
            assert_eq!(seen(lazy), expected);
        }
        assert_eq!(
            eager["plan"]["env"][1]["value"],
            serde_json::Value::Null,
            "secrets stay null"
        );
    }
}
