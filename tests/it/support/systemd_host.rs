//! Hosts with systemd as PID 1 for the real-engine tier: where our units
//! run for real (tests/it/real_engine.rs) and where Ansible rolls calico/node
//! out (tests/it/ansible_rollout.rs), on docker outside the host or on podman 5
//! inside it.

use super::dockerd::Dockerd;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A host with systemd as PID 1, as a container on a private engine: a
/// Debian bookworm root with python3 (for Ansible), made by mmdebstrap and
/// cached in target/rootfs, with the socket of the engine its calico-node
/// runs on (`calico_engine`, maybe another one) and the docker CLI mounted
/// in, and a stand-in docker.service (oneshot) so that
/// `Requires=docker.service` holds.
pub struct SystemdHost<'a> {
    engine: &'a Dockerd,
    pub name: String,
}

/// Assert that a command succeeded, showing its stderr if not.
fn succeeded(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl<'a> SystemdHost<'a> {
    pub fn start(
        engine: &'a Dockerd,
        name: &str,
        calico_engine: &Dockerd,
    ) -> Option<SystemdHost<'a>> {
        let tar = super::debian_rootfs(
            "bookworm-systemd-python",
            "bookworm",
            "systemd,systemd-sysv,dbus,kmod,python3",
        )?;
        let docker_cli = super::require_program("docker").unwrap();
        let socket = format!("{}:/run/docker.sock", calico_engine.socket().display());
        let cli = format!("{}:/usr/bin/docker:ro", docker_cli.display());
        let host = SystemdHost::boot(
            engine,
            name,
            &tar,
            "calicoctl-test/systemd:bookworm",
            &[
                "--cgroupns=host",
                "-v",
                "/sys/fs/cgroup:/sys/fs/cgroup:rw",
                "-v",
                &socket,
                "-v",
                &cli,
            ],
        );
        host.install(
            "/etc/systemd/system/docker.service",
            "[Unit]\nDescription=stand-in: the engine runs outside this container\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n",
            "0644",
        );
        Some(host)
    }

    /// A host whose calico-node runs on podman 5 inside it: a Debian trixie
    /// root with systemd, podman (its Quadlet generator) and python3, its
    /// storage vfs and its OCI runtime the tests' shim (see
    /// tests/it/real_engine.rs), the stand-in image `image` imported, and the
    /// host directories the plan binds made.
    pub fn start_podman(engine: &'a Dockerd, name: &str, image: &str) -> Option<SystemdHost<'a>> {
        let tar = super::debian_rootfs(
            "trixie-systemd-podman",
            "trixie",
            "systemd,systemd-sysv,dbus,kmod,python3,podman,runc",
        )?;
        let shim = format!(
            "{}:/usr/local/bin/oci-runtime-shim:ro",
            super::standins().join("oci-runtime-shim").display()
        );
        // Its own cgroup namespace, and no bind mount of the machine's
        // cgroups: there podman's exec, and so its health checks, work
        // (they fail in the host's namespace on these cgroup v1 machines).
        let host = SystemdHost::boot(
            engine,
            name,
            &tar,
            "calicoctl-test/systemd-podman:trixie",
            &["--cgroupns=private", "-v", &shim],
        );
        host.install(
            "/etc/containers/storage.conf",
            "[storage]\ndriver = \"vfs\"\nrunroot = \"/run/containers/storage\"\ngraphroot = \"/var/lib/containers/storage\"\n",
            "0644",
        );
        host.install(
            "/etc/containers/containers.conf",
            "[engine]\nruntime = \"shim\"\n\n[engine.runtimes]\nshim = [\"/usr/local/bin/oci-runtime-shim\"]\n",
            "0644",
        );
        let dir = tempfile::tempdir().unwrap();
        let tar = super::busybox_image_tar(dir.path(), "image", super::STANDIN_START);
        let into = format!("{name}:/root/image.tar");
        succeeded(
            &engine.docker(&["cp", tar.to_str().unwrap(), &into]),
            "docker cp",
        );
        let change = r#"CMD ["/start"]"#;
        let import = [
            "podman",
            "import",
            "--change",
            change,
            "/root/image.tar",
            image,
        ];
        succeeded(&host.exec(&import), "podman import");
        let binds = [
            "/var/log/calico",
            "/var/run/calico",
            "/var/lib/calico",
            "/lib/modules",
        ];
        succeeded(
            &host.exec(&[&["mkdir", "-p"][..], &binds].concat()),
            "mkdir",
        );
        Some(host)
    }

    /// Import `tar` as `tag` and run it with systemd as PID 1, `extra`
    /// options to docker run (its cgroup namespace among them); wait until
    /// systemd is up.
    fn boot(
        engine: &'a Dockerd,
        name: &str,
        tar: &Path,
        tag: &str,
        extra: &[&str],
    ) -> SystemdHost<'a> {
        let out = engine.docker(&["import", tar.to_str().unwrap(), tag]);
        assert!(
            out.status.success(),
            "import: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut args = vec![
            "run",
            "-d",
            "--name",
            name,
            "--hostname",
            name,
            "--net=none",
            "--privileged",
            "--tmpfs",
            "/run",
            "--tmpfs",
            "/run/lock",
        ];
        args.extend_from_slice(extra);
        args.extend([tag, "/sbin/init"]);
        let out = engine.docker(&args);
        assert!(
            out.status.success(),
            "systemd container: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let container = SystemdHost {
            engine,
            name: name.to_string(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let state = container.exec(&["systemctl", "is-system-running"]);
            let state = String::from_utf8_lossy(&state.stdout).trim().to_string();
            if state == "running" || state == "degraded" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "systemd did not come up: {state}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        container
    }

    pub fn exec(&self, args: &[&str]) -> Output {
        self.engine
            .docker(&[&["exec", self.name.as_str()][..], args].concat())
    }

    pub fn install(&self, path: &str, text: &str, mode: &str) {
        let dir = Path::new(path).parent().unwrap().to_str().unwrap();
        let script = format!("mkdir -p '{dir}' && cat > '{path}' && chmod {mode} '{path}'");
        let mut child = Command::new("docker")
            .args(["exec", "-i", self.name.as_str(), "sh", "-c", &script])
            .env("DOCKER_HOST", self.engine.host())
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "install {path}");
    }

    pub fn systemctl(&self, args: &[&str]) -> Output {
        self.exec(&[&["systemctl"][..], args].concat())
    }

    pub fn is_active(&self) -> String {
        let out = self.systemctl(&["is-active", "calico-node"]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}
