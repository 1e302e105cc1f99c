//! What the operator runs beside the requests: `check-config` ([`check`]: every setting, the advice
//! start-up does not give, each store tried once), the hourly [`housekeeping`] sweep of what
//! expired, and the report of stored [`addresses`] the address grammar no longer accepts.

pub mod addresses;
pub mod check;
pub mod housekeeping;
