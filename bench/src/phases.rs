//! The measured phases: closed loop (fixed concurrency, fixed duration) and paced (fixed arrival rate),
//! each sampling the server's CPU time and peak RSS from `/proc` around it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use testkit::SoftAuthenticator;
use tokio::task::JoinSet;

use crate::BoxError;
use crate::client::{Api, OpError, VirtualUser};
use crate::procfs::{self, Pid};

/// One benchmarked operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// authenticate/begin `{}` + authenticate/complete.
    SignInDiscoverable,
    /// authenticate/begin `{email}` + authenticate/complete.
    SignInTargeted,
    /// register/begin + register/complete, each with a new device.
    RegisterPasskey,
    /// `POST /auth/refresh`.
    Refresh,
    /// `GET /auth/passkeys`.
    ListPasskeys,
    /// `POST /auth/login` (Argon2id).
    PasswordLogin,
    /// An app's OpenID Connect sign-in of a returning user: authorize + code exchange.
    AppSignIn(crate::oidc::App),
    /// `GET /.well-known/jwks.json`.
    FetchKeys,
}

impl Op {
    /// The phase's name in the report.
    pub fn label(self) -> &'static str {
        match self {
            Self::SignInDiscoverable => "passkey sign-in, discoverable",
            Self::SignInTargeted => "passkey sign-in, targeted (email)",
            Self::RegisterPasskey => "passkey registration",
            Self::Refresh => "refresh-token rotation",
            Self::ListPasskeys => "list passkeys",
            Self::PasswordLogin => "password login (Argon2id)",
            Self::AppSignIn(crate::oidc::App::Rs256) => "OIDC app sign-in: authorize + code exchange (RS256 ID token)",
            Self::AppSignIn(crate::oidc::App::Es256) => "OIDC app sign-in: authorize + code exchange (ES256 ID token)",
            Self::AppSignIn(crate::oidc::App::Hashed) => "OIDC app sign-in, Argon2id-hashed client secret (RS256)",
            Self::AppSignIn(crate::oidc::App::Openid) => "OIDC app sign-in, scope openid alone (ES256)",
            Self::AppSignIn(crate::oidc::App::Groups) => "OIDC app sign-in for one group, scope groups (ES256)",
            Self::FetchKeys => "JWKS fetch",
        }
    }

    async fn run(self, api: &Api, user: &mut VirtualUser) -> Result<(), OpError> {
        match self {
            Self::SignInDiscoverable => api.passkey_sign_in(user, false).await,
            Self::SignInTargeted => api.passkey_sign_in(user, true).await,
            Self::RegisterPasskey => api.register_passkey(user, &mut SoftAuthenticator::new()).await,
            Self::Refresh => api.refresh(user).await,
            Self::ListPasskeys => api.list_passkeys(user).await,
            Self::PasswordLogin => api.password_login(user).await,
            Self::AppSignIn(app) => crate::oidc::sign_in(api, user, app).await,
            Self::FetchKeys => crate::oidc::fetch_keys(api).await,
        }
    }
}

/// What one worker task saw.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    errors: BTreeMap<String, u64>,
}

impl Tally {
    fn record(&mut self, latency: Duration, outcome: Result<(), OpError>) {
        match outcome {
            Ok(()) => self.latencies_us.push(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX)),
            Err(e) => *self.errors.entry(e.to_string()).or_default() += 1,
        }
    }

    fn merge(&mut self, other: Self) {
        self.latencies_us.extend(other.latencies_us);
        for (key, count) in other.errors {
            *self.errors.entry(key).or_default() += count;
        }
    }
}

/// The measured outcome of one phase.
pub struct PhaseResult {
    /// Row label.
    pub name: String,
    /// How the load was applied: `"16"` clients, or `"1000/s"`.
    pub load: String,
    /// Wall time from the start of the load until the last operation ended.
    pub elapsed: Duration,
    /// Latencies of the successful operations, microseconds, sorted.
    pub latencies_us: Vec<u64>,
    /// Failed operations by kind.
    pub errors: BTreeMap<String, u64>,
    /// Server utime + stime over the phase, seconds.
    pub server_cpu_s: f64,
    /// The load generator's own utime + stime over the phase, seconds.
    pub loadgen_cpu_s: f64,
    /// Server peak RSS during the phase (KiB): `VmHWM` after resetting it at the start.
    pub server_peak_rss_kib: u64,
}

