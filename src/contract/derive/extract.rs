//! Finding the JSON examples in a documentation page, whichever way it was saved: GitLab's
//! Markdown (an endpoint line such as `GET /projects/:id/jobs` in a code fence, then a
//! ```` ```json ```` fence), a plain-text rendering of the HTML page (the same lines without
//! fences, in any language), or either of those with a timestamp line before every line
//! (a blame view).
//!
//! Each example belongs to the endpoint line above it. Request bodies shown in the same
//! section (`@variables.json` is structured like: …) are recognised by the line that
//! introduces them and skipped.

use super::lenient::{self, Repair};
use super::shapes;
use super::{Example, Note, NoteKind};

/// Extracts every JSON response example in `text`; `name` labels the examples and notes
/// (`name:line`, lines of the text as given).
pub(crate) fn page(name: &str, text: &str) -> (Vec<Example>, Vec<Note>) {
    let mut notes = Vec::new();
    let lines = content_lines(name, text, &mut notes);
    let mut examples = Vec::new();

    let mut endpoint: Option<(String, String)> = None;
    let mut fence: Option<String> = None;
    let mut intro: Option<String> = None;
    let mut i = 0;
    while i < lines.len() {
        let (line_no, line) = lines[i];
        let t = line.trim();
        i += 1;

        if let Some(lang) = fence_marker(t) {
            fence = match fence {
                None => Some(lang.to_ascii_lowercase()),
                Some(_) => None,
            };
            continue;
        }
        if let Some((method, path)) = endpoint_line(t) {
            endpoint = Some((method.to_string(), shapes::normalise_path(path)));
            intro = None;
            continue;
        }
        let in_json_fence = fence.as_deref().is_some_and(is_json_lang);
        let starts_json = if in_json_fence {
            t.starts_with('{') || t.starts_with('[')
        } else {
            fence.is_none() && opens_json(t)
        };
        if starts_json {
            let start = i - 1;
            let Some((candidate, end)) = balanced(&lines, start, in_json_fence) else {
                if in_json_fence || t.starts_with('{') {
                    notes.push(Note::new(
                        name,
                        line_no,
                        NoteKind::NotJson,
                        "a JSON example whose brackets never close; skipped",
                    ));
                }
                continue;
            };
            i = end + 1;
            // Lines of the candidate (from 1) back to lines of the page.
            let page_line = |rel: usize| {
                lines
                    .get(start + rel.saturating_sub(1))
                    .map_or(line_no, |(n, _)| *n)
            };
            let looks_like_json = in_json_fence || t.starts_with('{') || end > start;
            let (value, repairs) = match lenient::parse(&candidate) {
                Ok(parsed) => parsed,
                Err(e) => {
                    if looks_like_json {
                        notes.push(Note::new(
                            name,
                            page_line(e.line),
                            NoteKind::NotJson,
                            format!("not JSON even leniently: {}; example skipped", e.message),
                        ));
                    }
                    continue;
                }
            };
            for r in &repairs {
                let (rel, kind, msg) = match r {
                    Repair::TrailingComma { line } => (
                        *line,
                        NoteKind::TrailingComma,
                        "trailing comma removed".to_string(),
                    ),
                    Repair::DuplicateKey { key, line } => (
                        *line,
                        NoteKind::DuplicateKey,
                        format!("key {key:?} given twice; the last value is kept"),
                    ),
                };
                notes.push(Note::new(name, page_line(rel), kind, msg));
            }
            if intro.as_deref().is_some_and(introduces_request) {
                notes.push(Note::new(
                    name,
                    line_no,
                    NoteKind::RequestBody,
                    "a request body, not a response; skipped",
                ));
                continue;
            }
            let Some((method, path)) = endpoint.clone() else {
                notes.push(Note::new(
                    name,
                    line_no,
                    NoteKind::NoEndpoint,
                    "a JSON example before any endpoint line; skipped",
                ));
                continue;
            };
            let status = shapes::endpoint(&method, &path)
                .map_or_else(|| shapes::default_status(&method), |e| e.status);
            examples.push(Example {
                method,
                path,
                status,
                json: value,
                source: format!("{name}:{line_no}"),
            });
            continue;
        }
        if !t.is_empty() && fence.is_none() && !is_command(t) {
            intro = Some(t.to_string());
        }
    }
    (examples, notes)
}

