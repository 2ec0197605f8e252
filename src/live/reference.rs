//! Image references as the engines resolve them. Docker keeps a
//! container's reference as it was given and completes a short one the
//! same way everywhere (`docker.io`, `library/` for official images,
//! `:latest`), so two spellings are compared completed. Podman records the
//! reference it resolved: a short name becomes the local image's full name
//! (`localhost/NAME` for an image built or imported here) or a registry's
//! from its search list (`quay.io/calico/node`). What the planned reference
//! resolves to is what the engine says of it: the names (tags and digests)
//! of the image `image inspect <planned>` returns, those of them that are
//! the planned name with a registry in front. So a container started from
//! any reference our commands print checks clean, on either engine, and a
//! container of another name is still drift.

use super::EngineKind;

/// A reference as engines complete it: a registry (`docker.io`), the
/// `library/` of official images, a tag (`latest`).
pub fn normalise(reference: &str) -> String {
    let Split {
        registry,
        path,
        suffix,
    } = split(reference);
    match registry {
        Some(registry) => format!("{registry}/{path}{suffix}"),
        None if path.contains('/') => format!("docker.io/{path}{suffix}"),
        None => format!("docker.io/library/{path}{suffix}"),
    }
}

/// A reference's parts: the registry it names (None: none), the path,
/// and `:tag` or `@digest` (`:latest` when it has neither).
struct Split<'a> {
    registry: Option<&'a str>,
    path: &'a str,
    suffix: String,
}

fn split(reference: &str) -> Split<'_> {
    let (name, suffix) = match reference.find('@') {
        Some(at) => (&reference[..at], reference[at..].to_string()),
        None => match reference.rfind(':') {
            Some(colon) if !reference[colon..].contains('/') => {
                (&reference[..colon], reference[colon..].to_string())
            }
            _ => (reference, ":latest".to_string()),
        },
    };
    match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => Split {
            registry: Some(first),
            path: rest,
            suffix,
        },
        _ => Split {
            registry: None,
            path: name,
            suffix,
        },
    }
}

/// Whether `named` (a full name an engine gives an image) is `planned` (a
/// reference without a registry) with a registry in front: what an
/// engine's short-name resolution makes of it.
fn resolves_to(planned: &str, named: &str) -> bool {
    let (p, n) = (split(planned), split(named));
    if p.registry.is_some() || n.registry.is_none() || p.suffix != n.suffix {
        return false;
    }
    let official = n.registry == Some("docker.io") && !p.path.contains('/');
    let path = match official {
        true => n.path.strip_prefix("library/").unwrap_or(n.path),
        false => n.path,
    };
    path == p.path
}

/// Whether a container started as `running` runs the reference `planned`
/// on `engine`, `planned_names` being the names of the image `planned`
/// names there now (none when it is not here). Docker keeps what it was
/// given; podman what it resolved.
pub fn same(running: &str, planned: &str, planned_names: &[String], engine: EngineKind) -> bool {
    let running = normalise(running);
    running == normalise(planned)
        || engine == EngineKind::Podman
            && planned_names
                .iter()
                .filter(|name| resolves_to(planned, name))
                .any(|name| normalise(name) == running)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_completed_as_engines_complete_them() {
        for (given, full) in [
            ("busybox", "docker.io/library/busybox:latest"),
            ("calico/node", "docker.io/calico/node:latest"),
            ("calico/node:v3.2.8", "docker.io/calico/node:v3.2.8"),
            ("quay.io/calico/node:v3.2.8", "quay.io/calico/node:v3.2.8"),
            ("localhost:5000/node", "localhost:5000/node:latest"),
            ("localhost/node:x", "localhost/node:x"),
            ("node@sha256:abc", "docker.io/library/node@sha256:abc"),
        ] {
            assert_eq!(normalise(given), full, "{given}");
        }
    }

    #[test]
    fn short_names_resolve_only_to_themselves_behind_a_registry() {
        assert!(resolves_to(
            "calico-node-standin",
            "localhost/calico-node-standin:latest"
        ));
        assert!(resolves_to(
            "calico/node:v3.29.4",
            "quay.io/calico/node:v3.29.4"
        ));
        assert!(resolves_to(
            "busybox:1.36",
            "docker.io/library/busybox:1.36"
        ));
        assert!(resolves_to("node@sha256:ab", "localhost/node@sha256:ab"));
        for (planned, named) in [
            ("calico/node:v3.29.4", "quay.io/calico/node:v3.29.5"),
            ("calico/node:v3.29.4", "quay.io/other/node:v3.29.4"),
            ("node", "localhost/calico/node:latest"),
            ("quay.io/calico/node:v1", "localhost/calico/node:v1"),
            ("calico/node:v1", "calico/node:v1"),
        ] {
            assert!(!resolves_to(planned, named), "{planned} as {named}");
        }
    }
}

