//! Requests written byte for byte, for the cases that test what an HTTP client library will not
//! send (a chunked body without Content-Length, say). One request per connection.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends `request` (which should say `Connection: close`) to the server of `url` and returns
/// everything it answered, as text. Panics (fails the case) if the server cannot be reached or
/// does not answer within 20 s.
pub async fn exchange(url: &str, request: &[u8]) -> String {
    let url = reqwest::Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
    let address = format!(
        "{}:{}",
        url.host_str().unwrap_or("127.0.0.1"),
        url.port_or_known_default().unwrap_or(80)
    );
    let talk = async {
        let mut stream = TcpStream::connect(&address).await?;
        stream.write_all(request).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    let answer = tokio::time::timeout(Duration::from_secs(20), talk)
        .await
        .unwrap_or_else(|_| panic!("{address} did not answer within 20 s"))
        .unwrap_or_else(|e| panic!("{address}: {e}"));
    String::from_utf8_lossy(&answer).into_owned()
}
