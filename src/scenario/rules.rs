//! `only: variables:` expressions of CI definitions (`lib/gitlab/ci/pipeline/expression/`):
//! `$VAR` (defined and not empty), `$VAR == "value"`, `$VAR != "value"`, and `null` on the
//! right of `==` / `!=`. A job is created when any of its expressions holds.

/// One parsed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariableExpr {
    Present(String),
    Equals(String, Option<String>),
    Differs(String, Option<String>),
}

impl VariableExpr {
    /// Parses `text`, or says what is wrong with it.
    pub fn parse(text: &str) -> Result<VariableExpr, String> {
        let t = text.trim();
        let var = |s: &str| -> Result<String, String> {
            let s = s.trim();
            let name = s
                .strip_prefix('$')
                .ok_or_else(|| format!("{s:?} is not a variable (write $NAME)"))?;
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("{s:?} is not a variable name"));
            }
            Ok(name.to_owned())
        };
        let value = |s: &str| -> Result<Option<String>, String> {
            let s = s.trim();
            if s == "null" {
                return Ok(None);
            }
            s.strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .or_else(|| s.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
                .map(|v| Some(v.to_owned()))
                .ok_or_else(|| format!("{s:?} is not a quoted string or null"))
        };
        if let Some((l, r)) = t.split_once("==") {
            Ok(VariableExpr::Equals(var(l)?, value(r)?))
        } else if let Some((l, r)) = t.split_once("!=") {
            Ok(VariableExpr::Differs(var(l)?, value(r)?))
        } else {
            Ok(VariableExpr::Present(var(t)?))
        }
    }

    /// Whether the expression holds for `lookup` (a variable's value by name).
    pub fn holds<'v>(&self, lookup: impl Fn(&str) -> Option<&'v str>) -> bool {
        match self {
            VariableExpr::Present(k) => lookup(k).is_some_and(|v| !v.is_empty()),
            VariableExpr::Equals(k, v) => lookup(k) == v.as_deref(),
            VariableExpr::Differs(k, v) => lookup(k) != v.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::VariableExpr;

    #[test]
    fn expressions_parse_and_hold() {
        let vars = |k: &str| match k {
            "STAGING" => Some("true"),
            "EMPTY" => Some(""),
            _ => None,
        };
        for (text, holds) in [
            ("$STAGING", true),
            ("$EMPTY", false),
            ("$MISSING", false),
            ("$STAGING == \"true\"", true),
            ("$STAGING == 'false'", false),
            ("$STAGING != \"false\"", true),
            ("$MISSING == null", true),
            ("$STAGING != null", true),
        ] {
            let e = VariableExpr::parse(text).expect(text);
            assert_eq!(e.holds(vars), holds, "{text}");
        }
        assert!(VariableExpr::parse("STAGING").is_err());
        assert!(VariableExpr::parse("$A == true").is_err());
    }
}
