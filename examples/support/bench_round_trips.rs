//! The benchmark's workloads where round trips dominate (issue 11): threads sharing a client,
//! the bulk resolve, instances, a copy between registries, a cold process, and the C ABI. Each
//! has its raw-HTTP floor beside it (`floor`), at the same concurrency.

use std::process::{Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use dockreg::{Client, Manifest};
use serde_json::{Value, json};

use super::{
    Args, Fields, Sample, base, check_digests, image, ms_since, raw, resolve_fields, tag_name,
    tag_refs,
};

/// `resolve`'s ops from `--threads` threads sharing one client (or one agent).
pub fn resolve_parallel(
    c: &Client,
    agent: &ureq::Agent,
    a: &Args,
    floor: bool,
) -> Result<Sample, String> {
    let refs = tag_refs(a, a.n())?;
    let b = base(&a.registry);
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<(f64, String)>> = Mutex::new(Vec::with_capacity(refs.len()));
    let failure: Mutex<Option<String>> = Mutex::new(None);
    let t0 = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..a.threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(r) = refs.get(i) else { break };
                    let t = Instant::now();
                    let d = if floor {
                        raw::head_digest(agent, &b, "bench/app", &tag_name(i, a.tags))
                    } else {
                        c.get_digest(r)
                            .map(|d| d.to_string())
                            .map_err(|e| e.to_string())
                    };
                    let ms = ms_since(t);
                    match d {
                        Ok(d) => out.lock().unwrap().push((ms, d)),
                        Err(e) => {
                            failure.lock().unwrap().get_or_insert(e);
                            break;
                        }
                    }
                }
            });
        }
    });
    let wall = t0.elapsed().as_secs_f64();
    if let Some(e) = failure.into_inner().unwrap() {
        return Err(e);
    }
    let out = out.into_inner().unwrap();
    if out.len() != refs.len() {
        return Err(format!("{} of {} resolved", out.len(), refs.len()));
    }
    let distinct = check_digests(out.iter().map(|(_, d)| d.as_str()), a.n(), a.tags)?;
    let mut fields = resolve_fields(a, a.n(), distinct);
    if let Some(Value::Object(p)) = fields.get_mut("params") {
        p.insert("threads".into(), json!(a.threads));
    }
    Ok(Sample {
        ops: refs.len(),
        wall,
        lat: out.into_iter().map(|(ms, _)| ms).collect(),
        fields,
    })
}

/// Every tag resolved by one bulk call.
pub fn resolve_many(c: &Client, a: &Args) -> Result<Sample, String> {
    let refs = tag_refs(a, a.tags)?;
    let t0 = Instant::now();
    let results = c.get_digests(&refs);
    let wall = t0.elapsed().as_secs_f64();
    let digests: Vec<dockreg::Digest> = results
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let distinct = check_digests(digests.iter().map(|d| d.as_str()), a.tags, a.tags)?;
    let mut fields = resolve_fields(a, a.tags, distinct);
    fields.insert(
        "note".into(),
        json!("one Client::get_digests call over all tags"),
    );
    Ok(Sample {
        ops: refs.len(),
        wall,
        lat: Vec::new(),
        fields,
    })
}

pub fn raw_resolve_many(agent: &ureq::Agent, a: &Args) -> Result<Sample, String> {
    let b = base(&a.registry);
    let tags: Vec<String> = (0..a.tags).map(|i| tag_name(i, a.tags)).collect();
    let t0 = Instant::now();
    let results = raw::parallel(&tags, a.jobs(), |t| {
        raw::head_digest(agent, &b, "bench/app", t)
    });
    let wall = t0.elapsed().as_secs_f64();
    let digests: Vec<String> = results.into_iter().collect::<Result<_, _>>()?;
    let distinct = check_digests(digests.iter().map(String::as_str), a.tags, a.tags)?;
    Ok(Sample {
        ops: tags.len(),
        wall,
        lat: Vec::new(),
        fields: resolve_fields(a, a.tags, distinct),
    })
}

