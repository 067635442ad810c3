//! `glmock record`: crawl a live GitLab project's CI endpoints, or proxy a client's traffic,
//! into a cassette with every secret removed.
//!
//! - `crawl::crawl` walks a project's seed GET endpoints (rate-limited, retried on 429/5xx);
//! - `proxy::proxy` forwards any client's traffic and records it, mutations included;
//! - `redact::remove_secrets` runs on every cassette before it leaves the recorder, and
//!   `redact::redact` replaces personal data with consistent pseudonyms (`--redact`).

pub mod capture;
pub mod cassette;
pub mod client;
pub mod crawl;
pub mod proxy;
pub mod redact;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use std::path::PathBuf;

pub use crawl::{CrawlOptions, crawl};
pub use proxy::{ProxyHandle, ProxyOptions, proxy};
pub use redact::{RedactOptions, redact, remove_secrets};

/// What `glmock record` runs with (the CLI maps its arguments to this).
#[derive(Debug, Clone)]
pub struct Options {
    /// Crawl a project, or proxy a client's traffic.
    pub mode: Mode,
    /// The access token sent upstream (`PRIVATE-TOKEN`), if any.
    pub token: Option<String>,
    /// Where the token was to come from, for the message when a crawl has none
    /// (`the environment variable GITLAB_TOKEN`).
    pub token_source: String,
    /// Cassette to write.
    pub out: PathBuf,
    /// Personal data to replace with pseudonyms.
    pub redact: RedactOptions,
}

/// How to record.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Walk a project's CI endpoints.
    Crawl(CrawlOptions),
    /// Forward every request to the upstream, recording it, until Ctrl-C or SIGTERM.
    Proxy(ProxyOptions),
}

impl Options {
    fn upstream(&self) -> &str {
        match &self.mode {
            Mode::Crawl(c) => &c.upstream,
            Mode::Proxy(p) => &p.upstream,
        }
    }
}

/// Runs `glmock record`: exit 0 when the cassette was written, an error otherwise.
pub fn run(opts: &Options) -> anyhow::Result<ExitCode> {
    capture::normalize_upstream(opts.upstream())?;
    if let Mode::Crawl(c) = &opts.mode
        && (c.rate.is_nan() || c.rate <= 0.0)
    {
        anyhow::bail!("--rate must be a positive number of requests per second");
    }
    if let Some(dir) = opts.out.parent()
        && !dir.as_os_str().is_empty()
        && !dir.is_dir()
    {
        anyhow::bail!("--out: directory {} does not exist", dir.display());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut cassette = runtime.block_on(async {
        match &opts.mode {
            Mode::Crawl(crawl_opts) => {
                let Some(token) = opts.token.as_deref() else {
                    anyhow::bail!(
                        "set {} to an access token (read_api scope) for {}; --token-env names another variable",
                        opts.token_source,
                        crawl_opts.upstream
                    );
                };
                crawl(crawl_opts, Some(token)).await
            }
            Mode::Proxy(proxy_opts) => run_proxy(opts, proxy_opts).await,
        }
    })?;
    // A crawl whose project could not be read stops there: say so (after writing the answer).
    let unreadable = match (&opts.mode, cassette.exchanges.as_slice()) {
        (Mode::Crawl(c), [only]) if !(200..300).contains(&only.response.status) => Some(format!(
            "project {} answered {} (see the cassette); check the token and the project",
            c.project, only.response.status
        )),
        _ => None,
    };
    redact(&mut cassette, &opts.redact);
    cassette.write(&opts.out)?;
    eprintln!(
        "glmock record: wrote {} exchange(s) to {}",
        cassette.exchanges.len(),
        opts.out.display()
    );
    if let Some(message) = unreadable {
        anyhow::bail!(message);
    }
    Ok(ExitCode::SUCCESS)
}

async fn run_proxy(
    opts: &Options,
    proxy_opts: &ProxyOptions,
) -> anyhow::Result<cassette::Cassette> {
    let handle = proxy(proxy_opts, opts.token.clone()).await?;
    println!("{}", handle.url());
    let _ = std::io::stdout().flush();
    eprintln!(
        "glmock record: forwarding {} to {}; stop with Ctrl-C to write {}",
        handle.url(),
        proxy_opts.upstream,
        opts.out.display()
    );
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} exchanges recorded, {elapsed}")
            .expect("valid template"),
    );
    let signal = shutdown_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            _ = &mut signal => break,
            _ = tokio::time::sleep(Duration::from_millis(200)) => {
                bar.set_position(handle.recorded() as u64);
                bar.tick();
            }
        }
    }
    bar.finish_and_clear();
    Ok(handle.stop().await)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
