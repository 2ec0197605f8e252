//! What users install, checked by the programs that consume it:
//! `packaging/build.sh` run twice gives the same bytes; `sha256sum -c`
//! accepts its sums; lintian reports no error; the package installs with
//! `dpkg -i` into a clean Debian root (mmdebstrap), where `calicoctl node
//! run --dryrun` and `calicoctl version` run, `man` finds the pages, bash
//! completes from the installed file, and `dpkg --purge` leaves nothing.
//! The release archive holds one top folder with what README says.
//! Needs root, dpkg-deb, lintian and mmdebstrap (installed by .ci/run).

use crate::support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

fn names() -> (String, String) {
    let v = version();
    (
        format!("calicoctl_{v}_amd64.deb"),
        format!("calicoctl-{v}-x86_64-unknown-linux-gnu.tar.gz"),
    )
}

fn build(out: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/build.sh");
    let run = Command::new("bash").arg(script).arg(out).output().unwrap();
    support::assert_success_in(&run, "build.sh");
}

fn ok(out: Output, what: &str) -> String {
    support::assert_success_in(&out, what);
    String::from_utf8(out.stdout).unwrap()
}

/// Build twice: the two sets of files are the same bytes. The first set.
fn built_twice() -> Option<(tempfile::TempDir, PathBuf, PathBuf)> {
    for tool in ["dpkg-deb", "lintian", "mmdebstrap"] {
        support::require_program(tool)?;
    }
    if !support::require_root() {
        return None;
    }
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    build(a.path());
    build(b.path());
    let (deb, tgz) = names();
    for name in [
        &deb,
        &tgz,
        &format!("{deb}.sha256"),
        &format!("{tgz}.sha256"),
    ] {
        let first = std::fs::read(a.path().join(name)).unwrap();
        let second = std::fs::read(b.path().join(name)).unwrap();
        assert!(first == second, "{name} differs between two builds");
    }
    let sums = Command::new("sha256sum")
        .args(["-c", &format!("{deb}.sha256"), &format!("{tgz}.sha256")])
        .current_dir(a.path())
        .output()
        .unwrap();
    ok(sums, "sha256sum -c");
    let (deb, tgz) = (a.path().join(deb), a.path().join(tgz));
    Some((a, deb, tgz))
}

fn field(deb: &Path, name: &str) -> String {
    let out = Command::new("dpkg-deb")
        .arg("-f")
        .arg(deb)
        .arg(name)
        .output()
        .unwrap();
    ok(out, "dpkg-deb -f").trim().to_string()
}

fn check_package_contents(deb: &Path) {
    assert_eq!(field(deb, "Package"), "calicoctl");
    assert_eq!(field(deb, "Version"), version());
    assert_eq!(field(deb, "Architecture"), "amd64");
    assert!(field(deb, "Maintainer").contains('<'));
    assert!(
        field(deb, "Depends").starts_with("libc6 (>= "),
        "{}",
        field(deb, "Depends")
    );
    assert!(!field(deb, "Description").is_empty());
    let listing = ok(
        Command::new("dpkg-deb")
            .arg("-c")
            .arg(deb)
            .output()
            .unwrap(),
        "dpkg-deb -c",
    );
    for path in [
        "./usr/bin/calicoctl",
        "./usr/share/man/man1/calicoctl-node-run.1.gz",
        "./usr/share/man/man1/calicoctl.1.gz",
        "./usr/share/bash-completion/completions/calicoctl",
        "./usr/share/zsh/vendor-completions/_calicoctl",
        "./usr/share/fish/vendor_completions.d/calicoctl.fish",
        "./usr/share/doc/calicoctl/copyright",
        "./usr/share/doc/calicoctl/changelog.gz",
    ] {
        assert!(
            listing.lines().any(|l| l.ends_with(path)),
            "{path} not in the package:\n{listing}"
        );
    }
    for line in listing.lines() {
        assert!(line.contains(" root/root "), "not root-owned: {line}");
    }
}

fn check_archive(tgz: &Path) {
    let listing = ok(
        Command::new("tar").arg("-tzf").arg(tgz).output().unwrap(),
        "tar -tzf",
    );
    let top = format!("calicoctl-{}-x86_64-unknown-linux-gnu/", version());
    for line in listing.lines() {
        assert!(line.starts_with(&top), "outside the top folder: {line}");
    }
    for file in [
        "calicoctl",
        "README.md",
        "LICENSE",
        "man/calicoctl-node-run.1.gz",
        "completions/calicoctl.bash",
        "completions/_calicoctl",
        "completions/calicoctl.fish",
    ] {
        let path = format!("{top}{file}");
        assert!(
            listing.lines().any(|l| l == path),
            "{path} not in:\n{listing}"
        );
    }
}

