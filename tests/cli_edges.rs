//! Command-line input that golden files cannot hold: bytes that are not
//! UTF-8 must give a clear error, never a panic.

mod support;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

#[test]
fn non_utf8_arguments_are_refused_cleanly() {
    let out = support::calicoctl(&["node", "run", "--dryrun"])
        .arg(OsStr::from_bytes(b"--name=\xff\xfe"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error executing command: arguments must be valid UTF-8\n"
    );
}
