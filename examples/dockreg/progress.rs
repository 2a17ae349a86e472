//! Progress bars on stderr for transfers and copies: only when stderr is a terminal and no
//! log is asked for (`-v` lines would tear the bars), so pipes and logs never see them.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Makes bars, or hidden ones that cost nothing.
#[derive(Debug, Clone, Copy)]
pub struct Bars {
    shown: bool,
}

impl Bars {
    pub fn new(verbose: u8) -> Self {
        Bars {
            shown: verbose == 0 && std::io::stderr().is_terminal(),
        }
    }

    /// A byte bar for one blob; its length is set from the first callback when unknown.
    pub fn bytes(&self, label: &str, total: Option<u64>) -> ProgressBar {
        let bar = self.bar(total.unwrap_or(0));
        bar.set_style(
            ProgressStyle::with_template(
                "{msg:19!} [{bar:20}] {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(label.to_string());
        bar
    }

    /// A spinner for work whose size is not known ahead (a copy made by the library).
    pub fn spinner(&self, label: &str) -> ProgressBar {
        let bar = self.bar(0);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }

    fn bar(&self, len: u64) -> ProgressBar {
        let target = if self.shown {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        ProgressBar::with_draw_target(Some(len), target)
    }
}

/// A library progress callback that moves `bar` (and never cancels).
pub fn callback(bar: &ProgressBar) -> impl FnMut(u64, Option<u64>) -> bool + '_ {
    move |done, total| {
        if let Some(t) = total {
            if bar.length() != Some(t) {
                bar.set_length(t);
            }
        }
        bar.set_position(done);
        true
    }
}
