//! A stand-in Docker Engine API server on a unix socket. It answers just
//! enough for `docker run` to create and start a container, and records the
//! create request so tests can check what the real docker CLI understood.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A captured `POST /containers/create`.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    /// The `name` query parameter.
    pub name: String,
    pub body: serde_json::Value,
}

pub struct FakeEngine {
    pub socket: PathBuf,
    creates: Arc<Mutex<Vec<CreateRequest>>>,
}

impl FakeEngine {
    pub fn start(dir: &Path) -> FakeEngine {
        let socket = dir.join("docker.sock");
        let listener = UnixListener::bind(&socket).expect("bind stand-in engine socket");
        let creates = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&creates);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        FakeEngine { socket, creates }
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    pub fn creates(&self) -> Vec<CreateRequest> {
        self.creates.lock().unwrap().clone()
    }
}

fn respond(stream: &mut UnixStream, status: &str, headers: &[(&str, &str)], body: &str) {
    let mut text = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        text += &format!("{k}: {v}\r\n");
    }
    text += &format!("Content-Length: {}\r\n\r\n{body}", body.len());
    let _ = stream.write_all(text.as_bytes());
}

fn query_param(target: &str, key: &str) -> Option<String> {
    let query = target.split_once('?')?.1;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.to_string())
    })
}

fn serve(stream: UnixStream, creates: &Mutex<Vec<CreateRequest>>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("").to_string();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let json = [("Content-Type", "application/json")];
        let path = target.split('?').next().unwrap_or("");
        if path.ends_with("/_ping") {
            let headers = [
                ("Api-Version", "1.41"),
                ("Ostype", "linux"),
                ("Content-Type", "text/plain"),
            ];
            respond(
                &mut writer,
                "200 OK",
                &headers,
                if method == "HEAD" { "" } else { "OK" },
            );
        } else if method == "POST" && path.ends_with("/containers/create") {
            let body: serde_json::Value =
                serde_json::from_slice(&body).expect("create body is JSON");
            let name = query_param(&target, "name").unwrap_or_default();
            creates.lock().unwrap().push(CreateRequest { name, body });
            respond(
                &mut writer,
                "201 Created",
                &json,
                r#"{"Id":"0123456789abcdef","Warnings":[]}"#,
            );
        } else if method == "POST" && path.ends_with("/start") {
            respond(&mut writer, "204 No Content", &[], "");
        } else if method == "POST" && path.ends_with("/wait") {
            respond(&mut writer, "200 OK", &json, r#"{"StatusCode":0}"#);
        } else if method == "POST" && path.ends_with("/attach") {
            let _ = writer.write_all(
                b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
            );
            return;
        } else {
            respond(
                &mut writer,
                "404 Not Found",
                &json,
                r#"{"message":"not in the stand-in engine"}"#,
            );
        }
    }
}

/// What the docker CLI asked the engine to create.
#[derive(Debug)]
pub struct Created {
    /// The `name` query parameter.
    pub name: String,
    pub image: String,
    /// Environment and binds, sorted: the docker CLI sends them in an order
    /// of its own, which is no part of the container's configuration.
    pub env: Vec<String>,
    pub binds: Vec<String>,
    pub body: serde_json::Value,
}

fn sorted_strings(v: &serde_json::Value) -> Vec<String> {
    let mut items: Vec<String> = v
        .as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    items.sort();
    items
}

/// Run `cmd` (which calls docker) against a fresh stand-in engine. Returns
/// the one create request, or docker's complaint when none was made.
pub fn created_by(mut cmd: std::process::Command, dir: &Path) -> Result<Created, String> {
    let engine_dir = tempfile::tempdir_in(dir).unwrap();
    let engine = FakeEngine::start(engine_dir.path());
    let out = cmd
        .env("DOCKER_HOST", engine.host())
        .env("HOME", dir)
        .output()
        .unwrap();
    let creates = engine.creates();
    match creates.as_slice() {
        [] => Err(format!(
            "no container created (status {}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )),
        [one] => Ok(Created {
            name: one.name.clone(),
            image: one.body["Image"].as_str().unwrap_or_default().to_string(),
            env: sorted_strings(&one.body["Env"]),
            binds: sorted_strings(&one.body["HostConfig"]["Binds"]),
            body: one.body.clone(),
        }),
        many => panic!("{} containers created", many.len()),
    }
}
