//! `glmock healthcheck`: asks a running glmock for `GET /-/glmock/health` and says whether
//! it answered 200. Made for container health checks (Docker's `HEALTHCHECK`, GitHub
//! Actions' `--health-cmd`), where the image has no curl and no shell: one HTTP/1.1
//! request over a plain TCP socket, with no HTTP client library.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;

/// The address to call for a server that listens on `listen`: an unspecified address
/// (`0.0.0.0`, `::`) is reached through the loopback of the same family.
pub fn target(listen: &str) -> anyhow::Result<SocketAddr> {
    let mut addr = listen
        .to_socket_addrs()
        .with_context(|| format!("--listen {listen:?} is not an address like 127.0.0.1:8080"))?
        .next()
        .with_context(|| format!("--listen {listen:?} resolves to no address"))?;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    if addr.port() == 0 {
        bail!("--listen {listen:?} has port 0: the health check needs the port the server bound");
    }
    Ok(addr)
}

/// Sends `GET /-/glmock/health` to `addr` and returns the status code and body, all within
/// `timeout` (connect, write and read together).
pub fn probe(
    addr: SocketAddr,
    control_token: Option<&str>,
    timeout: Duration,
) -> anyhow::Result<(u16, String)> {
    let deadline = Instant::now() + timeout;
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .context("no answer within the timeout")
    };
    let mut stream = TcpStream::connect_timeout(&addr, left()?)
        .with_context(|| format!("connecting to {addr}"))?;
    let mut request = format!(
        "GET /-/glmock/health HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: glmock-healthcheck\r\nConnection: close\r\n"
    );
    if let Some(token) = control_token {
        request.push_str(&format!("X-Glmock-Control-Token: {token}\r\n"));
    }
    request.push_str("\r\n");
    stream.set_write_timeout(Some(left()?))?;
    stream
        .write_all(request.as_bytes())
        .with_context(|| format!("sending the request to {addr}"))?;
    // `Connection: close`: the server closes after the answer, so read to the end (bounded,
    // in case something else listens there and never stops talking).
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        stream.set_read_timeout(Some(left()?))?;
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).with_context(|| format!("reading the answer from {addr}")),
        }
        if answer.len() > 64 * 1024 {
            break;
        }
    }
    let text = String::from_utf8_lossy(&answer);
    let status_line = text.lines().next().unwrap_or("");
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse::<u16>().ok())
        .with_context(|| format!("{addr} did not answer HTTP (first line: {status_line:?})"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.trim().to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// Runs `glmock healthcheck`: 0 when the server answers 200 on /-/glmock/health, else 1
/// (2 when the address is not one).
pub fn run(a: &crate::cli::HealthcheckArgs) -> ExitCode {
    let addr = match target(&a.listen) {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let token = a.control_token.as_deref().filter(|t| !t.is_empty());
    let timeout = Duration::from_millis(a.timeout_ms.max(1));
    match probe(addr, token, timeout) {
        Ok((200, body)) => {
            println!("healthy: {body}");
            ExitCode::SUCCESS
        }
        Ok((status, body)) => {
            println!("unhealthy: http://{addr}/-/glmock/health answered {status}: {body}");
            ExitCode::from(1)
        }
        Err(e) => {
            println!("unhealthy: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// The container image has no shell, but `docker run --health-cmd` and GitHub Actions'
/// service `options: --health-cmd` always run their command with `/bin/sh -c`. In the image
/// `/bin/sh` is a link to glmock, and this is what it does when called so: it runs
/// `sh -c "glmock healthcheck [flags]"` (the program named `glmock`, with or without a
/// path) and refuses anything else with 127, a shell's "command not found". `None` when
/// the binary was not called as `sh`.
pub fn as_shell(args: &[OsString]) -> Option<ExitCode> {
    let called = Path::new(args.first()?).file_name()?;
    if called != "sh" {
        return None;
    }
    let refuse = |what: &str| {
        eprintln!(
            "sh: {what}: this image has no shell; /bin/sh is glmock, which runs only \
             `glmock healthcheck [flags]` (for --health-cmd)"
        );
        Some(ExitCode::from(127))
    };
    let (Some(flag), Some(command), None) = (args.get(1), args.get(2), args.get(3)) else {
        return refuse("expected `sh -c COMMAND`");
    };
    let command = command.to_string_lossy();
    let words: Vec<&str> = command.split_whitespace().collect();
    let is_glmock = words
        .first()
        .and_then(|w| Path::new(w).file_name())
        .is_some_and(|n| n == "glmock");
    if flag != "-c" || !is_glmock || words.get(1) != Some(&"healthcheck") {
        return refuse(&command);
    }
    match crate::cli::Args::try_parse_from(&words) {
        Ok(crate::cli::Args {
            command: crate::cli::Command::Healthcheck(a),
        }) => Some(run(&a)),
        Ok(_) => refuse(&command),
        Err(e) => {
            let _ = e.print();
            Some(ExitCode::from(2))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::{as_shell, target};

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn only_a_binary_called_sh_acts_as_the_health_check_shell() {
        assert!(as_shell(&args(&["glmock", "-c", "glmock healthcheck"])).is_none());
        assert!(as_shell(&args(&["/usr/local/bin/glmock", "serve"])).is_none());
        let refused = std::process::ExitCode::from(127);
        assert_eq!(
            as_shell(&args(&["/bin/sh", "-c", "curl -f http://x"])),
            Some(refused)
        );
        assert_eq!(
            as_shell(&args(&["/bin/sh", "-c", "glmock serve"])),
            Some(refused)
        );
        assert_eq!(
            as_shell(&args(&["/bin/sh", "-x", "glmock healthcheck"])),
            Some(refused)
        );
        assert_eq!(as_shell(&args(&["/bin/sh"])), Some(refused));
        // Port 1 on loopback: nothing listens, so the probe runs and reports unhealthy.
        assert_eq!(
            as_shell(&args(&[
                "/bin/sh",
                "-c",
                "/usr/local/bin/glmock healthcheck --listen 127.0.0.1:1 --timeout-ms 500"
            ])),
            Some(std::process::ExitCode::from(1))
        );
    }

    #[test]
    fn an_unspecified_listen_address_is_reached_through_loopback() {
        assert_eq!(
            target("0.0.0.0:8080").unwrap().to_string(),
            "127.0.0.1:8080"
        );
        assert_eq!(target("[::]:9000").unwrap().to_string(), "[::1]:9000");
        assert_eq!(target("10.1.2.3:81").unwrap().to_string(), "10.1.2.3:81");
        assert!(target("127.0.0.1:0").is_err(), "port 0 cannot be probed");
        assert!(target("nonsense").is_err());
    }
}
