//! Running one multi-document transaction: its operations, then the commit.
//!
//! Retried as the driver's own `and_run` retries (a transient transaction error, such as a
//! write conflict with a concurrent transaction, runs the whole transaction again after a
//! backoff; an unknown commit result retries the commit), with two differences. An error that
//! says MongoDB cannot be reached is returned at once: inside a transaction the driver labels
//! those transient too, and retrying them for `and_run`'s two minutes would hold a request that
//! must fail with 503 after the server selection timeout. And the retries stop after
//! [`RETRY_TIME`].

use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use mongodb::error::{
    Error, Result, TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT,
};
use mongodb::{Client, ClientSession};

use super::error::is_unreachable;

/// How long a transaction that keeps conflicting is retried before its error is returned.
pub const RETRY_TIME: Duration = Duration::from_secs(10);

/// Runs `body` in a transaction and commits it. `body` may run more than once: it gets the
/// session and `context` (which holds what it borrows) each time.
pub async fn run<R, C, F>(client: &Client, mut context: C, mut body: F) -> Result<R>
where
    F: for<'b> FnMut(&'b mut ClientSession, &'b mut C) -> BoxFuture<'b, Result<R>>,
{
    let started = Instant::now();
    let retry = |e: &Error| {
        e.contains_label(TRANSIENT_TRANSACTION_ERROR)
            && !is_unreachable(e)
            && started.elapsed() < RETRY_TIME
    };
    let mut session = client.start_session().await?;
    let mut attempt = 0u32;
    'transaction: loop {
        if attempt > 0 {
            // 5 ms doubling up to half a second, with jitter so that the losers spread out
            // (the random bits of a v4 UUID: no crate of its own for one number).
            let ceiling = 5u64.saturating_mul(1 << attempt.min(7)).min(500);
            let jitter = uuid::Uuid::new_v4().as_u64_pair().0 % (ceiling + 1);
            tokio::time::sleep(Duration::from_millis(jitter)).await;
        }
        attempt += 1;
        session.start_transaction().await?;
        let value = match body(&mut session, &mut context).await {
            Ok(value) => value,
            Err(e) => {
                // The server may have aborted it already; what matters is the first error.
                let _ = session.abort_transaction().await;
                if retry(&e) {
                    continue 'transaction;
                }
                return Err(e);
            }
        };
        loop {
            match session.commit_transaction().await {
                Ok(()) => return Ok(value),
                Err(e)
                    if e.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT)
                        && !is_unreachable(&e)
                        && started.elapsed() < RETRY_TIME => {}
                Err(e) if retry(&e) => continue 'transaction,
                Err(e) => return Err(e),
            }
        }
    }
}
