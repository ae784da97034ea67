//! Oxion's `--auth jwt`: tokens signed here with keys made here (ES256 with rcgen, RS256 with
//! the openssl command), their public halves in a JWKS file or served at a URL. A token must be
//! valid (signature, issuer, audience, expiry) and grant the right the request needs in its
//! tenant; `/health` and `/version` stay open.

use std::path::Path;
use std::process::Command;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::{entity_fixture, fixture, unique, urn, BrokerProcess, Client, ContextServer};

const ISSUER: &str = "https://idp.example.org/realms/city";
const AUDIENCE: &str = "oxion";

/// A signing key with its JWK.
struct Key {
    kid: String,
    alg: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
}

fn ec_key(kid: &str) -> Key {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("a P-256 key");
    let point = pair.public_key_raw();
    assert_eq!(point.len(), 65, "an uncompressed P-256 point");
    Key {
        kid: kid.to_owned(),
        alg: Algorithm::ES256,
        encoding: EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).expect("PEM"),
        jwk: json!({"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..])}),
    }
}

fn rsa_key(dir: &Path, kid: &str) -> Key {
    let pem = dir.join(format!("{kid}.pem"));
    let made = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&pem)
        .output()
        .expect("running openssl");
    assert!(made.status.success(), "openssl genpkey: {made:?}");
    let modulus = Command::new("openssl")
        .args(["rsa", "-noout", "-modulus", "-in"])
        .arg(&pem)
        .output()
        .expect("running openssl");
    let text = String::from_utf8_lossy(&modulus.stdout);
    let hex = text.trim().trim_start_matches("Modulus=");
    let n: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect();
    let pem_text = std::fs::read(&pem).expect("the key");
    Key {
        kid: kid.to_owned(),
        alg: Algorithm::RS256,
        encoding: EncodingKey::from_rsa_pem(&pem_text).expect("PEM"),
        jwk: json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
            "n": URL_SAFE_NO_PAD.encode(&n), "e": "AQAB"}),
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A token of `key` with standard claims, `extra` merged over them.
fn token(key: &Key, extra: Value) -> String {
    let mut claims = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "tester", "exp": now() + 600,
        "iat": now()});
    if let (Some(map), Value::Object(more)) = (claims.as_object_mut(), extra) {
        map.extend(more);
    }
    let mut header = Header::new(key.alg);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, &claims, &key.encoding).expect("signing")
}

