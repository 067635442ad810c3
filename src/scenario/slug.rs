//! Environment slugs and tiers, by GitLab's algorithms (`lib/gitlab/slug/environment.rb`,
//! `Environment#guess_tier` in `app/models/environment.rb`), so what `allowed_agents`
//! reports is what GitLab would store.

/// `Gitlab::Slug::Environment#generate`: lower-case letters, digits and `-`, starting with
/// a letter, at most 24 bytes, not ending in `-`; when the name had to change (or was too
/// long), 17 characters and a 6-character suffix from the name's SHA-256.
pub fn environment(name: &str) -> String {
    let mut slug: String = name
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    if !slug.starts_with(|c: char| c.is_ascii_lowercase()) {
        slug.insert_str(0, "env-");
    }
    // `squeeze!('-')`: runs of dashes become one.
    let mut squeezed = String::with_capacity(slug.len());
    for c in slug.chars() {
        if !(c == '-' && squeezed.ends_with('-')) {
            squeezed.push(c);
        }
    }
    if squeezed.len() > 24 || squeezed != name {
        let mut short: String = squeezed.chars().take(17).collect();
        if !short.ends_with('-') {
            short.push('-');
        }
        short.push_str(&suffix(name));
        short
    } else {
        squeezed.trim_end_matches('-').to_owned()
    }
}

/// `Environment#guess_tier`: the tier of an environment that does not name one, from the
/// first of GitLab's patterns its name matches (case-insensitive).
pub fn tier(name: &str) -> &'static str {
    let n = name.to_lowercase();
    let any = |words: &[&str]| words.iter().any(|w| n.contains(w));
    if any(&["dev", "review", "trunk"]) {
        "development"
    } else if any(&[
        "test", "tst", "int", "accept", "acpt", "qa", "qc", "control", "quality",
    ]) {
        "testing"
    } else if any(&["stag", "stg", "model", "modl", "pre", "demo", "non"]) {
        "staging"
    } else if any(&["prod", "prd", "live"]) {
        "production"
    } else {
        "other"
    }
}

/// `Digest::SHA2.hexdigest(name).to_i(16).to_s(36).last(6)`.
fn suffix(name: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, name.as_bytes());
    base36_tail(digest.as_ref())
}

/// The last six base-36 digits of a big-endian number (a digest is far above 36⁶, so there
/// are always six).
fn base36_tail(bytes: &[u8]) -> String {
    const M: u64 = 36u64.pow(6);
    let mut rem = 0u64;
    for b in bytes {
        rem = (rem * 256 + u64::from(*b)) % M;
    }
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = digits[(rem % 36) as usize];
        rem /= 36;
    }
    String::from_utf8(out.to_vec()).expect("base-36 digits are ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `spec/lib/gitlab/slug/environment_spec.rb`, whose digest is stubbed to `"a" * 64`
    /// (suffix `q517sa`): the shape of every slug, with the real suffix in its place.
    #[test]
    fn slugs_have_gitlabs_shape() {
        assert_eq!(base36_tail(&[0xaa; 32]), "q517sa");
        for (name, slug) in [
            ("staging-12345678901234567", "staging-123456789-q517sa"),
            ("9-staging-123456789012345", "env-9-staging-123-q517sa"),
            ("staging-1234567890123456", "staging-1234567890123456"),
            ("staging-1234567890123456-", "staging-123456789-q517sa"),
            ("production", "production"),
            ("PRODUCTION", "production-q517sa"),
            ("review/1-foo", "review-1-foo-q517sa"),
            ("1-foo", "env-1-foo-q517sa"),
            ("1/foo", "env-1-foo-q517sa"),
            ("foo-", "foo"),
            ("foo--bar", "foo-bar-q517sa"),
            ("foo**bar", "foo-bar-q517sa"),
            ("*-foo", "env-foo-q517sa"),
            ("staging-12345678-", "staging-12345678"),
            ("staging-12345678-01234567", "staging-12345678-q517sa"),
            ("", "env-q517sa"),
        ] {
            let expected = slug.replace("q517sa", &suffix(name));
            assert_eq!(environment(name), expected, "{name:?}");
        }
    }

    #[test]
    fn tiers_are_guessed_as_gitlab_does() {
        for (name, tier) in [
            ("review/123", "development"),
            ("production", "production"),
            ("Prod-EU", "production"),
            ("staging", "staging"),
            ("qa", "testing"),
            ("acceptance", "testing"),
            ("demo", "staging"),
            ("canary", "other"),
            // The first pattern wins: "preprod" is staging, "dev-prod" development.
            ("preprod", "staging"),
            ("dev-prod", "development"),
        ] {
            assert_eq!(super::tier(name), tier, "{name}");
        }
    }

    /// Real suffixes (SHA-256 of the name, base 36, last six digits).
    #[test]
    fn suffixes_come_from_the_names_sha256() {
        assert_eq!(environment("review/123"), "review-123-twxcp1");
        assert_eq!(environment("PRODUCTION"), "production-vl4voz");
    }
}
