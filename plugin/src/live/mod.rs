//! The live side: kubeconfig, the cluster client and snapshots, and the views that `list`,
//! `get` and `describe` show (computed from a model, so `--repo` shows the same).

pub mod age;
pub mod cluster;
pub mod compare;
pub mod jsonpath;
pub mod kubeconfig;
pub mod table;
pub mod views;
