//! The verify report as data, and its three renderings: text (coloured on a terminal),
//! JSON, and JUnit XML (one test case per exchange).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use super::diff::{Kind, Mismatch};

/// Everything `verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub summary: Summary,
    pub cassettes: Vec<CassetteReport>,
    /// Things the reader should know that are not differences (an unknown cassette version,
    /// no token to replay with…).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CassetteReport {
    pub name: String,
    /// The GitLab version glmock emulated and the schemas were checked for.
    pub gitlab_version: String,
    /// The version the cassette says it was recorded from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_version: Option<String>,
    pub exchanges: Vec<ExchangeReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExchangeReport {
    /// 1-based position in the cassette.
    pub index: usize,
    pub method: String,
    pub path: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub query: String,
    pub recorded_status: u16,
    /// `None` when not replayed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub glmock_status: Option<u16>,
    /// Why it was not replayed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// The schema the recorded body was checked against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shape: Option<String>,
    pub mismatches: Vec<Mismatch>,
    /// Unified diff of the masked, key-sorted bodies (recorded → glmock).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

impl ExchangeReport {
    pub fn drifted(&self) -> bool {
        !self.mismatches.is_empty()
    }

    /// `GET /api/v4/projects/1/jobs?per_page=2`
    pub fn request_line(&self) -> String {
        if self.query.is_empty() {
            format!("{} {}", self.method, self.path)
        } else {
            format!("{} {}?{}", self.method, self.path, self.query)
        }
    }
}

/// Counts over the whole report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub exchanges: usize,
    pub replayed: usize,
    pub skipped: usize,
    /// Exchanges with at least one mismatch.
    pub drifted: usize,
    /// Replayed exchanges without any mismatch.
    pub ok: usize,
    /// Mismatches by kind (schema violations included, as `schema`).
    pub by_kind: BTreeMap<Kind, usize>,
    pub schema_violations: usize,
}

impl Summary {
    pub fn of(cassettes: &[CassetteReport]) -> Summary {
        let mut s = Summary::default();
        for x in cassettes.iter().flat_map(|c| &c.exchanges) {
            s.exchanges += 1;
            if x.skipped.is_some() {
                s.skipped += 1;
            } else {
                s.replayed += 1;
            }
            if x.drifted() {
                s.drifted += 1;
            }
            for m in &x.mismatches {
                *s.by_kind.entry(m.kind).or_default() += 1;
            }
        }
        s.ok = s.exchanges.saturating_sub(s.drifted + s.skipped);
        s.schema_violations = s.by_kind.get(&Kind::Schema).copied().unwrap_or(0);
        s
    }
}

impl Report {
    pub fn new(cassettes: Vec<CassetteReport>, notes: Vec<String>) -> Report {
        Report {
            summary: Summary::of(&cassettes),
            cassettes,
            notes,
        }
    }

    /// Whether anything drifted (exit 1).
    pub fn drifted(&self) -> bool {
        self.summary.drifted > 0
    }

    /// Every mismatch with its exchange, in report order.
    pub fn mismatches(&self) -> impl Iterator<Item = (&ExchangeReport, &Mismatch)> {
        self.cassettes
            .iter()
            .flat_map(|c| &c.exchanges)
            .flat_map(|x| x.mismatches.iter().map(move |m| (x, m)))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports serialize")
    }

    /// The human-readable report; `color` adds ANSI colours.
    pub fn to_text(&self, color: bool) -> String {
        let p = Paint(color);
        let mut out = String::new();
        for c in &self.cassettes {
            let version = match &c.recorded_version {
                Some(r) => format!(
                    "recorded from GitLab {r}, glmock emulating {}",
                    c.gitlab_version
                ),
                None => format!("glmock emulating GitLab {}", c.gitlab_version),
            };
            let _ = writeln!(
                out,
                "{} ({version})",
                p.bold(&format!("cassette {}", c.name))
            );
            for x in &c.exchanges {
                let status = match x.glmock_status {
                    Some(g) if g != x.recorded_status => {
                        format!("recorded {}, glmock {g}", x.recorded_status)
                    }
                    _ => x.recorded_status.to_string(),
                };
                let (label, detail) = if let Some(why) = &x.skipped {
                    (p.dim("skip "), format!(" ({why})"))
                } else if x.drifted() {
                    (p.red("DRIFT"), format!(" ({status})"))
                } else {
                    (p.green("ok   "), format!(" ({status})"))
                };
                let _ = writeln!(out, "  #{} {label} {}{detail}", x.index, x.request_line());
                for m in &x.mismatches {
                    let _ = writeln!(out, "      {}", mismatch_line(m, &p));
                }
                if let Some(d) = &x.diff {
                    for line in d.lines() {
                        let _ = writeln!(out, "      {}", p.diff_line(line));
                    }
                }
            }
            out.push('\n');
        }
        let s = &self.summary;
        let _ = writeln!(
            out,
            "{} {} exchange(s): {} replayed, {} skipped; {} drifted, {} ok",
            p.bold("summary:"),
            s.exchanges,
            s.replayed,
            s.skipped,
            s.drifted,
            s.ok
        );
        let differences: Vec<String> = Kind::ALL
            .iter()
            .filter(|k| **k != Kind::Schema)
            .filter_map(|k| s.by_kind.get(k).map(|n| format!("{k} {n}")))
            .collect();
        let _ = writeln!(
            out,
            "  differences: {}",
            if differences.is_empty() {
                "none".to_owned()
            } else {
                differences.join(", ")
            }
        );
        let _ = writeln!(out, "  schema violations: {}", s.schema_violations);
        for n in &self.notes {
            let _ = writeln!(out, "note: {n}");
        }
        out
    }

