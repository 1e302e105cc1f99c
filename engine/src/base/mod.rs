//! What every other wing stands on: the one [`Error`](error::Error) enum, parsed values and typed
//! ids ([`types`]), Unix seconds ([`clock`]), the metrics ([`measure`]), the [`Config`](config::Config)
//! from `LATCHKEY_*` variables ([`config`]), and sealing under the operator secret ([`sealed`]).
//! Nothing here reads a store.

pub mod clock;
pub mod config;
pub mod error;
pub mod measure;
pub mod sealed;
pub mod types;
