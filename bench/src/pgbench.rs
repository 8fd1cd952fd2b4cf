//! PostgreSQL's own yardstick, run in the same series as the scenarios (issue 23 item 6):
//! `pgbench -N` (per transaction one UPDATE, one SELECT and one INSERT, a durable commit) at
//! 16 clients against the same server, in a scratch schema of the same database. A verify is
//! also one durable commit that reads, updates and inserts, so its rate is set against this.

use std::process::Command;

use softtoken_store::scratch;

/// Clients pgbench runs with, as the target names them.
pub const CLIENTS: u32 = 16;

/// pgbench's rate: transactions per second, without the initial connection time.
#[derive(Debug, Clone, Copy)]
pub struct Pgbench {
    /// Transactions per second.
    pub tps: f64,
}

/// Creates a scratch schema, loads pgbench's tables (scale 1, 100,000 accounts) into it, runs
/// `pgbench -N` for `seconds` at [`CLIENTS`] clients, and drops the schema.
pub async fn run(base_url: &str, seconds: u64) -> Result<Pgbench, String> {
    let (_, schema) = scratch::fresh_schema(base_url)
        .await
        .map_err(|e| format!("pgbench: scratch schema: {e}"))?;
    let measured = load_and_run(base_url, &schema, seconds);
    let dropped = scratch::drop_schema(base_url, &schema).await;
    let tps = measured?;
    dropped.map_err(|e| format!("pgbench: dropping {schema}: {e}"))?;
    Ok(Pgbench { tps })
}

fn load_and_run(base_url: &str, schema: &str, seconds: u64) -> Result<f64, String> {
    // pgbench has no schema option; libpq's PGOPTIONS sets the search path of its sessions,
    // so its tables are created, read and written in the scratch schema.
    let options = format!("-c search_path={schema}");
    let init = Command::new("pgbench")
        .args(["-i", "-q", "-s", "1", base_url])
        .env("PGOPTIONS", &options)
        .output()
        .map_err(|e| format!("pgbench: cannot run it ({e}): apt install postgresql-client"))?;
    if !init.status.success() {
        return Err(format!(
            "pgbench -i failed: {}",
            String::from_utf8_lossy(&init.stderr).trim()
        ));
    }
    let run = Command::new("pgbench")
        .args(["-N", "-c", &CLIENTS.to_string(), "-j", "2"])
        .args(["-T", &seconds.to_string(), base_url])
        .env("PGOPTIONS", &options)
        .output()
        .map_err(|e| format!("pgbench: {e}"))?;
    let out = String::from_utf8_lossy(&run.stdout);
    if !run.status.success() {
        return Err(format!(
            "pgbench -N failed: {}",
            String::from_utf8_lossy(&run.stderr).trim()
        ));
    }
    tps_of(&out).ok_or_else(|| format!("pgbench printed no tps line:\n{out}"))
}

/// The `tps = N (without initial connection time)` of pgbench's report.
fn tps_of(report: &str) -> Option<f64> {
    report
        .lines()
        .find(|l| l.starts_with("tps = ") && l.contains("without initial connection time"))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::tps_of;

    #[test]
    fn the_rate_is_read_from_the_line_without_connection_time() {
        let report = "number of failed transactions: 0 (0.000%)\n\
                      latency average = 8.7 ms\n\
                      initial connection time = 12.3 ms\n\
                      tps = 1823.456789 (without initial connection time)\n";
        assert_eq!(tps_of(report), Some(1823.456789));
        assert_eq!(
            tps_of("tps = 12 (including connections establishing)\n"),
            None
        );
    }
}
