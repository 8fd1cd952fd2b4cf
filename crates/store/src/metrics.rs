//! The storage layer's metrics (the SQLite writer's group commits), recorded through the
//! `metrics` facade, and the switch every layer's recording checks: nothing is recorded (one
//! atomic load per event) until the server installed its Prometheus recorder and called
//! [`enable`]. The server renders them; their names are written here once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};

static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Whether a recorder is in place, so events are worth recording.
pub fn on() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

/// Turns recording on, once the process-wide recorder is installed.
pub fn enable() {
    INSTALLED.store(true, Ordering::Relaxed);
}

/// Writes per SQLite group commit (its histogram buckets are the server's to set).
pub const SQLITE_BATCH_WRITES: &str = "softtoken_sqlite_group_commit_writes";
const SQLITE_COMMIT_DURATION: &str = "softtoken_sqlite_group_commit_duration_seconds";
const SQLITE_COMMITS_FAILED: &str = "softtoken_sqlite_group_commits_failed_total";

/// Describes this layer's metrics to the installed recorder.
pub fn describe() {
    describe_histogram!(
        SQLITE_BATCH_WRITES,
        Unit::Count,
        "writes committed together by one SQLite group commit"
    );
    describe_histogram!(
        SQLITE_COMMIT_DURATION,
        Unit::Seconds,
        "time of one SQLite group commit, from BEGIN to the end of COMMIT's fsync"
    );
    describe_counter!(SQLITE_COMMITS_FAILED, "SQLite group commits that failed");
}

/// Records one SQLite group commit: how many writes it carried, how long it took, and
/// whether it failed.
pub fn group_commit(writes: usize, elapsed: Duration, committed: bool) {
    if !on() {
        return;
    }
    // A batch size (at most 512) is exact as f64.
    histogram!(SQLITE_BATCH_WRITES).record(writes as f64);
    histogram!(SQLITE_COMMIT_DURATION).record(elapsed.as_secs_f64());
    if !committed {
        counter!(SQLITE_COMMITS_FAILED).increment(1);
    }
}