/// `--iters` listings of `bench/inst`'s instances.
pub fn instances(c: &Client, agent: &ureq::Agent, a: &Args, floor: bool) -> Result<Sample, String> {
    let repo = image(&a.registry, "bench/inst")?;
    let b = base(&a.registry);
    let mut lat = Vec::new();
    let mut seen = Vec::new();
    let t0 = Instant::now();
    for _ in 0..a.iters() {
        let t = Instant::now();
        seen.push(if floor {
            raw::instances(agent, &b, "bench/inst", a.jobs())?
        } else {
            let m = c.list_instances(&repo).map_err(|e| e.to_string())?;
            (m.len(), m.values().map(|i| i.tags.len()).sum())
        });
        lat.push(ms_since(t));
    }
    let wall = t0.elapsed().as_secs_f64();
    let (images, tags) = seen[0];
    if images != 4 || seen.iter().any(|s| *s != seen[0]) {
        return Err(format!("expected 4 instances every time, saw {seen:?}"));
    }
    let mut f = Fields::new();
    f.insert(
        "params".into(),
        json!({"iters": a.iters(), "repo": "bench/inst", "tags": tags}),
    );
    f.insert("instances".into(), json!(images));
    Ok(Sample {
        ops: a.iters(),
        wall,
        lat,
        fields: f,
    })
}

