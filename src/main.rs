//! Parse the command line, run, exit with 0 (ok), 1 (problems found) or 2 (error).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use glmock::__internal::cli::{Args, Command, DeriveArgs, LogFormat, SchemasCommand};
use glmock::__internal::config::{self, Config};
use glmock::__internal::console::{Console, Flush};
use glmock::__internal::contract::{Contract, Mode};
use glmock::__internal::scenario::{self, Overrides};
use glmock::__internal::server::access;
use glmock::__internal::{import, record, verify};

// args → options → run: clap's types stop here and in `config`; each subsystem takes its own
// options type.
fn main() -> ExitCode {
    // In the container image /bin/sh is this binary, for `--health-cmd` (see healthcheck.rs).
    if let Some(code) =
        glmock::__internal::healthcheck::as_shell(&std::env::args_os().collect::<Vec<_>>())
    {
        return code;
    }
    let args = Args::parse();
    let result = match args.command {
        Command::Serve(a) => Config::from_args(&a).and_then(serve),
        Command::Check(a) => check(&a),
        Command::Schemas(SchemasCommand::Derive(a)) => derive(&a),
        Command::Record(a) => config::record_options(&a).and_then(|o| record::run(&o)),
        Command::Verify(a) => config::verify_options(&a).and_then(|o| verify::run(&o)),
        Command::Import(a) => import::run(&config::import_options(&a)),
        Command::Healthcheck(a) => Ok(glmock::__internal::healthcheck::run(&a)),
        Command::ScenarioSchema => {
            print!("{}", scenario::schema::text());
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

/// The console log; the guard writes the batched access-log lines still pending when it drops.
fn init_logging(level: &str, format: LogFormat) -> Flush {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        let spec = if level.contains('=') {
            level.to_owned()
        } else {
            format!("glmock={level},warn")
        };
        tracing_subscriber::EnvFilter::new(spec)
    });
    let (console, flush) = Console::new();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(console.clone());
    let ansi = std::io::stderr().is_terminal();
    let direct = match format {
        LogFormat::Json => {
            builder.json().init();
            Some(access::Format::Json)
        }
        LogFormat::Text => {
            builder.with_ansi(ansi).init();
            (!ansi).then_some(access::Format::Text)
        }
    };
    // The access log skips tracing's formatter when the filter lets its lines through and
    // they have no colours (they are the same bytes, see `server::access`).
    if let Some(format) = direct
        && tracing::enabled!(target: access::TARGET, tracing::Level::INFO)
    {
        access::write_directly(format, Box::new(move |line| console.batch(line)));
    }
    flush
}

fn serve(config: Config) -> anyhow::Result<ExitCode> {
    let _console = init_logging(&config.log_level, config.log_format);
    let loaded = config.scenario_sources().and_then(|sources| {
        scenario::build(&sources.sources, &sources.overrides).map(|world| (world, sources))
    });
    let (world, sources) = match loaded {
        Ok(v) => v,
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
        let mut server =
            glmock::__internal::Server::start_with(world, Some(sources), config.server.clone())
                .await
                .with_context(|| format!("starting the server on {}", config.server.listen))?;
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
        let report = server.wait().await;
        // Responses cut at the grace deadline: a problem found (exit 1), see the README.
        Ok(if report.cut > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
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

fn check(a: &glmock::__internal::cli::CheckArgs) -> anyhow::Result<ExitCode> {
    let overrides = Overrides {
        base_url: None,
        version: config::parse_version(a.gitlab_version.as_deref())?,
    };
    let paths = config::scenario_files(&a.paths, None)?;
    let mut world = match scenario::load_paths(&paths, &overrides) {
        Ok(world) => world,
        Err(errors) => {
            print!("{errors}");
            return Ok(ExitCode::from(2));
        }
    };
    let contract = Contract::load(
        a.schemas.as_deref(),
        world.instance.profile.version,
        Mode::Warn,
    )
    .context("loading the response schemas")?;
    world.attach_contract(contract);
    let found = glmock::__internal::contract::offline::check_world(&world);
    let (mut pipelines, mut jobs) = (0, 0);
    for p in world.projects.values() {
        pipelines += p.pipelines.len();
        jobs += p.builds.len() + p.bridges.len();
    }
    if !found.is_empty() {
        println!(
            "{} contract violation(s) (GitLab {})",
            found.len(),
            world.instance.version
        );
        for f in &found {
            let v = &f.violation;
            println!(
                "  {}: {}: {} {}: {}",
                f.origin,
                f.endpoint,
                v.shape,
                if v.path.is_empty() { "/" } else { &v.path },
                v.message
            );
        }
        return Ok(ExitCode::from(1));
    }
    println!(
        "ok: {} file(s), {} project(s), {pipelines} pipeline(s), {jobs} job(s), GitLab {}, every rendering matches its schema",
        paths.len(),
        world.projects.len(),
        world.instance.version
    );
    Ok(ExitCode::SUCCESS)
}

fn derive(a: &DeriveArgs) -> anyhow::Result<ExitCode> {
    use glmock::__internal::contract::derive;
    let mut paths = Vec::new();
    for p in &a.docs {
        if p.is_dir() {
            let mut inside: Vec<_> = std::fs::read_dir(p)
                .with_context(|| format!("reading {}", p.display()))?
                .flatten()
                .map(|e| e.path())
                .filter(|f| f.is_file())
                .collect();
            inside.sort();
            paths.extend(inside);
        } else {
            paths.push(p.clone());
        }
    }
    let mut docs = Vec::new();
    for p in &paths {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        docs.push((p.display().to_string(), text));
    }
    let overlay_path = a
        .overlay
        .clone()
        .unwrap_or_else(|| a.out.join("overlay.json"));
    let overlay_text = std::fs::read_to_string(&overlay_path)
        .with_context(|| format!("reading the overlay {}", overlay_path.display()))?;
    let overlay: serde_json::Value = serde_json::from_str(&overlay_text)
        .with_context(|| format!("parsing the overlay {}", overlay_path.display()))?;
    let derived = derive::derive(&docs, &overlay);
    for n in &derived.notes {
        eprintln!("note: {n}");
    }
    if a.check {
        let stale = derive::stale(&a.out, &derived)
            .with_context(|| format!("comparing with {}", a.out.display()))?;
        if stale.is_empty() {
            println!(
                "ok: {} is up to date ({} schemas)",
                a.out.display(),
                derived.schemas.len()
            );
            return Ok(ExitCode::SUCCESS);
        }
        println!(
            "{} is stale; these files differ from a fresh derivation:",
            a.out.display()
        );
        for f in stale {
            println!("  {}", f.display());
        }
        return Ok(ExitCode::from(1));
    }
    derive::write(&a.out, &derived).with_context(|| format!("writing {}", a.out.display()))?;
    println!(
        "wrote {} schemas and their examples to {}",
        derived.schemas.len(),
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