/// The page's lines with their numbers, without the timestamp lines of a blame view.
fn content_lines<'a>(name: &str, text: &'a str, notes: &mut Vec<Note>) -> Vec<(usize, &'a str)> {
    let all: Vec<(usize, &str)> = text.lines().enumerate().map(|(i, l)| (i + 1, l)).collect();
    let non_empty = all.iter().filter(|(_, l)| !l.trim().is_empty()).count();
    let stamps = all.iter().filter(|(_, l)| is_timestamp_line(l)).count();
    // A page that merely mentions a date on a line of its own is not a blame view: only
    // strip when the stamps are a real share of the lines.
    if stamps >= 3 && stamps * 10 >= non_empty {
        notes.push(Note::new(
            name,
            1,
            NoteKind::TimestampLines,
            format!("{stamps} timestamp lines interleaved with the content; removed"),
        ));
        all.into_iter()
            .filter(|(_, l)| !is_timestamp_line(l))
            .collect()
    } else {
        all
    }
}

/// `2020-08-04 02:10:16 -04:00`, `2020-08-04T02:10:16Z` and the like, alone on a line.
pub(crate) fn is_timestamp_line(line: &str) -> bool {
    let b = line.trim().as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    if b.len() < 19
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || !(b[10] == b' ' || b[10] == b'T')
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    let mut rest = &b[19..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    let rest = rest.strip_prefix(b" ").unwrap_or(rest);
    match rest {
        [] | [b'Z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] | [b'+' | b'-', h1, h2, m1, m2] => {
            [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}

/// The language of a code-fence line (```` ```json ```` → `json`), or `None` if `t` is not one.
fn fence_marker(t: &str) -> Option<&str> {
    t.strip_prefix("```")
        .or_else(|| t.strip_prefix("~~~"))
        .map(|rest| rest.trim_start_matches(['`', '~']).trim())
}

fn is_json_lang(lang: &str) -> bool {
    matches!(lang, "" | "json" | "jsonc" | "javascript" | "js")
}

/// Outside a fence, a line opens a JSON value only if it looks like one: `{` then a key or
/// `}`, `[` then a value or `]`. Hugo shortcodes (`{{< history >}}`) and Markdown links
/// (`[Introduced](…)`) do not.
fn opens_json(t: &str) -> bool {
    let mut chars = t.chars();
    let open = chars.next();
    let next = chars.as_str().trim_start().chars().next();
    match open {
        Some('{') => matches!(next, None | Some('"' | '}')),
        Some('[') => matches!(
            next,
            None | Some('{' | '[' | '"' | ']' | '-' | '0'..='9' | 't' | 'f' | 'n')
        ),
        _ => false,
    }
}

/// `GET /projects/:id/jobs` alone on a line (backticks allowed around it).
pub(crate) fn endpoint_line(t: &str) -> Option<(&str, &str)> {
    let t = t.trim_matches('`').trim();
    let (method, path) = t.split_once(char::is_whitespace)?;
    let path = path.trim();
    let known = matches!(method, "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD");
    (known && path.starts_with('/') && !path.contains(char::is_whitespace))
        .then_some((method, path))
}

/// Shell lines of a plain-text rendering (where the fences are gone); their words
/// (`--request POST`, `--data @file.json`) must not be read as the example's introduction.
fn is_command(t: &str) -> bool {
    t.starts_with("curl ")
        || t.starts_with("--")
        || t.ends_with('\\')
        || t.starts_with("# Option")
        || t.starts_with('$')
}

/// Does the line before a JSON block say it is a request body?
fn introduces_request(intro: &str) -> bool {
    let l = intro.to_lowercase();
    let says_response = l.contains("response") || l.contains("応答") || l.contains("レスポンス");
    if says_response {
        return false;
    }
    l.contains("request")
        || l.contains("リクエスト")
        || l.contains("payload")
        || l.contains("structured like")
        || (l.contains('@') && l.contains(".json"))
}

/// Collects the lines from `lines[start]` until its first `{`/`[` is closed. Returns the
/// text and the index of the last line used. Inside a fence, the closing fence ends the
/// search.
fn balanced(lines: &[(usize, &str)], start: usize, in_fence: bool) -> Option<(String, usize)> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut text = String::new();
    for (idx, (_, line)) in lines.iter().enumerate().skip(start) {
        if idx > start && in_fence && fence_marker(line.trim()).is_some() {
            return None;
        }
        for (pos, c) in line.char_indices() {
            if in_string {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => in_string = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => in_string = true,
                '{' | '[' => depth += 1,
                '}' | ']' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        text.push_str(&line[..pos + c.len_utf8()]);
                        return Some((text, idx));
                    }
                }
                _ => {}
            }
        }
        // A string never spans lines in JSON; a stray quote must not swallow the page.
        in_string = false;
        escaped = false;
        text.push_str(line);
        text.push('\n');
    }
    None
}