/// `bench/layered:v1` copied to a fresh repository of `--registry2`, `--iters` times.
pub fn copy(c: &Client, agent: &ureq::Agent, a: &Args, floor: bool) -> Result<Sample, String> {
    let src = image(&a.registry, "bench/layered:v1")?;
    // Sizes, for the bytes moved (not timed).
    let m = match c
        .get_raw_manifest(&src)
        .and_then(|r| r.parse())
        .map_err(|e| e.to_string())?
    {
        Manifest::Image(m) => m,
        Manifest::Index(_) => return Err("bench/layered:v1 is an index".into()),
    };
    let bytes: u64 = m.config.size + m.layers.iter().map(|l| l.size).sum::<u64>();
    let want = c.get_digest(&src).map_err(|e| e.to_string())?;
    let run = format!(
        "copy/{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    );
    let mut lat = Vec::new();
    let t0 = Instant::now();
    for i in 0..a.iters() {
        let dst_repo = format!("{run}-{i}");
        let t = Instant::now();
        let got = if floor {
            raw::copy_image(
                agent,
                (&base(&a.registry), "bench/layered", "v1"),
                (&base(&a.registry2), &dst_repo),
                a.jobs(),
            )?
        } else {
            let dst = image(&a.registry2, &format!("{dst_repo}:v1"))?;
            c.copy_image(&src, &dst, dockreg::CopyOptions::new())
                .map_err(|e| e.to_string())?
                .to_string()
        };
        lat.push(ms_since(t));
        if got != want.as_str() {
            return Err(format!("copied {got}, source is {want}"));
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    // Check: every blob is at each destination.
    for i in 0..a.iters() {
        let dst = image(&a.registry2, &format!("{run}-{i}"))?;
        for l in std::iter::once(&m.config).chain(&m.layers) {
            match c.head_blob(&dst, &l.digest) {
                Ok(Some(n)) if n == l.size => {}
                other => return Err(format!("{dst} {}: {other:?}", l.digest)),
            }
        }
    }
    let mut f = Fields::new();
    f.insert(
        "params".into(),
        json!({"iters": a.iters(), "repo": "bench/layered", "layers": m.layers.len(),
               "to": "a fresh repository on --registry2 per op"}),
    );
    f.insert("bytes".into(), json!(bytes * a.iters() as u64));
    f.insert("digest".into(), json!(want));
    Ok(Sample {
        ops: a.iters(),
        wall,
        lat,
        fields: f,
    })
}

/// N new processes each resolving one digest.
pub fn cold(a: &Args, floor: bool) -> Result<Sample, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let target = format!("{}/bench/app:tag-0001", a.registry);
    let url = format!("{}/v2/bench/app/manifests/tag-0001", base(&a.registry));
    let command = |timed_rss: bool| {
        let mut cmd = if timed_rss {
            let mut c = Command::new("/usr/bin/time");
            c.args(["-f", "%M"]);
            c
        } else if floor {
            Command::new(&exe)
        } else {
            Command::new(&a.cli)
        };
        if timed_rss {
            cmd.arg(if floor {
                exe.as_os_str()
            } else {
                std::ffi::OsStr::new(&a.cli)
            });
        }
        if floor {
            cmd.args(["--raw-head", &url]);
        } else {
            cmd.args(["digest", &target]);
        }
        cmd.stdin(Stdio::null());
        cmd
    };
    let mut lat = Vec::new();
    let t0 = Instant::now();
    for _ in 0..a.n() {
        let t = Instant::now();
        let out = command(false).output().map_err(|e| e.to_string())?;
        lat.push(ms_since(t));
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || !text.contains("sha256:") {
            return Err(format!(
                "{:?}: {text} {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    // One more run, untimed, under time(1) for the child's peak RSS.
    let out = command(true).output().map_err(|e| e.to_string())?;
    let rss: u64 = String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    let mut f = Fields::new();
    f.insert(
        "params".into(),
        json!({"n": a.n(), "image": "bench/app:tag-0001",
               "cmd": if floor { "bench --raw-head URL (one ureq HEAD)" } else { "dockreg digest IMAGE (the CLI example)" }}),
    );
    f.insert("rss_peak_kb".into(), json!(rss));
    f.insert(
        "note".into(),
        json!("per op: a new process, start to exit; rss_peak_kb is the child's (time -f %M)"),
    );
    Ok(Sample {
        ops: a.n(),
        wall,
        lat,
        fields: f,
    })
}

/// The `cold` floor's child: one raw HEAD, the digest on stdout.
pub fn raw_head_process(args: &[String]) -> ExitCode {
    let Some(url) = args.first() else {
        return ExitCode::from(2);
    };
    let agent = raw::agent(1);
    match agent.head(url).header("Accept", raw::ACCEPT).call() {
        Ok(r) if r.status().as_u16() == 200 => {
            let d = r
                .headers()
                .get("docker-content-digest")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            println!("{}", json!({"digest": d}));
            ExitCode::SUCCESS
        }
        other => {
            eprintln!("{other:?}");
            ExitCode::from(1)
        }
    }
}

/// `resolve` through the C ABI: the C program times its loop and reports.
pub fn c_resolve(a: &Args) -> Result<Sample, String> {
    if a.c_resolve.is_empty() {
        return Err("c-resolve needs --c-resolve PATH (scripts/bench.sh builds it)".into());
    }
    let mut cmd = Command::new(&a.c_resolve);
    cmd.args([&a.registry, &a.n().to_string(), &a.tags.to_string()]);
    if let Some(j) = a.jobs {
        cmd.arg(json!({"max_concurrency": j}).to_string());
    }
    let out = cmd.output().map_err(|e| format!("{}: {e}", a.c_resolve))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "{}: {:?}: {}",
            a.c_resolve,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let parts: Vec<&str> = text.split_whitespace().collect();
    let parse = |i: usize| -> Result<f64, String> {
        parts
            .get(i)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("unexpected output {text:?}"))
    };
    let (ops, wall, distinct, rss) = (parse(0)?, parse(1)?, parse(2)?, parse(3)?);
    if a.n() >= 4 && a.tags >= 4 && distinct as usize != 4 {
        return Err(format!("expected 4 distinct digests, got {distinct}"));
    }
    let mut f = resolve_fields(a, a.n(), distinct as usize);
    f.insert("rss_peak_kb".into(), json!(rss as u64));
    f.insert(
        "note".into(),
        json!("examples/c/bench_resolve.c: dockreg_client_get_digest in a loop; its own clock and VmHWM"),
    );
    Ok(Sample {
        ops: ops as usize,
        wall,
        lat: Vec::new(),
        fields: f,
    })
}