impl PhaseResult {
    /// Successful operations.
    pub fn successes(&self) -> u64 {
        self.latencies_us.len() as u64
    }

    /// Failed operations.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Successful operations per second.
    pub fn ops_per_second(&self) -> f64 {
        self.successes() as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    /// The `p`-th quantile (0..=1) of the successful latencies, milliseconds (nearest rank).
    pub fn percentile_ms(&self, p: f64) -> f64 {
        let n = self.latencies_us.len();
        if n == 0 {
            return f64::NAN;
        }
        let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
        self.latencies_us[rank - 1] as f64 / 1000.0
    }

    /// Server CPU milliseconds per successful operation.
    pub fn server_cpu_ms_per_op(&self) -> f64 {
        self.server_cpu_s * 1000.0 / self.successes().max(1) as f64
    }

    /// Load-generator CPU milliseconds per successful operation.
    pub fn loadgen_cpu_ms_per_op(&self) -> f64 {
        self.loadgen_cpu_s * 1000.0 / self.successes().max(1) as f64
    }

    /// Server CPU use during the phase, in cores (1.0 = one core busy all the time).
    pub fn server_cores(&self) -> f64 {
        self.server_cpu_s / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

/// `/proc` readings taken at the start of a phase.
struct Sample {
    server_ticks: u64,
    loadgen_ticks: u64,
}

/// The server process a phase watches.
#[derive(Clone, Copy)]
pub struct Watched {
    /// Its pid.
    pub pid: u32,
    /// Clock ticks per second of `/proc/<pid>/stat`.
    pub ticks_per_second: u64,
}

impl Watched {
    fn begin(self) -> Result<Sample, BoxError> {
        procfs::reset_peak_rss(Pid::Of(self.pid));
        Ok(Sample {
            server_ticks: procfs::cpu_ticks(Pid::Of(self.pid))?,
            loadgen_ticks: procfs::cpu_ticks(Pid::Current)?,
        })
    }

    fn end(
        self,
        sample: &Sample,
        name: String,
        load: String,
        elapsed: Duration,
        mut tally: Tally,
    ) -> Result<PhaseResult, BoxError> {
        let ticks = self.ticks_per_second as f64;
        let server_ticks = procfs::cpu_ticks(Pid::Of(self.pid))?.saturating_sub(sample.server_ticks);
        let loadgen_ticks = procfs::cpu_ticks(Pid::Current)?.saturating_sub(sample.loadgen_ticks);
        tally.latencies_us.sort_unstable();
        Ok(PhaseResult {
            name,
            load,
            elapsed,
            latencies_us: tally.latencies_us,
            errors: tally.errors,
            server_cpu_s: server_ticks as f64 / ticks,
            loadgen_cpu_s: loadgen_ticks as f64 / ticks,
            server_peak_rss_kib: procfs::status_kib(Pid::Of(self.pid), "VmHWM")?,
        })
    }
}

/// Deals `users` round-robin into `groups` non-empty groups (fewer when there are fewer users).
fn deal(users: Vec<VirtualUser>, groups: usize) -> Vec<Vec<VirtualUser>> {
    let groups = groups.clamp(1, users.len().max(1));
    let mut dealt: Vec<Vec<VirtualUser>> = (0..groups).map(|_| Vec::new()).collect();
    for (i, user) in users.into_iter().enumerate() {
        dealt[i % groups].push(user);
    }
    dealt
}

/// Closed loop: `concurrency` workers, each with its own users, run `op` back to back for `duration`.
pub async fn closed_loop(
    api: &Api,
    users: &mut Vec<VirtualUser>,
    op: Op,
    concurrency: usize,
    duration: Duration,
    watched: Watched,
) -> Result<PhaseResult, BoxError> {
    let groups = deal(std::mem::take(users), concurrency);
    let workers = groups.len();
    let sample = watched.begin()?;
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = JoinSet::new();
    for mut group in groups {
        let api = api.clone();
        tasks.spawn(async move {
            let mut tally = Tally::default();
            let users = group.len().max(1);
            let mut next = 0;
            while Instant::now() < deadline {
                let Some(user) = group.get_mut(next % users) else { break };
                next += 1;
                let begun = Instant::now();
                let outcome = op.run(&api, user).await;
                tally.record(begun.elapsed(), outcome);
            }
            (group, tally)
        });
    }
    let tally = collect(&mut tasks, users).await?;
    let elapsed = started.elapsed();
    watched.end(&sample, op.label().to_owned(), workers.to_string(), elapsed, tally)
}

/// Open loop: operations arrive at `rate` per second for `duration`, spread over `workers` workers
/// (worker `w` takes arrivals `w`, `w + workers`, …). Latency counts from the *scheduled* arrival,
/// so a server that falls behind is charged for the queueing too (no coordinated omission).
pub async fn paced(
    api: &Api,
    users: &mut Vec<VirtualUser>,
    op: Op,
    rate: u32,
    workers: usize,
    duration: Duration,
    watched: Watched,
) -> Result<PhaseResult, BoxError> {
    let groups = deal(std::mem::take(users), workers);
    let workers = groups.len();
    let rate = f64::from(rate.max(1));
    let sample = watched.begin()?;
    let started = Instant::now();
    let end = started + duration;
    let mut tasks = JoinSet::new();
    for (worker, mut group) in groups.into_iter().enumerate() {
        let api = api.clone();
        tasks.spawn(async move {
            let mut tally = Tally::default();
            let users = group.len().max(1);
            for k in 0.. {
                let arrival = (k * workers + worker) as f64 / rate;
                let scheduled = started + Duration::from_secs_f64(arrival);
                if scheduled >= end {
                    break;
                }
                tokio::time::sleep_until(scheduled.into()).await;
                let Some(user) = group.get_mut(k % users) else { break };
                let outcome = op.run(&api, user).await;
                tally.record(scheduled.elapsed(), outcome);
            }
            (group, tally)
        });
    }
    let tally = collect(&mut tasks, users).await?;
    let elapsed = started.elapsed();
    let name = format!("{} at a fixed rate", op.label());
    watched.end(&sample, name, format!("{rate}/s"), elapsed, tally)
}

/// Waits for every worker, gives its users back and merges the tallies.
async fn collect(
    tasks: &mut JoinSet<(Vec<VirtualUser>, Tally)>,
    users: &mut Vec<VirtualUser>,
) -> Result<Tally, BoxError> {
    let mut total = Tally::default();
    while let Some(joined) = tasks.join_next().await {
        let (group, tally) = joined?;
        users.extend(group);
        total.merge(tally);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(latencies_us: Vec<u64>) -> PhaseResult {
        PhaseResult {
            name: String::new(),
            load: String::new(),
            elapsed: Duration::from_secs(2),
            latencies_us,
            errors: BTreeMap::new(),
            server_cpu_s: 1.0,
            loadgen_cpu_s: 0.5,
            server_peak_rss_kib: 0,
        }
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let r = result((1..=100).map(|ms| ms * 1000).collect());
        assert_eq!(r.percentile_ms(0.5), 50.0);
        assert_eq!(r.percentile_ms(0.99), 99.0);
        assert_eq!(r.percentile_ms(1.0), 100.0);
        assert_eq!(r.ops_per_second(), 50.0);
        assert_eq!(r.server_cpu_ms_per_op(), 10.0);
        assert_eq!(r.server_cores(), 0.5);
    }

    #[test]
    fn an_empty_phase_has_no_percentiles() {
        assert!(result(Vec::new()).percentile_ms(0.5).is_nan());
    }
}