fn lintian_reports_no_error(deb: &Path) {
    let out = Command::new("lintian")
        .args(["--fail-on", "error", "--display-info"])
        .arg(deb)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    eprintln!("lintian:\n{report}");
    support::assert_success_in(&out, "lintian");
    assert!(!report.lines().any(|l| l.starts_with("E: ")), "{report}");
}

/// `script` run by sh in the root `root` (its own mount namespace).
fn in_root(root: &Path, script: &str) -> Output {
    in_root_by(root, "/bin/sh", script)
}

/// `script` run by `shell` in the root `root`.
fn in_root_by(root: &Path, shell: &str, script: &str) -> Output {
    Command::new("unshare")
        .args(["--mount", "--fork", "chroot"])
        .arg(root)
        .args([shell, "-c", script])
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("CALICOCTL_HOSTNAME", "node1")
        .env("HOME", "/root")
        .output()
        .unwrap()
}

/// Every path in the root but the databases of dpkg, man-db and the logs.
fn files_of(root: &Path) -> BTreeSet<String> {
    let out = Command::new("find")
        .arg(".")
        .current_dir(root)
        .output()
        .unwrap();
    ok(out, "find")
        .lines()
        .filter(|p| {
            ![
                "./var/lib/dpkg",
                "./var/cache/man",
                "./var/log",
                "./tmp",
                "./proc",
            ]
            .iter()
            .any(|skip| p.starts_with(skip))
        })
        .map(str::to_string)
        .collect()
}

fn install_run_and_purge(deb: &Path) {
    let Some(tar) = support::debian_rootfs("bookworm-man", "bookworm", "man-db,bash") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let unpacked = Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(&root)
        .output()
        .unwrap();
    ok(unpacked, "tar -x");
    let before = files_of(&root);
    std::fs::copy(deb, root.join("tmp/calicoctl.deb")).unwrap();
    ok(in_root(&root, "dpkg -i /tmp/calicoctl.deb"), "dpkg -i");

    let dry = ok(
        in_root(&root, "calicoctl node run --dryrun"),
        "node run --dryrun",
    );
    assert!(dry.contains("docker run"), "{dry}");
    let version = ok(in_root(&root, "calicoctl version"), "calicoctl version");
    assert!(
        version.starts_with(&format!("Client Version:    {}\n", self::version())),
        "{version}"
    );
    let page = ok(in_root(&root, "man -w calicoctl-node-run"), "man -w");
    assert_eq!(page.trim(), "/usr/share/man/man1/calicoctl-node-run.1.gz");
    let text = ok(in_root(&root, "MANPAGER=cat man calicoctl-node-run"), "man");
    assert!(text.contains("--dryrun"), "{text}");
    let complete = ok(
        in_root_by(
            &root,
            "/bin/bash",
            r#". /usr/share/bash-completion/completions/calicoctl
spec=$(complete -p calicoctl) || exit 3
fn=${spec##*-F }; fn=${fn%% *}
COMP_WORDS=(calicoctl node r); COMP_CWORD=2
COMP_LINE="calicoctl node r"; COMP_POINT=${#COMP_LINE}
"$fn" calicoctl r node
printf '%s\n' "${COMPREPLY[@]}""#,
        ),
        "bash completion",
    );
    assert_eq!(complete.trim(), "run", "{complete}");

    ok(in_root(&root, "dpkg --purge calicoctl"), "dpkg --purge");
    let after = files_of(&root);
    let left: Vec<_> = after.difference(&before).collect();
    let gone: Vec<_> = before.difference(&after).collect();
    assert!(
        left.is_empty() && gone.is_empty(),
        "left {left:?}, removed {gone:?}"
    );
}

#[test]
#[ignore = "package tier: builds the packages and installs them in a Debian root; cargo test -- --include-ignored runs it (.ci/run does)"]
fn the_package_and_archive_are_reproducible_lint_clean_and_install_cleanly() {
    let Some((_dir, deb, tgz)) = built_twice() else {
        return;
    };
    check_package_contents(&deb);
    check_archive(&tgz);
    lintian_reports_no_error(&deb);
    install_run_and_purge(&deb);
}
