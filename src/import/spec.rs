//! A `docker run` (or `podman run`) as the facts `node run`'s options can
//! say: the image, the variables, the binds, the lifecycle, the health
//! check; and what they cannot (other flags, a command after the image).
//! Read from the words of a command line or a unit, or from what an engine
//! reports of a running container.

use crate::engine::EngineKind;
use crate::live::{Bind, Observed};

/// One `docker run`, engine-neutral.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSpec {
    /// The engine, and how the line called it (None: as the engine's
    /// report of a container says nothing of it).
    pub engine: Option<(EngineKind, String)>,
    pub image: String,
    pub name: Option<String>,
    /// `NAME=value`, or `NAME` alone (None: passed by name, its value the
    /// engine's environment's).
    pub env: Vec<(String, Option<String>)>,
    pub binds: Vec<Bind>,
    pub privileged: bool,
    pub network: Option<String>,
    pub restart: Option<String>,
    pub auto_remove: bool,
    /// `--health-cmd` and `--health-start-period` (seconds), as ours write them.
    pub health_cmd: Option<String>,
    pub health_start_period: Option<u32>,
    /// The words after the image: a command instead of the image's own.
    pub command: Vec<String>,
    /// Flags `node run` has no option for, as given.
    pub other: Vec<String>,
}

/// Why words are not a `docker run` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecError {
    NotRun,
    NoImage,
}

impl std::fmt::Display for SpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            SpecError::NotRun => f.write_str("not a docker run or podman run line"),
            SpecError::NoImage => f.write_str("the run line names no image"),
        }
    }
}

/// Flags of `docker run` that take a value, beyond the ones read here (so
/// that the value is not taken for the image).
const VALUED: &[&str] = &[
    "--add-host",
    "--cap-add",
    "--cap-drop",
    "--cgroupns",
    "--cpus",
    "--device",
    "--dns",
    "--entrypoint",
    "--env-file",
    "--hostname",
    "-h",
    "--ipc",
    "--label",
    "-l",
    "--log-driver",
    "--log-opt",
    "--memory",
    "-m",
    "--mount",
    "--pid",
    "--platform",
    "--pull",
    "--security-opt",
    "--stop-signal",
    "--stop-timeout",
    "--tmpfs",
    "--ulimit",
    "--user",
    "-u",
    "--userns",
    "--uts",
    "--workdir",
    "-w",
];

/// Flags `node run`'s outputs write whose value follows from what is read
/// here (the release's check timing; our podman unit's supervision by
/// systemd): taken, with their value, and nothing more said.
const IMPLIED: &[&str] = &[
    "--health-interval",
    "--health-timeout",
    "--health-retries",
    "--cidfile",
    "--cgroups",
    "--sdnotify",
];

impl RunSpec {
    /// From the words of a command line: `[path/]docker run ...` or
    /// `[path/]podman run ...`.
    pub fn from_words(words: &[String]) -> Result<RunSpec, SpecError> {
        let program = words.first().map_or("", String::as_str);
        let name = program.rsplit('/').next().unwrap_or(program);
        let (Some(kind), Some("run")) = (EngineKind::parse(name), words.get(1).map(String::as_str))
        else {
            return Err(SpecError::NotRun);
        };
        let mut spec = RunSpec {
            engine: Some((kind, program.to_string())),
            ..RunSpec::default()
        };
        let mut rest = words[2..].iter();
        while let Some(word) = rest.next() {
            if !word.starts_with('-') {
                spec.image = word.clone();
                spec.command = rest.cloned().collect();
                return Ok(spec);
            }
            let (flag, inline) = match word.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_string())),
                _ => (word.as_str(), None),
            };
            let value = |rest: &mut std::slice::Iter<String>| -> String {
                inline
                    .clone()
                    .or_else(|| rest.next().cloned())
                    .unwrap_or_default()
            };
            match flag {
                "--net" | "--network" => spec.network = Some(value(&mut rest)),
                "--privileged" => spec.privileged = inline.as_deref() != Some("false"),
                "--name" => spec.name = Some(value(&mut rest)),
                "--rm" => spec.auto_remove = true,
                // `node run` alone detaches, and so does podman's unit: the
                // lifecycle is `--rm`'s (auto_remove) and `--restart`'s.
                "-d" | "--detach" => {}
                "--restart" => spec.restart = Some(value(&mut rest)),
                "-e" | "--env" => spec.env.push(env_word(&value(&mut rest))),
                "-v" | "--volume" => spec.binds.push(Bind::parse(&value(&mut rest))),
                "--health-cmd" => spec.health_cmd = Some(value(&mut rest)),
                "--health-start-period" => {
                    let v = value(&mut rest);
                    spec.health_start_period = v.strip_suffix('s').and_then(|n| n.parse().ok());
                }
                f if IMPLIED.contains(&f) => {
                    value(&mut rest);
                }
                "--replace" => {}
                f if VALUED.contains(&f) => {
                    let v = value(&mut rest);
                    spec.other.push(format!("{f}={v}"));
                }
                _ => spec.other.push(word.clone()),
            }
        }
        Err(SpecError::NoImage)
    }
}