    /// JUnit XML: a suite per cassette, a test case per exchange, `<failure>` for drifted
    /// exchanges and `<skipped>` for those not replayed.
    pub fn to_junit(&self) -> String {
        let p = Paint(false);
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let s = &self.summary;
        let _ = writeln!(
            out,
            "<testsuites name=\"glmock verify\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\">",
            s.exchanges, s.drifted, s.skipped
        );
        for c in &self.cassettes {
            let failures = c.exchanges.iter().filter(|x| x.drifted()).count();
            let skipped = c.exchanges.iter().filter(|x| x.skipped.is_some()).count();
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">",
                xml(&c.name),
                c.exchanges.len()
            );
            let _ = writeln!(out, "    <properties>");
            let _ = writeln!(
                out,
                "      <property name=\"gitlab_version\" value=\"{}\"/>",
                xml(&c.gitlab_version)
            );
            let _ = writeln!(out, "    </properties>");
            for x in &c.exchanges {
                let name = format!("#{} {}", x.index, x.request_line());
                let open = format!(
                    "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
                    xml(&c.name),
                    xml(&name)
                );
                if let Some(why) = &x.skipped {
                    let _ = writeln!(out, "{open}>");
                    let _ = writeln!(out, "      <skipped message=\"{}\"/>", xml(why));
                    let _ = writeln!(out, "    </testcase>");
                } else if x.drifted() {
                    let mut kinds: Vec<&str> =
                        x.mismatches.iter().map(|m| m.kind.as_str()).collect();
                    kinds.dedup();
                    let mut body = String::new();
                    for m in &x.mismatches {
                        let _ = writeln!(body, "{}", mismatch_line(m, &p));
                    }
                    if let Some(d) = &x.diff {
                        body.push('\n');
                        body.push_str(d);
                    }
                    let _ = writeln!(out, "{open}>");
                    let _ = writeln!(
                        out,
                        "      <failure type=\"drift\" message=\"{} difference(s): {}\">{}</failure>",
                        x.mismatches.len(),
                        xml(&kinds.join(", ")),
                        xml(&body)
                    );
                    let _ = writeln!(out, "    </testcase>");
                } else {
                    let _ = writeln!(out, "{open}/>");
                }
            }
            let _ = writeln!(out, "  </testsuite>");
        }
        out.push_str("</testsuites>\n");
        out
    }
}

/// Longest value shown inline in a mismatch line.
const INLINE: usize = 80;

fn shown(v: &Option<Value>) -> String {
    let Some(v) = v else {
        return "(absent)".to_owned();
    };
    let text = v.to_string();
    if text.chars().count() <= INLINE {
        return text;
    }
    let cut: String = text.chars().take(INLINE).collect();
    format!("{cut}…")
}

/// `value   $.name: expected "build", got "test"`
fn mismatch_line(m: &Mismatch, p: &Paint) -> String {
    let kind = p.yellow(&format!("{:<7}", m.kind.as_str()));
    match &m.message {
        Some(message) => format!("{kind} {}: {message}", m.path),
        None => format!(
            "{kind} {}: expected {}, got {}",
            m.path,
            shown(&m.expected),
            shown(&m.actual)
        ),
    }
}

/// Text escaped for XML content and attribute values; characters XML 1.0 cannot hold
/// (control characters other than tab and newlines) become U+FFFD.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// ANSI colours, or none.
struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
    fn red(&self, s: &str) -> String {
        self.wrap("31", s)
    }
    fn green(&self, s: &str) -> String {
        self.wrap("32", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.wrap("33", s)
    }
    fn diff_line(&self, line: &str) -> String {
        if line.starts_with("---") || line.starts_with("+++") {
            self.bold(line)
        } else if line.starts_with("@@") {
            self.wrap("36", line)
        } else if line.starts_with('-') {
            self.red(line)
        } else if line.starts_with('+') {
            self.green(line)
        } else {
            line.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_quotes_and_control_characters() {
        assert_eq!(
            xml("<a href=\"x\">'&'</a>\u{1b}[0m\n"),
            "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;\u{FFFD}[0m\n"
        );
    }
}
