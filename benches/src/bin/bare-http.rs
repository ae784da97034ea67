//! `bare-http`: an actix-web server that answers the load tool's requests without doing any
//! work, the floor against which Oxion's figures are read.
//!
//! Every figure of a load run includes the HTTP framework, the loopback and the load tool
//! itself; on another machine all three cost something else. Running `oxion-load` against this
//! server in the same session as against `oxion` gives the ceiling of that machine, so a
//! reader compares ratios, not absolute numbers. It answers the scenarios `create`,
//! `get-by-id`, `patch` and `query` (and the preload) with the statuses the tool expects and a
//! fixed body the size of a stored entity; it stores nothing.
//!
//! ```sh
//! bare-http --port 1027 &
//! oxion-load --url http://127.0.0.1:1027 --label bare-http --compare http://127.0.0.1:1026 --compare-label oxion \
//!      --scenarios create,get,patch,query
//! ```

use actix_web::{web, App, HttpResponse, HttpServer};
use clap::Parser;

#[derive(Parser)]
#[command(about = "A do-nothing actix-web server: the HTTP floor of a load run")]
struct Args {
    #[arg(long, default_value = "127.0.0.1", env = "BARE_HTTP_HOST")]
    host: String,
    #[arg(long, default_value_t = 1027, env = "BARE_HTTP_PORT")]
    port: u16,
    /// Worker threads (default: one per core, as oxion).
    #[arg(long, env = "BARE_HTTP_WORKERS")]
    workers: Option<usize>,
}

/// An entity of the load tool's workload as Oxion renders it (about 1 KB).
const ENTITY: &str = r#"{"id":"urn:ngsi-ld:OffStreetParking:bare","type":"OffStreetParking","name":{"type":"Property","value":"Parking bare"},"totalSpotNumber":{"type":"Property","value":220},"availableSpotNumber":{"type":"Property","value":121,"observedAt":"2026-01-01T00:00:00Z"},"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[-8.6,41.15]}},"category":{"type":"Property","value":["public","underground"]},"@context":"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"}"#;

// The body is read, as a broker reads it: an unread body makes actix drain it after the
// response, which is slower than reading it.
async fn created(path: web::Path<String>, _body: web::Bytes) -> HttpResponse {
    HttpResponse::Created()
        .insert_header(("Location", format!("/ngsi-ld/v1/{path}")))
        .finish()
}

async fn entity() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/ld+json")
        .body(ENTITY)
}

async fn entities() -> HttpResponse {
    let page = format!("[{}]", [ENTITY; 20].join(","));
    HttpResponse::Ok()
        .content_type("application/ld+json")
        .body(page)
}

async fn no_content(_body: web::Bytes) -> HttpResponse {
    HttpResponse::NoContent().finish()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let server = HttpServer::new(|| {
        App::new()
            .route("/ngsi-ld/v1/entities", web::get().to(entities))
            .route("/ngsi-ld/v1/{path:.*}", web::post().to(created))
            .route("/ngsi-ld/v1/entities/{id}", web::get().to(entity))
            .route(
                "/ngsi-ld/v1/entities/{id}/attrs",
                web::patch().to(no_content),
            )
    });
    let server = match args.workers {
        Some(n) => server.workers(n),
        None => server,
    };
    server.bind((args.host.as_str(), args.port))?.run().await
}