impl RunSpec {
    /// From what the engine reports of a running container: its variables
    /// without those its image or the engine set, and its command where it
    /// is not the image's own. An engine says nothing of `-d`: a container
    /// removed when it stops (`--rm`) is taken as an init system's.
    pub fn from_observed(observed: &Observed) -> Option<RunSpec> {
        let c = observed.container.as_ref()?;
        let image = observed.container_image.as_ref();
        let from_image = |k: &str, v: &str| {
            image.is_some_and(|i| i.env.iter().any(|(ik, iv)| ik == k && iv == v))
        };
        let env = (c.env.iter())
            .filter(|(k, v)| !from_image(k, v) && !observed.engine.added(k, v, image))
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect();
        let own = image.is_none_or(|i| i.entrypoint == c.entrypoint && i.cmd == c.cmd);
        let command = match own {
            true => Vec::new(),
            false => c.entrypoint.iter().chain(&c.cmd).cloned().collect(),
        };
        Some(RunSpec {
            engine: None,
            image: c.image_ref.clone(),
            name: Some(c.name.clone()),
            env,
            binds: c.binds.clone(),
            privileged: c.privileged,
            network: Some(c.network_mode.clone()),
            restart: Some(c.restart_policy.clone()),
            auto_remove: c.auto_remove,
            health_cmd: c.health.as_ref().map(|h| h.command.clone()),
            health_start_period: None,
            command,
            other: Vec::new(),
        })
    }
}

/// `NAME=value`, or `NAME` alone.
fn env_word(word: &str) -> (String, Option<String>) {
    match word.split_once('=') {
        Some((name, value)) => (name.to_string(), Some(value.to_string())),
        None => (word.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn a_run_line_read_back() {
        let spec = RunSpec::from_words(&words(
            "/usr/bin/docker run --net=host --privileged --name=calico-node -d --restart=always -e NODENAME=n1 -e ETCD_PASSWORD -v /var/log/calico:/var/log/calico:ro --pid host --init quay.io/calico/node:v3.2.3 /bin/calico-node -felix",
        ))
        .unwrap();
        assert_eq!(spec.image, "quay.io/calico/node:v3.2.3");
        assert_eq!(spec.name.as_deref(), Some("calico-node"));
        assert_eq!(spec.network.as_deref(), Some("host"));
        assert!(spec.privileged && !spec.auto_remove);
        assert_eq!(spec.restart.as_deref(), Some("always"));
        assert_eq!(
            spec.env,
            [
                ("NODENAME".to_string(), Some("n1".to_string())),
                ("ETCD_PASSWORD".to_string(), None)
            ]
        );
        assert!(spec.binds[0].read_only);
        assert_eq!(spec.other, ["--pid=host", "--init"]);
        assert_eq!(spec.command, ["/bin/calico-node", "-felix"]);
    }

    #[test]
    fn not_a_run_line() {
        assert_eq!(
            RunSpec::from_words(&words("docker ps")),
            Err(SpecError::NotRun)
        );
        assert_eq!(
            RunSpec::from_words(&words("docker run --rm")),
            Err(SpecError::NoImage)
        );
    }
}
