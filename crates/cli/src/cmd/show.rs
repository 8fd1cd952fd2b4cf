//! `softtoken show`: the current codes, live with a countdown bar, once, or as JSON.

use std::io::Write;
use std::thread;
use std::time::Duration;

use clap::Parser;
use serde::Serialize;
use softtoken_core::protocol::Serial;
use softtoken_core::{TokenInfo, TokenState, TokenStore, group_code};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::vault::{self, PinReader};
use crate::failure::Failure;
use crate::msg;

/// Arguments of `softtoken show`.
#[derive(Parser)]
pub struct Args {
    /// Only this token (spaces, hyphens and lower case are fine). Default: every usable token.
    serial: Option<String>,
    /// Print the codes once and exit instead of redrawing every second.
    #[arg(long)]
    once: bool,
    /// Print one JSON array of {serial, issuer, code, seconds_left, next_code} and exit.
    #[arg(long)]
    json: bool,
    /// Read the PIN from stdin (one line) instead of the terminal.
    #[arg(long)]
    pin_stdin: bool,
    /// Refresh the token states first (unless `--offline`).
    #[command(flatten)]
    on_open: super::enroll::OnOpen,
}

#[derive(Serialize)]
struct Shown {
    serial: String,
    issuer: String,
    code: String,
    seconds_left: u64,
    next_code: String,
}

/// Shows the codes until Ctrl-C (or once, with `--once` or `--json`).
pub fn run(args: Args) -> Result<(), Failure> {
    let wanted = match &args.serial {
        Some(text) => {
            Some(Serial::parse(text).map_err(|e| Failure::BadInput(msg::serial_error(&e)))?)
        }
        None => None,
    };
    let mut store = vault::open_unlocked(&mut PinReader::new(args.pin_stdin))?;
    super::enroll::refresh_on_open(&mut store, &args.on_open)?;
    let tokens = pick(&store, wanted.as_ref())?;

    if args.json {
        let shown = codes(&store, &tokens)?;
        println!("{}", to_json(&shown)?);
        return Ok(());
    }
    if tokens.is_empty() {
        eprintln!("{}", msg::nothing_to_show());
        return Ok(());
    }
    let live = !args.once;
    let redraw = live && vault::stdout_is_terminal();
    let mut first = true;
    loop {
        let shown = codes(&store, &tokens)?;
        let mut out = std::io::stdout().lock();
        if redraw && !first {
            // Move back up over the previous frame and draw over it.
            let _ = write!(out, "\x1b[{}A", shown.len());
        }
        for (s, t) in shown.iter().zip(&tokens) {
            let clear = if redraw { "\x1b[2K" } else { "" };
            let _ = writeln!(out, "{clear}{}", line(s, t, redraw));
        }
        let _ = out.flush();
        drop(out);
        if !live {
            return Ok(());
        }
        first = false;
        // Wake at the next whole second so the countdown ticks in step with the clock.
        let now = vault::now_unix_ms()?;
        let to_next = 1000 - u64::try_from(now.rem_euclid(1000)).unwrap_or(0);
        thread::sleep(Duration::from_millis(to_next.max(1)));
    }
}

/// The tokens to show: the one asked for, or every token that is not revoked.
fn pick(store: &TokenStore, wanted: Option<&Serial>) -> Result<Vec<TokenInfo>, Failure> {
    let tokens = store.tokens().map_err(vault::store_failure)?;
    match wanted {
        Some(serial) => {
            let token = tokens
                .into_iter()
                .find(|t| &t.serial == serial)
                .ok_or_else(|| Failure::Rejected(msg::no_such_token(&serial.grouped())))?;
            if token.state.is_dead() {
                return Err(Failure::Rejected(msg::dead_token(
                    token.state,
                    &serial.grouped(),
                    serial.as_str(),
                )));
            }
            Ok(vec![token])
        }
        None => {
            // Dead tokens show no code; say once why, before the codes.
            for t in tokens.iter().filter(|t| t.state.is_dead()) {
                eprintln!(
                    "{}",
                    msg::dead_token(t.state, &t.serial.grouped(), t.serial.as_str())
                );
            }
            Ok(tokens.into_iter().filter(|t| !t.state.is_dead()).collect())
        }
    }
}

