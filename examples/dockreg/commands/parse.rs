//! `parse IMAGE|-`: a reference's parts, with no request made.

use std::io::BufRead;

use dockreg::Reference;
use serde_json::{Value, json};

use crate::exit::{Failure, Outcome, USAGE};
use crate::output::Output;

/// `parse IMAGE` prints one document; `parse -` one per stdin line, errors included (as
/// `{"input", "error"}`), and exits with 2 at the end when any line did not parse.
pub fn parse(mut out: Output, arg: &str) -> Outcome {
    if arg != "-" {
        let r: Reference = arg
            .parse()
            .map_err(|e: dockreg::Error| Failure::Usage(e.to_string()))?;
        return out.json(&parsed(arg, &r));
    }
    let mut failed = 0usize;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let value = match line.parse::<Reference>() {
            Ok(r) => parsed(&line, &r),
            Err(e) => {
                failed += 1;
                json!({"input": line, "error": e.to_string()})
            }
        };
        out.json(&value)?;
    }
    if failed > 0 {
        eprintln!("dockreg: {failed} line(s) did not parse");
        return Err(Failure::Reported(USAGE));
    }
    Ok(())
}

fn parsed(input: &str, r: &Reference) -> Value {
    json!({
        "input": input,
        "registry": r.registry(),
        "repository": r.path(),
        "tag": r.tag(),
        "digest": r.digest(),
    })
}
