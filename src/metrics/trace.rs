//! Sampled request traces in the Chrome trace-event format (opens in Perfetto or
//! chrome://tracing): one complete ("X") event per call, per attempt and per request, on one
//! track per sampled request. The first N requests that arrive after the warm-up are sampled,
//! so a trace is deterministic for a given model and seed.

use serde::Serialize;

/// Most requests one run may trace (`--trace`).
pub const MAX_TRACED: u32 = 10_000;
/// Most spans one run keeps (a request with many retries and branches has many).
pub const MAX_SPANS: usize = 1_000_000;

/// One span.
#[derive(Clone, Debug, Serialize)]
pub struct Span {
    pub name: String,
    /// Its outcome (`ok`, `timeout` …) as the event's category.
    pub cat: &'static str,
    pub ph: &'static str,
    /// Start and duration [µs].
    pub ts: f64,
    pub dur: f64,
    pub pid: u32,
    /// The sampled request it belongs to.
    pub tid: u32,
    pub args: SpanArgs,
}

/// Details shown when a span is selected.
#[derive(Clone, Debug, Serialize)]
pub struct SpanArgs {
    /// `request`, `call`, `attempt` or `branch`.
    pub kind: &'static str,
    /// Attempt number within its call (attempts only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u16>,
    /// Time waiting for a slot of the service [µs] (attempts only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_wait_us: Option<f64>,
}

/// The trace being gathered.
#[derive(Debug, Default)]
pub struct Trace {
    /// Requests still to sample.
    pub left: u32,
    /// Requests sampled so far (the next track id).
    pub next: u32,
    pub spans: Vec<Span>,
    /// Spans left out because the trace was full.
    pub dropped: u64,
}

/// The trace-event JSON document.
#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "traceEvents")]
    events: &'a [Span],
    #[serde(rename = "displayTimeUnit")]
    unit: &'static str,
}

impl Trace {
    /// A trace that samples `n` requests.
    pub fn new(n: u32) -> Trace {
        Trace { left: n.min(MAX_TRACED), next: 0, spans: Vec::new(), dropped: 0 }
    }

    /// Whether to sample the next request; returns its track id.
    #[inline]
    pub fn sample(&mut self) -> Option<u32> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        self.next += 1;
        Some(self.next)
    }

    /// Adds a span (dropped beyond [`MAX_SPANS`]).
    pub fn push(&mut self, span: Span) {
        if self.spans.len() < MAX_SPANS {
            self.spans.push(span);
        } else {
            self.dropped += 1;
        }
    }

    /// The JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&Document { events: &self.spans, unit: "ms" }).unwrap_or_default()
    }
}
