//! The audit trail as CSV (RFC 4180), safe to open in a spreadsheet.

use crate::routes::rfc3339;
use softtoken_store::AuditEvent;

/// The header line.
pub const HEADER: &str = "id,at,kind,user_id,serial,operator,detail";

/// One cell: quoted when it holds a comma, quote or line break; and a cell a spreadsheet
/// would run as a formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) gets a
/// leading `'` (OWASP "CSV injection"), so a user ID or detail can never become one.
pub fn cell(text: &str) -> String {
    let mut value = String::with_capacity(text.len() + 2);
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        value.push('\'');
    }
    value.push_str(text);
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The events as a CSV document, header first, in the order given.
pub fn document<'a>(events: impl IntoIterator<Item = &'a AuditEvent>) -> String {
    let mut out = String::from(HEADER);
    out.push_str("\r\n");
    for e in events {
        let cells = [
            e.id.to_string(),
            rfc3339(e.at),
            e.kind.clone(),
            e.user_id.clone().unwrap_or_default(),
            e.serial.clone().unwrap_or_default(),
            e.operator.clone().unwrap_or_default(),
            softtoken_store::audit::english(&e.detail),
        ];
        let line: Vec<String> = cells.iter().map(|c| cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_quotes_escaped() {
        assert_eq!(cell("alice"), "alice");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(cell(""), "");
    }
}
