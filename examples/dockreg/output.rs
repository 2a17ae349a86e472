//! Everything written to stdout: JSON documents in the chosen layout, or exact bytes.

use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::args::Format;
use crate::exit::Outcome;

/// Writes results to stdout, one JSON document per call.
pub struct Output {
    pretty: bool,
    out: std::io::StdoutLock<'static>,
}

impl Output {
    /// Indented when asked for, or by default when stdout is a terminal (a person reads it);
    /// compact, one document per line, when it is piped (a program reads it).
    pub fn new(format: Option<Format>) -> Self {
        let out = std::io::stdout().lock();
        let pretty = match format {
            Some(Format::Pretty) => true,
            Some(Format::Json) => false,
            None => out.is_terminal(),
        };
        Output { pretty, out }
    }

    /// One document from a value.
    pub fn json(&mut self, value: &impl Serialize) -> Outcome {
        if self.pretty {
            serde_json::to_writer_pretty(&mut self.out, value)?;
        } else {
            serde_json::to_writer(&mut self.out, value)?;
        }
        self.end()
    }

    /// One document from JSON text as served (a manifest, a config), laid out again without
    /// parsing it into a map: key order and number spelling stay as the registry wrote them.
    pub fn json_text(&mut self, text: &[u8]) -> Outcome {
        serde_json::from_slice::<serde::de::IgnoredAny>(text)?;
        self.out.write_all(&relayout(text, self.pretty))?;
        self.end()
    }

    /// Bytes exactly as given, nothing added.
    pub fn raw(&mut self, bytes: &[u8]) -> Outcome {
        self.out.write_all(bytes)?;
        self.out.flush()?;
        Ok(())
    }

    fn end(&mut self) -> Outcome {
        self.out.write_all(b"\n")?;
        self.out.flush()?;
        Ok(())
    }
}

/// Valid JSON text without its whitespace (`pretty == false`), or indented by two spaces per
/// level with `": "` after keys, as serde_json's pretty printer writes it. Strings are copied
/// byte for byte.
fn relayout(text: &[u8], pretty: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    // After `{` or `[`: the line break is written with the first element, so `{}` and `[]`
    // stay on one line.
    let mut opened = false;
    let newline = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        out.extend(std::iter::repeat_n(b' ', depth * 2));
    };
    for &b in text {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        if b.is_ascii_whitespace() {
            continue;
        }
        if !pretty {
            in_string = b == b'"';
            out.push(b);
            continue;
        }
        match b {
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if !opened {
                    newline(&mut out, depth);
                }
                opened = false;
                out.push(b);
            }
            _ => {
                if opened {
                    newline(&mut out, depth);
                    opened = false;
                }
                match b {
                    b'{' | b'[' => {
                        out.push(b);
                        depth += 1;
                        opened = true;
                    }
                    b',' => {
                        out.push(b);
                        newline(&mut out, depth);
                    }
                    b':' => out.extend_from_slice(b": "),
                    b'"' => {
                        in_string = true;
                        out.push(b);
                    }
                    _ => out.push(b),
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::relayout;

    #[test]
    fn compact_and_pretty_keep_order_and_strings() {
        let text = br#" { "z" : [1, 2.50, {}], "a": "x , : \" {y}" , "e": [] } "#;
        assert_eq!(
            relayout(text, false),
            br#"{"z":[1,2.50,{}],"a":"x , : \" {y}","e":[]}"#
        );
        let pretty = String::from_utf8(relayout(text, true)).unwrap();
        assert_eq!(
            pretty,
            "{\n  \"z\": [\n    1,\n    2.50,\n    {}\n  ],\n  \"a\": \"x , : \\\" {y}\",\n  \"e\": []\n}"
        );
    }
}
