//! The journal of a running case: the HTTP exchanges it made, and where it panicked. The runner
//! opens one per case (a task-local, so cases running side by side keep theirs apart) and,
//! when the case fails, shows the last exchange: what was sent and what came back.

use std::fmt;
use std::sync::{Arc, Mutex};

use reqwest::Method;

use crate::Reply;

/// A request as it was sent.
#[derive(Debug, Clone)]
pub struct Sent {
    pub method: Method,
    pub url: String,
    /// The headers the case set (tenant, content type, Link, Accept, ...).
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

impl Sent {
    /// `METHOD url`.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.url)
    }
}

/// One request and what came back (or why nothing did).
#[derive(Debug, Clone)]
pub struct Exchange {
    pub request: Arc<Sent>,
    pub response: Result<Answer, String>,
}

/// A response, as far as a failure report needs it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Response headers that say nothing about the case.
const UNINTERESTING: [&str; 3] = ["date", "content-length", "connection"];

/// Bodies longer than this are cut in reports.
const BODY_LIMIT: usize = 4000;

impl Exchange {
    pub fn of(reply: &Reply) -> Self {
        let headers = reply
            .headers
            .iter()
            .filter(|(name, _)| !UNINTERESTING.contains(&name.as_str()))
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect();
        Self {
            request: reply.request.clone(),
            response: Ok(Answer {
                status: reply.status.to_string(),
                headers,
                body: reply.text.clone(),
            }),
        }
    }

    pub fn failed(request: Arc<Sent>, error: &str) -> Self {
        Self {
            request,
            response: Err(error.to_owned()),
        }
    }
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "request:  {}", self.request.line())?;
        for (name, value) in &self.request.headers {
            writeln!(f, "          {name}: {value}")?;
        }
        if let Some(body) = &self.request.body {
            writeln!(f, "          {}", cut(body))?;
        }
        match &self.response {
            Ok(answer) => {
                writeln!(f, "response: {}", answer.status)?;
                for (name, value) in &answer.headers {
                    writeln!(f, "          {name}: {value}")?;
                }
                if !answer.body.is_empty() {
                    writeln!(f, "          {}", cut(&answer.body))?;
                }
                Ok(())
            }
            Err(error) => writeln!(f, "response: none ({error})"),
        }
    }
}

fn cut(text: &str) -> String {
    if text.len() <= BODY_LIMIT {
        return text.to_owned();
    }
    let mut end = BODY_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &text[..end], text.len())
}

/// What one case recorded.
#[derive(Debug, Default)]
pub struct Journal {
    pub exchanges: usize,
    pub last: Option<Exchange>,
    /// `file:line:column` of the panic that failed the case.
    pub panic_location: Option<String>,
}

pub type SharedJournal = Arc<Mutex<Journal>>;

tokio::task_local! {
    static JOURNAL: SharedJournal;
}

/// Runs `future` with `journal` as the journal of the case it is.
pub async fn keep<F: std::future::Future>(journal: SharedJournal, future: F) -> F::Output {
    JOURNAL.scope(journal, future).await
}

/// Records an exchange in the running case's journal (nothing outside a case).
pub fn record(exchange: Exchange) {
    let _ = JOURNAL.try_with(|journal| {
        if let Ok(mut journal) = journal.lock() {
            journal.exchanges += 1;
            journal.last = Some(exchange);
        }
    });
}

/// Notes where the running case panicked; `false` outside a case. Called from the panic hook,
/// which runs on the panicking task's thread, inside its task-local scope.
pub fn record_panic(location: String) -> bool {
    JOURNAL
        .try_with(|journal| {
            // try_lock: a panic while the journal is locked must not deadlock its own hook.
            if let Ok(mut journal) = journal.try_lock() {
                journal.panic_location.get_or_insert(location);
            }
        })
        .is_ok()
}