/// Captured `inspect` output of both engines (tests/fixtures/inspect, made
/// by docker 20.10 and podman 4.3 from a stand-in image tagged several
/// ways): each container checks clean against the references our commands
/// would print for it, and not against another image's.
#[cfg(test)]
mod captured {
    use super::super::compare::compare;
    use super::super::{EngineKind, Observed};
    use crate::plan::{Mode, Plan};

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/inspect");
    const DIGEST: &str = "sha256:9fbcb8d21a88c1b346c0b2c81d570893e377c690c3a21907ad96f65140ce7488";

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{FIXTURES}/{name}.json")).unwrap()
    }

    /// The image lines of comparing `container` (a fixture) with a plan of
    /// `planned`, the planned reference naming `image` (a fixture) or none.
    fn image_lines(
        engine: EngineKind,
        container: &str,
        image: Option<&str>,
        planned: &str,
    ) -> Vec<String> {
        let c = engine.container(&fixture(container)).unwrap();
        let planned_image = image.map(|i| engine.image(&fixture(i)).unwrap());
        let observed = Observed {
            container_image: planned_image.clone(),
            container: Some(c),
            planned_image,
            engine,
        };
        let plan = Plan {
            node_name: "n".into(),
            container_name: observed.container.as_ref().unwrap().name.clone(),
            image: planned.into(),
            mode: Mode::Detached,
            datastore: crate::config::DatastoreType::Etcdv3,
            env: Vec::new(),
            volumes: Vec::new(),
            ignored_options: Vec::new(),
            node_name_from: crate::plan::NodeName::Given,
            libnetwork: crate::plan::Libnetwork::Off,
            served: Default::default(),
            fixed_addresses: Vec::new(),
            health: None,
        };
        compare(&plan, &observed)
            .lines()
            .into_iter()
            .filter(|l| l.starts_with("image"))
            .collect()
    }

    #[test]
    fn podman_references_as_podman_resolved_them() {
        let p = EngineKind::Podman;
        let tagged = Some("podman-4.3-image-tagged");
        let digest = format!("quay.io/calico/node@{DIGEST}");
        let short_digest = format!("calico/node@{DIGEST}");
        for (container, planned) in [
            // A local image: podman names it localhost/.
            ("podman-4.3-container-local", "calico-node-standin"),
            (
                "podman-4.3-container-local",
                "localhost/calico-node-standin",
            ),
            (
                "podman-4.3-container-local",
                "localhost/calico-node-standin:latest",
            ),
            // A short name podman resolved to its search registry.
            ("podman-4.3-container-short-registry", "calico/node:v3.29.4"),
            (
                "podman-4.3-container-short-registry",
                "quay.io/calico/node:v3.29.4",
            ),
            (
                "podman-4.3-container-qualified",
                "quay.io/calico/node:v3.29.4",
            ),
            ("podman-4.3-container-qualified", "calico/node:v3.29.4"),
            // By digest, qualified or short.
            ("podman-4.3-container-digest", digest.as_str()),
            ("podman-4.3-container-digest", short_digest.as_str()),
        ] {
            assert_eq!(
                image_lines(p, container, tagged, planned),
                Vec::<String>::new(),
                "{container} as {planned}"
            );
        }
        // Really another image: drift, naming both references.
        for (container, planned, line) in [
            (
                "podman-4.3-container-local",
                "calico-node-other",
                "image: running localhost/calico-node-standin:latest, planned calico-node-other",
            ),
            (
                "podman-4.3-container-short-registry",
                "calico/node:v3.29.5",
                "image: running quay.io/calico/node:v3.29.4, planned calico/node:v3.29.5",
            ),
            (
                "podman-4.3-container-short-registry",
                "docker.io/calico/node:v3.29.4",
                "image: running quay.io/calico/node:v3.29.4, planned docker.io/calico/node:v3.29.4",
            ),
        ] {
            assert_eq!(
                image_lines(p, container, tagged, planned),
                [line],
                "{container} as {planned}"
            );
        }
        // Not resolvable here (the planned reference names no image): the
        // short name is not taken for a registry's, and the image is missing.
        assert_eq!(
            image_lines(
                p,
                "podman-4.3-container-short-registry",
                None,
                "calico/node:v3.29.4"
            ),
            [
                "image: running quay.io/calico/node:v3.29.4, planned calico/node:v3.29.4",
                "image calico/node:v3.29.4: not present on this host"
            ]
        );
    }

    #[test]
    fn docker_references_as_given_completed() {
        let d = EngineKind::Docker;
        let tagged = Some("docker-20.10-image-tagged");
        for (container, planned) in [
            ("docker-20.10-container-local", "calico-node-standin"),
            (
                "docker-20.10-container-local",
                "docker.io/library/calico-node-standin:latest",
            ),
            ("docker-20.10-container-short", "calico/node:v3.28.0"),
            (
                "docker-20.10-container-short",
                "docker.io/calico/node:v3.28.0",
            ),
            ("docker-20.10-container-docker-io", "calico/node:v3.28.0"),
            (
                "docker-20.10-container-qualified",
                "quay.io/calico/node:v3.29.4",
            ),
        ] {
            assert_eq!(
                image_lines(d, container, tagged, planned),
                Vec::<String>::new(),
                "{container} as {planned}"
            );
        }
        // Docker does not resolve a short name to another registry: the
        // same image under another reference is still another reference.
        assert_eq!(
            image_lines(
                d,
                "docker-20.10-container-qualified",
                tagged,
                "calico/node:v3.29.4"
            ),
            ["image: running quay.io/calico/node:v3.29.4, planned calico/node:v3.29.4"]
        );
    }
}
