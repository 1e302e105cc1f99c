//! What signing costs: per access token, the signature and its verification for each algorithm
//! Latchkey signs with, in process, through the engine's own key ring (the code every sign-in and
//! refresh runs), on a throwaway SQLite database; and, for comparison, HS256 with a shared secret,
//! which signed access tokens before the keys were asymmetric.

use std::path::Path;
use std::time::{Duration, Instant};

use engine::base::types::Secret;
use engine::tokens::keys::{ALGORITHMS, KeyRing};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};

use crate::BoxError;

/// Tokens signed and verified per algorithm.
const ROUNDS: u32 = 2000;

/// One row of the table.
struct Cost {
    alg: &'static str,
    sign: Duration,
    verify: Duration,
    bytes: usize,
}

/// Measures and renders the signing table.
pub async fn costs(work_dir: &Path) -> Result<String, BoxError> {
    std::fs::create_dir_all(work_dir)?;
    let file = work_dir.join("signing-keys.db");
    let _ = std::fs::remove_file(&file);
    let db = engine::db::Db::connect(&format!("sqlite://{}?mode=rwc", file.display())).await?;
    db.migrate().await?;
    let now = engine::base::clock::now();
    let opening = Instant::now();
    let secret = Secret::new("bench-operator-secret-of-at-least-32-bytes");
    let ring = KeyRing::open(db.clone(), &secret, Duration::from_secs(900), now).await?;
    let first_start = opening.elapsed();
    let generating = Instant::now();
    ring.rotate_now(now).await?;
    let rotation = generating.elapsed();

    let claims = serde_json::json!({
        "sub": "0b6d4c1e-9d59-4c43-9d0a-4f3b1b8f0b11", "iat": now, "exp": now + 900,
        "iss": "https://login.example.com", "aud": "https://login.example.com/auth",
        "jti": "5f0e3b8e-8a8e-4b7b-9d2e-3c1f0c7f6a55", "typ": "access",
        "sid": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "auth_time": now,
    });
    let mut rows = Vec::new();
    for alg in ALGORITHMS {
        let kid = ring.current_kid(alg).ok_or("no current key")?;
        let key = ring.verifying_key(&kid).ok_or("current key not published")?;
        let validation = validation(alg);
        let (sign, token) = time(|| ring.sign(alg, "at+jwt", &claims).map_err(|e| e.to_string()))?;
        let (verify, _) = time(|| {
            jsonwebtoken::decode::<serde_json::Value>(&token, &key.key, &validation).map_err(|e| e.to_string())
        })?;
        rows.push(Cost {
            alg: if alg == Algorithm::RS256 { "RS256" } else { "ES256" },
            sign,
            verify,
            bytes: token.len(),
        });
    }
    let secret = EncodingKey::from_secret(b"bench-secret-bench-secret-bench-secret-0123456789");
    let shared = DecodingKey::from_secret(b"bench-secret-bench-secret-bench-secret-0123456789");
    let header = Header::new(Algorithm::HS256);
    let (sign, token) = time(|| jsonwebtoken::encode(&header, &claims, &secret).map_err(|e| e.to_string()))?;
    let validation = validation(Algorithm::HS256);
    let (verify, _) =
        time(|| jsonwebtoken::decode::<serde_json::Value>(&token, &shared, &validation).map_err(|e| e.to_string()))?;
    rows.push(Cost { alg: "HS256 (before)", sign, verify, bytes: token.len() });
    let _ = std::fs::remove_file(&file);

    let mut out = format!(
        "## Token signing (in process, {ROUNDS} tokens each, one core)\n\n\
         - first start, making the current and next ES256 and RS256 keys (two RSA-2048 generations) and sealing them: **{:.0} ms**\n\
         - one rotation of both algorithms (a new RSA-2048 and P-256 key, sealed, stored, reloaded): **{:.0} ms**\n\n\
         | algorithm | sign µs/token | verify µs/token | token bytes |\n|---|---:|---:|---:|\n",
        first_start.as_secs_f64() * 1000.0,
        rotation.as_secs_f64() * 1000.0,
    );
    for row in rows {
        out.push_str(&format!(
            "| {} | {:.1} | {:.1} | {} |\n",
            row.alg,
            micros(row.sign),
            micros(row.verify),
            row.bytes
        ));
    }
    Ok(out)
}

fn validation(alg: Algorithm) -> Validation {
    let mut validation = Validation::new(alg);
    validation.set_audience(&["https://login.example.com/auth"]);
    validation
}

/// Runs `work` [`ROUNDS`] times; the time per run and the last result.
fn time<T>(mut work: impl FnMut() -> Result<T, String>) -> Result<(Duration, T), BoxError> {
    let mut last = work()?;
    let started = Instant::now();
    for _ in 0..ROUNDS {
        last = work()?;
    }
    Ok((started.elapsed() / ROUNDS, last))
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}
