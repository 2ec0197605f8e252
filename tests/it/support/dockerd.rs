//! A private dockerd for the real-engine tier (tests/it/real_engine.rs,
//! tests/it/live_check.rs): its own data root, exec root, socket and pidfile
//! in a temporary directory, in a private mount namespace (see
//! `private_host_mounts`), with the OCI runtime shim, and the stand-in
//! calico/node images imported. Stopped, its containers removed, on drop.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct Dockerd {
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Dockerd {
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("docker.sock")
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    pub fn start() -> Option<Dockerd> {
        super::require_program("dockerd")?;
        super::require_program("unshare")?;
        super::require_program("busybox")?;
        if !super::require_root() {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let shim = super::standins().join("oci-runtime-shim");
        let script = format!(
            "{} && exec dockerd --data-root {d}/root --exec-root {d}/exec -H unix://{d}/docker.sock \
                --pidfile {d}/docker.pid --storage-driver=vfs --iptables=false --ip6tables=false \
                --bridge=none --add-runtime shim={} --default-runtime=shim",
            super::private_host_mounts(dir.path()),
            shim.display()
        );
        let log = std::fs::File::create(dir.path().join("dockerd.log")).unwrap();
        let child = super::engine_namespace()
            .args(["sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let engine = Dockerd { dir, child };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !engine.docker(&["version"]).status.success() {
            assert!(
                Instant::now() < deadline,
                "dockerd did not come up:\n{}",
                std::fs::read_to_string(engine.dir.path().join("dockerd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        engine.images();
        Some(engine)
    }

    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .args(args)
            .env("DOCKER_HOST", self.host())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// The stand-in images, each a busybox with a start script: one that
    /// succeeds (and is ready once started), one that fails, one that never
    /// reports success nor becomes ready.
    pub fn images(&self) {
        let scripts = [
            ("calico/node:standin", super::STANDIN_START),
            (
                "calico/node:standin-fail",
                "env | sort\necho boom\nexit 3\n",
            ),
            (
                "calico/node:standin-silent",
                "env | sort\ntrap 'exit 0' TERM INT\nwhile :; do sleep 1; done\n",
            ),
        ];
        for (i, (tag, script)) in scripts.iter().enumerate() {
            let tar = super::busybox_image_tar(self.dir.path(), &format!("image{i}"), script);
            let out = self.docker(&[
                "import",
                "--change",
                r#"CMD ["/start"]"#,
                tar.to_str().unwrap(),
                tag,
            ]);
            assert!(
                out.status.success(),
                "import {tag}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    pub fn inspect(&self, name: &str) -> Value {
        let out = self.docker(&["inspect", name]);
        assert!(
            out.status.success(),
            "inspect {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()[0].clone()
    }

    pub fn remove_all(&self) {
        let ids = self.docker(&["ps", "-aq"]);
        for id in String::from_utf8_lossy(&ids.stdout).split_whitespace() {
            self.docker(&["rm", "-f", id]);
        }
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        self.remove_all();
        // SAFETY: kill only signals the unshare we started; its child,
        // dockerd, and the whole PID namespace die with it.
        unsafe { libc_kill(self.child.id() as i32, 15) };
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}
