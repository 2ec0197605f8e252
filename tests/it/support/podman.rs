//! A private podman for the tests: its own configuration and storage
//! (vfs, cgroupfs, file events) under a temporary directory, run in one
//! private mount namespace held open by a sleeping process, so nothing of
//! the host's podman is read or changed. Shared by tests/it/podman.rs and
//! tests/it/quadlet.rs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A podman with its own configuration and storage in a temporary
/// directory, run in one private mount namespace (held open by a sleeping
/// process) where the plan's bind sources can be made without touching the
/// host: podman checks they exist, and runc keeps its state in that
/// namespace's `/run`.
pub struct Podman {
    pub dir: tempfile::TempDir,
    holder: std::process::Child,
}

impl Podman {
    pub fn new() -> Option<Podman> {
        super::require_program("podman")?;
        if !super::require_root() {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("storage.conf"),
            format!(
                "[storage]\ndriver = \"vfs\"\nrunroot = \"{0}/run\"\ngraphroot = \"{0}/graph\"\n",
                d.display()
            ),
        )
        .unwrap();
        // The runtime shim removes the capabilities this machine's bounding
        // set lacks, and the rlimits, before runc (see tests/it/real_engine.rs).
        std::fs::write(
            d.join("containers.conf"),
            format!(
                "[engine]\nevents_logger = \"file\"\ncgroup_manager = \"cgroupfs\"\nruntime = \"shim\"\ntmp_dir = \"{}/libpod\"\n\n[engine.runtimes]\nshim = [\"{}\"]\n",
                d.display(),
                super::standins().join("oci-runtime-shim").display()
            ),
        )
        .unwrap();
        // Short names resolve against this list alone, not the host's.
        std::fs::write(
            d.join("registries.conf"),
            "unqualified-search-registries = [\"quay.io\"]\nshort-name-mode = \"permissive\"\n",
        )
        .unwrap();
        let mounts = super::private_host_mounts(&d.join("host"));
        let ready = d.join("ready");
        let holder = super::engine_namespace()
            .args(["sh", "-c"])
            .arg(format!(
                "{mounts} && mkdir -p /var/lib/calico /run/calico /usr/lib/modules && touch '{}' && exec sleep 86400",
                ready.display()
            ))
            .stdin(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let podman = Podman { dir, holder };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !ready.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "the mount namespace did not come up"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Some(podman)
    }

    /// A command that runs in the namespace.
    pub fn in_namespace(&self, program: &str) -> Command {
        let mut cmd = Command::new("nsenter");
        // The mount namespace, and the PID namespace of the holder's
        // children: conmon and the containers die with the holder.
        let id = self.holder.id();
        cmd.arg(format!("--mount=/proc/{id}/ns/mnt"))
            .arg(format!("--pid=/proc/{id}/ns/pid_for_children"))
            .arg(program);
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        cmd
    }

    /// Run podman in a private mount namespace where the host directories
    /// the plan binds exist (`podman create` checks them): tmpfs over
    /// `/var/lib` and `/run` there, with `calico` made in each. The host's
    /// own directories are not touched.
    /// The environment podman needs to use this configuration.
    pub fn env(&self) -> Vec<(String, PathBuf)> {
        let d = self.dir.path();
        vec![
            ("CONTAINERS_STORAGE_CONF".into(), d.join("storage.conf")),
            ("CONTAINERS_CONF".into(), d.join("containers.conf")),
            ("XDG_RUNTIME_DIR".into(), d.join("xdg")),
            (
                "CONTAINERS_REGISTRIES_CONF".into(),
                d.join("registries.conf"),
            ),
        ]
    }

    /// `script` run by sh in the namespace, with `extra` in its environment.
    pub fn sh(&self, script: &str, cwd: &Path, extra: &[(&str, &str)]) -> Output {
        let mut cmd = self.in_namespace("sh");
        cmd.arg("-c").arg(script).current_dir(cwd).env(
            "PATH",
            format!(
                "{}:/usr/local/bin:/usr/bin:/usr/sbin:/bin:/sbin",
                cwd.join("bin").display()
            ),
        );
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    pub fn inspect(&self, name: &str) -> serde_json::Value {
        let out = self.run(&["inspect", name]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()[0].clone()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.in_namespace("podman").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "podman {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// A stand-in image (busybox, sleeping) under `name`.
    pub fn import_image(&self, name: &str) {
        let tar = super::busybox_image_tar(self.dir.path(), "image", "exec sleep 3600\n");
        let cmd = r#"CMD ["/start"]"#;
        self.run(&["import", "--change", cmd, tar.to_str().unwrap(), name]);
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.in_namespace("podman").args(["rm", "-af"]).output();
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}