fn codes(store: &TokenStore, tokens: &[TokenInfo]) -> Result<Vec<Shown>, Failure> {
    let now = vault::now_unix_ms()?;
    tokens
        .iter()
        .map(|t| {
            let code = store.code(&t.serial, now).map_err(vault::store_failure)?;
            Ok(Shown {
                serial: t.serial.as_str().to_string(),
                issuer: t.issuer.clone(),
                code: code.code.clone(),
                seconds_left: code.seconds_left,
                next_code: code.next_code.clone(),
            })
        })
        .collect()
}

/// One token's line: serial, issuer, code, and the seconds left (as a bar when live).
fn line(s: &Shown, t: &TokenInfo, bar: bool) -> String {
    let label = if t.user_label.is_empty() {
        t.issuer.clone()
    } else {
        format!("{} ({})", t.issuer, t.user_label)
    };
    let pending = if t.state == TokenState::Pending {
        msg::pending_mark()
    } else {
        String::new()
    };
    // Live on a terminal: grouped for reading aloud, with a bar. Printed once: plain, so
    // the code can be pasted where internet banking (or curl) expects digits only.
    let (code, next, time) = if bar {
        (
            group_code(&s.code),
            group_code(&s.next_code),
            countdown(s.seconds_left, t.params.period.seconds()),
        )
    } else {
        (
            s.code.clone(),
            s.next_code.clone(),
            format!("{:>3} s", s.seconds_left),
        )
    };
    let head = t.serial.grouped();
    let tail = format!("  {code}  {time}  {} {next}{pending}", msg::next());
    if !bar {
        return format!("{head}  {label}{tail}");
    }
    // Live on a terminal: the line must not wrap, or moving up over the last frame would
    // leave garbage. The label gives way first; it is the part the customer can spare.
    let budget = COLUMNS.saturating_sub(head.width() + 2 + tail.width());
    let line = format!("{head}  {}{tail}", truncate(&label, budget));
    truncate(&line, COLUMNS)
}

/// The width a live line may take: the classic terminal's (the code and countdown fit it).
const COLUMNS: usize = 80;

/// `text` cut to at most `columns` display columns (CJK counted double), with `…` if cut.
fn truncate(text: &str, columns: usize) -> String {
    if text.width() <= columns {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > columns {
            break;
        }
        out.push(c);
        used += w;
    }
    if columns > 0 {
        out.push('…');
    }
    out
}

/// `[██████░░░░] 12 s`: the bar empties as the code runs out.
fn countdown(seconds_left: u64, period: u64) -> String {
    // Ten cells: with a grouped 8-digit code, the next one and a label, it fits 80 columns.
    const WIDTH: u64 = 10;
    let full = (seconds_left * WIDTH).div_ceil(period.max(1)).min(WIDTH);
    let bar: String = (0..WIDTH)
        .map(|i| if i < full { '█' } else { '░' })
        .collect();
    format!("[{bar}] {seconds_left:>3} s")
}

/// JSON for scripts; serialisation of plain strings and numbers cannot fail.
pub fn to_json<T: Serialize>(value: &T) -> Result<String, Failure> {
    serde_json::to_string(value).map_err(|e| Failure::Rejected(format!("cannot write JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_cjk_double() {
        assert_eq!(truncate("しんきん銀行", 12), "しんきん銀行");
        assert_eq!(truncate("しんきん銀行", 11), "しんきん銀…");
        assert_eq!(truncate("しんきん銀行", 10), "しんきん…");
        assert_eq!(truncate("しんきん銀行", 10).width(), 9);
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 0), "");
    }

    #[test]
    fn bar_empties_as_time_runs_out() {
        assert_eq!(countdown(30, 30), format!("[{}]  30 s", "█".repeat(10)));
        assert_eq!(
            countdown(15, 30),
            format!("[{}{}]  15 s", "█".repeat(5), "░".repeat(5))
        );
        assert_eq!(countdown(1, 60), format!("[█{}]   1 s", "░".repeat(9)));
    }
}