fn roles(list: &[&str]) -> Value {
    json!({"realm_access": {"roles": list}})
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn get(client: &Client, path: &str, token: Option<&str>) -> crate::Reply {
    match token {
        Some(t) => {
            client
                .get_with(path, &[("Authorization", &bearer(t))])
                .await
        }
        None => client.get(path).await,
    }
}

async fn create(client: &Client, token: &str) -> crate::Reply {
    let body = entity_fixture("vehicle.json", &urn("Vehicle"));
    client
        .json_with(
            reqwest::Method::POST,
            "/ngsi-ld/v1/entities",
            &body,
            &[("Authorization", &bearer(token))],
        )
        .await
}

fn start(jwks: &str, extra: &[&str]) -> Result<BrokerProcess, String> {
    let mut args = vec![
        "--auth",
        "jwt",
        "--jwt-jwks",
        jwks,
        "--jwt-issuer",
        ISSUER,
        "--jwt-audience",
        AUDIENCE,
        "--jwt-rights-claim",
        "realm_access.roles",
    ];
    args.extend_from_slice(extra);
    BrokerProcess::start(&args)
}

/// Valid tokens of either algorithm are accepted with the rights they grant per tenant;
/// missing, forged, expired, foreign or unsigned ones are 401, too few rights 403.
pub(crate) async fn jwt_tokens_are_verified_and_grant_rights_per_tenant() {
    let dir = tempfile::tempdir().expect("a directory");
    let (ec, rsa) = (ec_key("ec-1"), rsa_key(dir.path(), "rsa-1"));
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, json!({"keys": [ec.jwk, rsa.jwk]}).to_string()).expect("JWKS");
    let mut broker = start(&jwks.to_string_lossy(), &[]).expect("a broker");
    let anyone = Client::new(&broker.base_url);
    let city = unique("city");
    let in_city = anyone.with_tenant(&city);

    anyone.get("/health").await.assert_status(200);
    anyone.get("/version").await.assert_status(200);
    let refused = anyone.get("/ngsi-ld/v1/entities?type=Vehicle").await;
    refused.assert_error(401, "InvalidRequest");
    assert!(refused
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with("Bearer")));

    let writer = token(
        &ec,
        roles(&[&format!("{city}:write"), "@default:read", "offline_access"]),
    );
    create(&in_city, &writer).await.assert_status(201);
    get(&in_city, "/ngsi-ld/v1/entities?type=Vehicle", Some(&writer))
        .await
        .assert_status(200);
    get(&anyone, "/ngsi-ld/v1/entities?type=Vehicle", Some(&writer))
        .await
        .assert_status(200);
    create(&anyone, &writer)
        .await
        .assert_error(403, "InvalidRequest");
    // Hosting an @context is admin's.
    anyone
        .json_with(
            reqwest::Method::POST,
            "/ngsi-ld/v1/jsonldContexts",
            &fixture("user-context.json"),
            &[
                ("Authorization", &bearer(&writer)),
                ("NGSILD-Tenant", &city),
            ],
        )
        .await
        .assert_error(403, "InvalidRequest");

    // An ImplicitlyCreated @context is served without a token (a notification's receiver has
    // none); its details and the listing are not.
    let mut inline = entity_fixture("vehicle.json", &urn("Vehicle"));
    inline["@context"] = json!({"Vehicle": format!("https://example.org/{}/Vehicle", unique("v"))});
    in_city
        .json_with(
            reqwest::Method::POST,
            "/ngsi-ld/v1/entities",
            &inline,
            &[
                ("Authorization", &bearer(&writer)),
                ("Content-Type", "application/ld+json"),
            ],
        )
        .await
        .assert_status(201);
    let listed = get(
        &in_city,
        "/ngsi-ld/v1/jsonldContexts?kind=ImplicitlyCreated",
        Some(&writer),
    )
    .await
    .json;
    let url = listed[0].as_str().unwrap_or_default();
    let path = &url[url.find("/ngsi-ld/").unwrap_or(0)..];
    assert_eq!(anyone.get(path).await.json["@context"], inline["@context"]);
    anyone
        .get(&format!("{path}?details=true"))
        .await
        .assert_error(401, "InvalidRequest");
    anyone
        .get("/ngsi-ld/v1/jsonldContexts")
        .await
        .assert_error(401, "InvalidRequest");

    let reader = token(&rsa, roles(&["*:read"]));
    get(&in_city, "/ngsi-ld/v1/entities?type=Vehicle", Some(&reader))
        .await
        .assert_status(200);
    create(&in_city, &reader)
        .await
        .assert_error(403, "InvalidRequest");
    let admin = token(&rsa, roles(&[&format!("{city}:admin")]));
    anyone
        .json_with(
            reqwest::Method::POST,
            "/ngsi-ld/v1/jsonldContexts",
            &fixture("user-context.json"),
            &[("Authorization", &bearer(&admin)), ("NGSILD-Tenant", &city)],
        )
        .await
        .assert_status(201);

    let forged = {
        let other = ec_key("ec-1");
        token(&other, roles(&["*:admin"]))
    };
    let expired = token(
        &ec,
        json!({"exp": now() - 3600, "realm_access": {"roles": ["*:read"]}}),
    );
    let early = token(
        &ec,
        json!({"nbf": now() + 3600, "realm_access": {"roles": ["*:read"]}}),
    );
    let foreign_issuer = token(
        &ec,
        json!({"iss": "https://other.example.org", "realm_access": {"roles": ["*:read"]}}),
    );
    let foreign_audience = token(
        &ec,
        json!({"aud": "another-service", "realm_access": {"roles": ["*:read"]}}),
    );
    let unsigned = {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let claims = URL_SAFE_NO_PAD.encode(
            json!({"iss": ISSUER, "aud": AUDIENCE, "exp": now() + 600,
                "realm_access": {"roles": ["*:admin"]}})
            .to_string(),
        );
        format!("{header}.{claims}.")
    };
    for (what, bad) in [
        ("forged", forged),
        ("expired", expired),
        ("not yet valid", early),
        ("another issuer", foreign_issuer),
        ("another audience", foreign_audience),
        ("unsigned", unsigned),
        ("garbage", "not.a.token".to_owned()),
    ] {
        let reply = get(&anyone, "/ngsi-ld/v1/entities?type=Vehicle", Some(&bad)).await;
        assert_eq!(reply.status, 401, "{what}: {}", reply.text);
        assert_eq!(
            reply.json["type"], "https://uri.etsi.org/ngsi-ld/errors/InvalidRequest",
            "{what}"
        );
    }
    broker.kill_hard();
}

/// The JWKS may be a URL, fetched under the egress policy: a broker whose policy denies it
/// does not start.
pub(crate) async fn a_jwks_url_is_fetched_under_the_egress_policy() {
    let key = ec_key("ec-url");
    let server = ContextServer::serve(json!({"keys": [key.jwk]}));
    let url = server.url("jwks.json");
    let mut broker = start(&url, &[]).expect("a broker");
    let client = Client::new(&broker.base_url);
    let reader = token(&key, roles(&["*:read"]));
    get(&client, "/ngsi-ld/v1/entities?type=Vehicle", Some(&reader))
        .await
        .assert_status(200);
    broker.kill_hard();
    let Err(refused) = start(&url, &["--egress-deny", "127.0.0.0/8"]) else {
        panic!("a broker started with a JWKS its egress policy denies");
    };
    assert!(refused.contains("egress policy"), "{refused}");
}
