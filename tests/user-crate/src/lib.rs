//! A tiny GitLab CI client, the kind of code glmock stands in for GitLab to test.

/// Retries a job; the new job's id.
pub async fn retry_job(
    client: &reqwest::Client,
    base_url: &str,
    token: &str,
    project: u64,
    job: u64,
) -> Result<u64, String> {
    let response = client
        .post(format!(
            "{base_url}/api/v4/projects/{project}/jobs/{job}/retry"
        ))
        .header("PRIVATE-TOKEN", token)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.text().await.map_err(|e| e.to_string())?;
    if status != 201 {
        return Err(format!("{status}: {body}"));
    }
    // `"id":N` is the first field of GitLab's job entity.
    body.strip_prefix("{\"id\":")
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| format!("no id in {body}"))
}

/// A TLS client configuration from rustls' process-wide provider, as tokio-rustls or
/// hyper-rustls users build one. It panics when Cargo's feature unification leaves rustls
/// with no provider it can pick (two providers enabled, e.g. `ring` next to `aws-lc-rs`).
pub fn tls_config() -> rustls::ClientConfig {
    rustls::ClientConfig::builder()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth()
}
