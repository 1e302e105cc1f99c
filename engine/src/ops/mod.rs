//! What the operator runs beside the requests: `check-config` ([`check`]: every setting, the advice
//! start-up does not give, each store tried once) and the hourly [`housekeeping`] sweep of what
//! expired.

pub mod check;
pub mod housekeeping;
