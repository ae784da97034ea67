//! Micro-benchmarks of the pure model (issue: ngsi-types):
//! - parse + validate + expand a ~1 KB normalized entity with a cached Smart-Data-Models-style
//!   @context (goal: well over 100,000 entities/s per core);
//! - render it back (normalized, compacted with the same context);
//! - evaluate a 5-clause `q` against it.
//!
//! Run: `cargo bench -p benches --bench ngsi_types`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ngsi_types::context::ActiveContext;
use ngsi_types::format::{parse_entity, render_entity, RenderOptions};
use ngsi_types::query::q::Query;
use serde_json::Value;

// The broker runs on mimalloc; measure the model with the same allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONTEXT: &str = include_str!("../fixtures/parking-context.jsonld");
const ENTITY: &str = include_str!("../fixtures/parking-entity.json");

fn load() -> (std::sync::Arc<ActiveContext>, Value) {
    let doc: Value = serde_json::from_str(CONTEXT).expect("fixture context is JSON");
    let ctx = ActiveContext::from_inline(&doc["@context"]).expect("fixture context is valid");
    let entity: Value = serde_json::from_str(ENTITY).expect("fixture entity is JSON");
    (ctx, entity)
}

fn parse(c: &mut Criterion) {
    let (ctx, _) = load();
    let mut group = c.benchmark_group("entity");
    group.throughput(Throughput::Elements(1));
    group.bench_function("json_bytes_to_value_1kb", |b| {
        b.iter(|| serde_json::from_str::<Value>(black_box(ENTITY)).expect("valid JSON"))
    });
    let json: Value = serde_json::from_str(ENTITY).expect("valid JSON");
    group.bench_function("parse_validate_expand_1kb_from_value", |b| {
        b.iter_batched(
            || json.clone(),
            |json| parse_entity(json, &ctx).expect("valid entity"),
            criterion::BatchSize::SmallInput,
        )
    });
    group.bench_function("parse_validate_expand_1kb_from_bytes", |b| {
        b.iter(|| {
            let json: Value = serde_json::from_str(black_box(ENTITY)).expect("valid JSON");
            parse_entity(json, &ctx).expect("valid entity")
        })
    });
    let (_, json) = load();
    let entity = parse_entity(json.clone(), &ctx).expect("valid entity");
    group.bench_function("render_normalized_1kb_to_bytes", |b| {
        b.iter(|| {
            let out = render_entity(black_box(&entity), &ctx, &RenderOptions::default());
            serde_json::to_vec(&out).expect("serializable")
        })
    });
    group.finish();
}

fn query(c: &mut Criterion) {
    let (ctx, json) = load();
    let entity = parse_entity(json.clone(), &ctx).expect("valid entity");
    let q = Query::parse(
        "availableSpotNumber>100;totalSpotNumber==200;name==\"Downtown One\";availableSpotNumber.observedAt>=2024-01-01T00:00:00Z;(maximumAllowedHeight<3|priceRatePerMinute<0.01)",
    )
    .expect("valid q")
    .expand(&ctx);
    assert!(q.matches(&entity), "the benchmark query matches its entity");
    let mut group = c.benchmark_group("q");
    group.throughput(Throughput::Elements(1));
    group.bench_function("evaluate_5_clauses", |b| {
        b.iter(|| q.matches(black_box(&entity)))
    });
    group.finish();
}

criterion_group!(benches, parse, query);
criterion_main!(benches);
