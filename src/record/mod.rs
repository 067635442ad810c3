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

use crate::cli::RecordArgs;

pub use crawl::{CrawlOptions, crawl};
pub use proxy::{ProxyHandle, ProxyOptions, proxy};
pub use redact::{RedactOptions, redact, remove_secrets};

/// Runs `glmock record`: exit 0 when the cassette was written, an error otherwise.
pub fn run(args: &RecordArgs) -> anyhow::Result<ExitCode> {
    crate::install_crypto_provider();
    let redact_opts = RedactOptions::parse(&args.redact)?;
    capture::normalize_upstream(&args.upstream)?;
    if args.rate.is_nan() || args.rate <= 0.0 {
        anyhow::bail!("--rate must be a positive number of requests per second");
    }
    if let Some(dir) = args.out.parent()
        && !dir.as_os_str().is_empty()
        && !dir.is_dir()
    {
        anyhow::bail!("--out: directory {} does not exist", dir.display());
    }
    let token = std::env::var(&args.token_env)
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut cassette = runtime.block_on(async {
        match (&args.project, &args.listen) {
            (Some(_), None) => {
                let Some(token) = token.as_deref() else {
                    anyhow::bail!(
                        "set the environment variable {} to an access token (read_api scope) \
                         for {}; --token-env names another variable",
                        args.token_env,
                        args.upstream
                    );
                };
                let opts = CrawlOptions::from_args(args)?;
                crawl(&opts, Some(token)).await
            }
            (None, Some(_)) => run_proxy(args, token).await,
            (Some(_), Some(_)) => {
                anyhow::bail!("give either --project (crawl) or --listen (proxy)")
            }
            (None, None) => {
                anyhow::bail!("give --project ID_OR_PATH (crawl) or --listen ADDR (proxy)")
            }
        }
    })?;
    // A crawl whose project could not be read stops there: say so (after writing the answer).
    let unreadable = match (&args.project, cassette.exchanges.as_slice()) {
        (Some(project), [only]) if !(200..300).contains(&only.response.status) => Some(format!(
            "project {project} answered {} (see the cassette); check the token and the project",
            only.response.status
        )),
        _ => None,
    };
    redact(&mut cassette, &redact_opts);
    cassette.write(&args.out)?;
    eprintln!(
        "glmock record: wrote {} exchange(s) to {}",
        cassette.exchanges.len(),
        args.out.display()
    );
    if let Some(message) = unreadable {
        anyhow::bail!(message);
    }
    Ok(ExitCode::SUCCESS)
}

async fn run_proxy(args: &RecordArgs, token: Option<String>) -> anyhow::Result<cassette::Cassette> {
    let opts = ProxyOptions::from_args(args)?;
    let handle = proxy(&opts, token).await?;
    println!("{}", handle.url());
    let _ = std::io::stdout().flush();
    eprintln!(
        "glmock record: forwarding {} to {}; stop with Ctrl-C to write {}",
        handle.url(),
        args.upstream,
        args.out.display()
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
