//! Podman's `inspect` JSON, as podman 4.3 (Debian 12) writes it: the name
//! without `/`, binds read from `Mounts` (`Type: bind`, `Source`,
//! `Destination`, `RW`; its `HostConfig.Binds` spells podman's own
//! options, `rw,rprivate,rbind`), image IDs without `sha256:`, and
//! variables podman adds to every container (`container=podman`,
//! `HOSTNAME`, `TERM`, a default `PATH`), which `EngineKind::added` knows.

use super::{Bind, Container, Error, Image, container_of, image_of, single, text};
use serde_json::Value;

fn binds(mounts: &Value) -> Vec<Bind> {
    let Some(mounts) = mounts.as_array() else {
        return Vec::new();
    };
    mounts
        .iter()
        .filter(|m| m["Type"] == "bind")
        .map(|m| Bind {
            host: text(&m["Source"]),
            container: text(&m["Destination"]),
            read_only: m["RW"] == false,
        })
        .collect()
}

pub fn container(json: &str) -> Result<Container, Error> {
    let c = single(json, "podman container inspect")?;
    let binds = binds(&c["Mounts"]);
    Ok(container_of(
        &c,
        text(&c["Name"]),
        text(&c["ImageName"]),
        binds,
    ))
}

pub fn image(json: &str) -> Result<Image, Error> {
    image_of(json, "podman image inspect")
}

#[cfg(test)]
mod tests {
    use super::super::EngineKind;
    use super::*;

    const RUNNING: &str = include_str!("../../tests/fixtures/inspect/podman-4.3-container.json");
    const EXITED: &str = include_str!("../../tests/fixtures/inspect/podman-4.3-exited-noenv.json");
    const IMAGE: &str = include_str!("../../tests/fixtures/inspect/podman-4.3-image.json");
    const IMAGE_NO_ENV: &str =
        include_str!("../../tests/fixtures/inspect/podman-4.3-image-noenv.json");

    #[test]
    fn a_container_started_by_our_podman_command() {
        let c = container(RUNNING).unwrap();
        assert_eq!(c.name, "calico-node");
        assert_eq!(c.image_ref, "quay.io/calico/node:standin");
        assert!(c.image_id.starts_with("113e233ff299"));
        assert!(c.env.contains(&("ETCD_PASSWORD".into(), "s3cret".into())));
        let mut specs: Vec<String> = c.binds.iter().map(Bind::spec).collect();
        specs.sort();
        assert_eq!(specs[0], "/lib/modules:/lib/modules");
        assert_eq!(specs.len(), 5);
        assert!(c.privileged && c.running && !c.auto_remove);
        assert_eq!(
            (c.network_mode.as_str(), c.restart_policy.as_str()),
            ("host", "always")
        );
    }

    #[test]
    fn podmans_own_variables_are_known_as_its_own() {
        let c = container(RUNNING).unwrap();
        let i = image(IMAGE).unwrap();
        let added: Vec<&str> = c
            .env
            .iter()
            .filter(|(k, v)| EngineKind::Podman.added(k, v, Some(&i)))
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(added, ["TERM", "PATH", "container", "HOSTNAME"]);
        assert!(!EngineKind::Docker.added("container", "podman", Some(&i)));
    }

    #[test]
    fn an_exited_container_with_a_read_only_bind() {
        let c = container(EXITED).unwrap();
        assert!(!c.running && !c.privileged);
        assert_eq!(c.status, "exited");
        assert_eq!(
            c.binds.iter().map(Bind::spec).collect::<Vec<_>>(),
            ["/tmp:/tmp:ro"]
        );
        assert!(image(IMAGE_NO_ENV).unwrap().env.is_empty());
        assert_eq!(
            image(IMAGE).unwrap().id,
            container(RUNNING).unwrap().image_id
        );
    }
}
