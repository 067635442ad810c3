//! The README's curl examples ("Try it" and the control API section), run as printed
//! against the embedded default scenario.

use std::collections::HashMap;

use crate::support::*;

/// One `curl` command line.
#[derive(Debug)]
struct Curl {
    line: String,
    method: Option<String>,
    headers: Vec<(String, String)>,
    data: Option<String>,
    url: String,
    /// From a trailing `# NNN` comment.
    expect: Option<u16>,
}

/// Splits a shell line into words (quotes '…', "…" with $VAR, $'…' with \n), stopping at
/// an unquoted `#`; returns the words and the comment.
fn words(line: &str, vars: &HashMap<String, String>) -> (Vec<String>, String) {
    let chars: Vec<char> = line.chars().collect();
    let (mut out, mut cur, mut i, mut in_word) = (Vec::new(), String::new(), 0, false);
    let var = |chars: &[char], i: &mut usize, cur: &mut String| {
        let start = *i + 1;
        let mut end = start;
        while end < chars.len() && (chars[end].is_alphanumeric() || chars[end] == '_') {
            end += 1;
        }
        let name: String = chars[start..end].iter().collect();
        cur.push_str(
            vars.get(&name)
                .unwrap_or_else(|| panic!("unknown ${name} in {line}")),
        );
        *i = end;
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
                i += 1;
            }
            '#' if !in_word => {
                return (
                    out,
                    chars[i + 1..].iter().collect::<String>().trim().to_owned(),
                );
            }
            '\'' => {
                in_word = true;
                i += 1;
                while chars[i] != '\'' {
                    cur.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '$' if chars.get(i + 1) == Some(&'\'') => {
                in_word = true;
                i += 2;
                while chars[i] != '\'' {
                    if chars[i] == '\\' {
                        i += 1;
                        cur.push(match chars[i] {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                    } else {
                        cur.push(chars[i]);
                    }
                    i += 1;
                }
                i += 1;
            }
            '"' => {
                in_word = true;
                i += 1;
                while chars[i] != '"' {
                    if chars[i] == '$' {
                        var(&chars, &mut i, &mut cur);
                    } else {
                        cur.push(chars[i]);
                        i += 1;
                    }
                }
                i += 1;
            }
            '$' => {
                in_word = true;
                var(&chars, &mut i, &mut cur);
            }
            _ => {
                in_word = true;
                cur.push(c);
                i += 1;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    (out, String::new())
}

fn parse(line: &str, vars: &HashMap<String, String>) -> Curl {
    let (w, comment) = words(line, vars);
    assert_eq!(w[0], "curl");
    let mut c = Curl {
        line: line.to_owned(),
        method: None,
        headers: Vec::new(),
        data: None,
        url: String::new(),
        expect: comment
            .split(|ch: char| !ch.is_ascii_digit())
            .next()
            .and_then(|d| d.parse().ok()),
    };
    let mut it = w.into_iter().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "-s" | "-S" | "-i" | "-sS" => {}
            "-D" => {
                it.next();
            }
            "-X" => c.method = it.next(),
            "-H" => {
                let h = it.next().expect("header");
                let (k, v) = h.split_once(':').expect("name: value");
                c.headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
            "-d" | "--data" | "--data-binary" => c.data = it.next(),
            u if u.starts_with("http") => c.url = u.to_owned(),
            other => panic!("the README test does not know curl's {other} in {line}"),
        }
    }
    c
}

/// The `curl` lines (and `NAME="…"` assignments) of the sh blocks of one README section.
fn section_commands(readme: &str, heading: &str) -> Vec<Curl> {
    let start = readme
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading}"));
    let rest = &readme[start + heading.len()..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    let mut vars = HashMap::new();
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in rest[..end].lines() {
        match line.trim() {
            "```sh" => in_sh = true,
            "```" => in_sh = false,
            l if in_sh && l.starts_with("curl ") => out.push(parse(l, &vars)),
            l if in_sh && l.contains("=\"") && !l.starts_with('#') => {
                let (k, v) = l.split_once('=').unwrap();
                vars.insert(k.to_owned(), v.trim_matches('"').to_owned());
            }
            _ => {}
        }
    }
    out
}

async fn run_all(commands: Vec<Curl>) -> usize {
    let s = TestServer::default_scenario().await;
    let n = commands.len();
    for c in commands {
        let url = c.url.replace("http://127.0.0.1:8080", &s.url);
        let method = c
            .method
            .clone()
            .unwrap_or_else(|| if c.data.is_some() { "POST" } else { "GET" }.to_owned());
        let mut req = s
            .client
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url);
        for (k, v) in &c.headers {
            req = req.header(k, v);
        }
        if let Some(d) = &c.data {
            // What curl sends with -d when no Content-Type is given.
            if !c
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                req = req.header("Content-Type", "application/x-www-form-urlencoded");
            }
            req = req.body(d.clone());
        }
        let r = s.raw(req).await;
        match c.expect {
            Some(code) => assert_eq!(r.status, code, "{}\n{}", c.line, r.text),
            None => assert!(
                (200..300).contains(&r.status),
                "{} → {}\n{}",
                c.line,
                r.status,
                r.text
            ),
        }
    }
    n
}

fn readme() -> String {
    std::fs::read_to_string(fixture("README.md")).expect("README.md")
}

#[tokio::test]
async fn the_try_it_examples_work_on_the_default_scenario() {
    let n = run_all(section_commands(&readme(), "## Try it")).await;
    assert!(n >= 8, "{n} commands");
}

#[tokio::test]
async fn the_control_api_examples_work_on_the_default_scenario_as_printed() {
    let n = run_all(section_commands(&readme(), "## Control API")).await;
    assert!(n >= 15, "{n} commands");
}
