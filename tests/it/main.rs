//! Every integration test but the golden cases, as one binary: each file
//! here is a module, `support` is compiled once. The tiers that need an
//! engine, a Debian root, network namespaces or the packages are
//! `#[ignore]`d with their reason (`cargo test -- --include-ignored` runs
//! them); one module runs alone with `cargo test --test it MODULE::`.

mod support;

mod ansible_inventory;
mod ansible_rollout;
mod cli_edges;
mod consumers;
mod debian_package;
mod documents;
mod fleet;
mod fleet_remote;
mod hostile_input;
mod live_check;
mod netns;
mod out_faults;
mod packaging;
mod podman;
mod provisioning;
mod quadlet;
mod real_engine;
mod shell_quoting;
mod streams;
mod terminal;
