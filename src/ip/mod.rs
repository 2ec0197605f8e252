//! Which address calico/node will take: one concept, in two parts. The
//! autodetection methods as upstream's options spell them, parsed and
//! checked (`methods`), and calico/node's choice among a host's interfaces
//! by those methods (`detection`), over a table read from the live system
//! or a fixture (`table`). `node run` validates with the first; `node
//! detect-ip` and `--pin-ip` run the second; a fleet looks its `can-reach=`
//! names up once each (`lookup`).

pub mod detection;
pub mod lookup;
pub mod methods;
pub mod table;
