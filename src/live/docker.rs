//! Docker's `inspect` JSON, as docker 20.10 (Debian's docker.io) writes
//! it: the name with a leading `/`, binds as the `-v` words given
//! (`HostConfig.Binds`: `HOST:CONTAINER[:ro]`), image IDs with `sha256:`.

use super::{Bind, Container, Error, Image, container_of, image_of, single, strings, text};

pub fn container(json: &str) -> Result<Container, Error> {
    let c = single(json, "docker container inspect")?;
    let name = text(&c["Name"]).trim_start_matches('/').to_string();
    let binds = strings(&c["HostConfig"]["Binds"])
        .iter()
        .map(|b| Bind::parse(b))
        .collect();
    Ok(container_of(&c, name, text(&c["Config"]["Image"]), binds))
}

pub fn image(json: &str) -> Result<Image, Error> {
    image_of(json, "docker image inspect")
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUNNING: &str = include_str!("../../tests/fixtures/inspect/docker-20.10-container.json");
    const EXITED: &str =
        include_str!("../../tests/fixtures/inspect/docker-20.10-exited-noenv.json");
    const IMAGE: &str = include_str!("../../tests/fixtures/inspect/docker-20.10-image.json");
    const IMAGE_NO_ENV: &str =
        include_str!("../../tests/fixtures/inspect/docker-20.10-image-noenv.json");

    #[test]
    fn a_container_started_by_our_docker_command() {
        let c = container(RUNNING).unwrap();
        assert_eq!(c.name, "calico-node");
        assert_eq!(c.image_ref, "quay.io/calico/node:standin");
        assert!(c.image_id.starts_with("sha256:a6077759a522"));
        assert!(c.env.contains(&("AS".into(), "64512".into())));
        assert!(c.env.contains(&("ETCD_PASSWORD".into(), "s3cret".into())));
        assert_eq!(c.binds.len(), 5);
        assert_eq!(c.binds[0].spec(), "/var/log/calico:/var/log/calico");
        assert!(c.privileged && c.running && !c.auto_remove);
        assert_eq!(
            (c.network_mode.as_str(), c.restart_policy.as_str()),
            ("host", "always")
        );
        assert_eq!(c.status, "running");
    }

    #[test]
    fn an_exited_container_with_a_read_only_bind() {
        let c = container(EXITED).unwrap();
        assert!(!c.running && !c.privileged);
        assert_eq!((c.status.as_str(), c.exit_code), ("exited", 0));
        assert_eq!(c.finished_at, "2026-11-30T21:33:48.79215155Z");
        assert_eq!(c.binds, [Bind::parse("/tmp:/tmp:ro")]);
        assert!(c.binds[0].read_only);
        assert_eq!(c.env, [("FOO".to_string(), "1".to_string())]);
        assert_eq!(c.restart_policy, "no");
    }

    #[test]
    fn images_with_and_without_env() {
        let i = image(IMAGE).unwrap();
        assert_eq!(i.id, container(RUNNING).unwrap().image_id);
        assert_eq!(
            i.env,
            [("CALICO_DISABLE_FILE_LOGGING".into(), "true".into())]
        );
        assert!(image(IMAGE_NO_ENV).unwrap().env.is_empty());
        assert!(image("[]").is_err());
    }
}
