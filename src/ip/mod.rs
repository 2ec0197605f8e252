//! Which address calico/node will take: one concept, in two parts. The
//! autodetection methods as upstream's options spell them, parsed and
//! checked (`methods`), and calico/node's choice among a host's interfaces
//! by those methods, over a table read from the live system or a fixture
//! (`detection`). `node run` validates with the first; `node detect-ip` and
//! `--pin-ip` run the second.

pub mod detection;
pub mod lookup;
pub mod methods;
