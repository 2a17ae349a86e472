//! The client the global options describe: TLS, proxies, platform and credentials.

use std::io::Read as _;

use dockreg::{Client, Credentials};

use crate::args::Global;
use crate::exit::{Failure, Outcome};

/// Builds the client; `credentials_for` is the registry `--username` applies to.
pub fn client(global: &Global, credentials_for: Option<String>) -> Outcome<Client> {
    let mut builder = Client::builder();
    for host in &global.insecure {
        builder = builder.insecure_registry(host);
    }
    for file in &global.ca_file {
        let pem = std::fs::read(file)
            .map_err(|e| Failure::Usage(format!("--ca-file {}: {e}", file.display())))?;
        builder = builder.add_root_certificates_pem(&pem);
    }
    for dir in &global.cert_dir {
        builder = builder.cert_dir(dir);
    }
    if let Some(verify) = global.tls_verify {
        builder = builder.tls_verify(verify);
    }
    if let Some(proxy) = &global.proxy {
        builder = builder.proxy(proxy);
    }
    if let Some(list) = &global.no_proxy {
        builder = builder.no_proxy(list);
    }
    if let Some(jobs) = global.jobs {
        builder = builder.max_concurrency(jobs as usize);
    }
    if let Some(platform) = &global.platform {
        builder = builder.platform(platform.clone());
    }
    if let Some(user) = &global.username {
        let Some(registry) = credentials_for else {
            return Err(Failure::Usage(
                "--username: this command names no registry to log in to".into(),
            ));
        };
        let password = password_from_stdin()?;
        builder = builder.credentials(&registry, Credentials::basic(user, &password));
    }
    Ok(builder.build()?)
}

/// All of stdin less one trailing newline, as `docker login --password-stdin` reads it.
fn password_from_stdin() -> Outcome<String> {
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password)?;
    let password = password.strip_suffix('\n').unwrap_or(&password);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err(Failure::Usage("--password-stdin: stdin is empty".into()));
    }
    Ok(password.to_string())
}
