//! Parse the command line, run, exit with 0 (ok), 1 (problems found) or 2 (error).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use glmock::cli::{Args, Command, LogFormat};
use glmock::config::{self, Config};
use glmock::scenario::{self, Overrides};

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.command {
        Command::Serve(a) => Config::from_args(&a).and_then(serve),
        Command::Check(a) => check(&a),
        Command::ScenarioSchema => {
            println!("{}", scenario::SCENARIO_SCHEMA.trim_end());
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn init_logging(level: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        let spec = if level.contains('=') {
            level.to_owned()
        } else {
            format!("glmock={level},warn")
        };
        tracing_subscriber::EnvFilter::new(spec)
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

fn serve(config: Config) -> anyhow::Result<ExitCode> {
    init_logging(&config.log_level, config.log_format);
    let world = match scenario::load_paths(&config.scenarios, &config.overrides) {
        Ok(w) => w,
        Err(errors) => {
            eprint!("error: {errors}");
            return Ok(ExitCode::from(2));
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let gitlab_version = world.instance.version.clone();
        let mut server = glmock::Server::start(world, config.server.clone())
            .await
            .with_context(|| format!("binding {}", config.server.listen))?;
        let url = server.uri();
        tracing::info!(%url, gitlab_version, "glmock listening");
        println!("{url}");
        let _ = std::io::stdout().flush();
        let stop = server.take_stop();
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down");
            if let Some(stop) = stop {
                let _ = stop.send(());
            }
        });
        server.wait().await;
        Ok(ExitCode::SUCCESS)
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn check(a: &glmock::cli::CheckArgs) -> anyhow::Result<ExitCode> {
    let overrides = Overrides {
        base_url: None,
        version: config::parse_version(a.gitlab_version.as_deref())?,
    };
    match scenario::load_paths(&a.paths, &overrides) {
        Ok(world) => {
            let (mut pipelines, mut jobs) = (0, 0);
            for p in world.projects.values() {
                pipelines += p.pipelines.len();
                jobs += p.builds.len() + p.bridges.len();
            }
            println!(
                "ok: {} file(s), {} project(s), {pipelines} pipeline(s), {jobs} job(s), GitLab {}",
                a.paths.len(),
                world.projects.len(),
                world.instance.version
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            print!("{errors}");
            Ok(ExitCode::from(2))
        }
    }
}
