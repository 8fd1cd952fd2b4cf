//! Where log lines go: stderr, written by a thread of its own.
//!
//! Every request logs an access line; written synchronously, stderr cost the no-database
//! ceiling a third of its rate (issue 23). The request only hands the line to a bounded
//! queue. When the queue is full (the terminal or collector behind stderr stalls), new
//! lines are dropped rather than stalling requests, and counted:
//! `softtoken_log_lines_dropped_total` in `/metrics`. The queue is flushed when the server
//! ends (the [`WorkerGuard`] is dropped at the end of `main`).

use std::io::Write;
use std::sync::OnceLock;

use tracing_appender::non_blocking::{ErrorCounter, NonBlocking, NonBlockingBuilder};

pub use tracing_appender::non_blocking::WorkerGuard;

/// Lines held for the writer before new ones are dropped: at a few hundred bytes a line,
/// some 30 MB, a few seconds of the fastest load this server takes.
pub const QUEUED_LINES: usize = 100_000;

/// The process's dropped-line count, once its writer exists.
static DROPPED: OnceLock<ErrorCounter> = OnceLock::new();

/// A writer that queues lines for `inner`, holding at most `lines`, and the guard that
/// flushes the queue when dropped. The first writer made is the one `/metrics` reports.
pub fn queued<W: Write + Send + 'static>(inner: W, lines: usize) -> (NonBlocking, WorkerGuard) {
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(lines)
        .thread_name("softtoken-log")
        .finish(inner);
    // Only the first: `main` makes one; tests may make more.
    let _ = DROPPED.set(writer.error_counter());
    (writer, guard)
}

/// Log lines dropped so far because the queue was full.
pub fn dropped_lines() -> u64 {
    DROPPED
        .get()
        .map_or(0, |c| u64::try_from(c.dropped_lines()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A sink that takes nothing until `go` is sent, then keeps every line.
    struct Stalled {
        go: Option<mpsc::Receiver<()>>,
        lines: Arc<Mutex<Vec<String>>>,
    }

    impl Write for Stalled {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Some(go) = self.go.take() {
                let _ = go.recv();
            }
            self.lines
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(buf).into_owned());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stalled_sink_drops_and_counts_lines_instead_of_blocking_and_flushes_the_rest() {
        let (go, wait) = mpsc::channel();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Stalled {
            go: Some(wait),
            lines: Arc::clone(&lines),
        };
        let (mut writer, guard) = queued(sink, 1);
        // The writer thread holds at most one line and the queue one more: of ten lines
        // written while the sink stalls, at least eight are dropped, none of them blocks.
        for i in 0..10 {
            writer.write_all(format!("line {i}\n").as_bytes()).unwrap();
        }
        let dropped = writer.error_counter().dropped_lines();
        assert!((8..=9).contains(&dropped), "{dropped}");
        assert_eq!(dropped_lines(), dropped as u64);
        go.send(()).unwrap();
        drop(guard);
        let kept = lines.lock().unwrap().clone();
        assert_eq!(kept.len(), 10 - dropped, "{kept:?}");
        assert_eq!(kept[0], "line 0\n");
    }
}
