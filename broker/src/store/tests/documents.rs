//! Documents (subscriptions, hosted @contexts, registrations): CRUD, listing in id order,
//! isolation per tenant and kind, JSON kept exactly; and claims, first caller only.

use std::sync::Arc;

use super::*;
use crate::store::DocumentKind;

pub async fn documents_are_stored_listed_and_deleted_per_tenant_and_kind(store: Arc<dyn Store>) {
    let (t, other) = (default_tenant(), tenant("other"));
    let sub = DocumentKind::Subscription;
    let ctx = DocumentKind::JsonLdContext;
    store
        .put_document(&t, sub, "urn:s:2", json!({"q": "speed>2"}))
        .await
        .expect("put");
    store
        .put_document(&t, sub, "urn:s:1", json!({"q": "speed>1"}))
        .await
        .expect("put");
    store
        .put_document(&t, ctx, "urn:c:1", json!({"@context": {}}))
        .await
        .expect("put");
    store
        .put_document(&other, sub, "urn:s:9", json!([1, 2]))
        .await
        .expect("put");

    assert_eq!(
        store.get_document(&t, sub, "urn:s:1").await.expect("get"),
        Some(json!({"q": "speed>1"}))
    );
    assert_eq!(
        store.get_document(&t, ctx, "urn:s:1").await.expect("get"),
        None
    );
    let listed = store.list_documents(&t, sub).await.expect("list");
    let listed_ids: Vec<_> = listed.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(listed_ids, ["urn:s:1", "urn:s:2"]);
    assert_eq!(
        store.list_documents(&other, sub).await.expect("list"),
        [("urn:s:9".to_owned(), json!([1, 2]))]
    );
    assert!(store
        .list_documents(&t, DocumentKind::Registration)
        .await
        .expect("list")
        .is_empty());

    // Replacing keeps one document under the id.
    store
        .put_document(&t, sub, "urn:s:1", json!({"q": "speed>10"}))
        .await
        .expect("put");
    assert_eq!(store.list_documents(&t, sub).await.expect("list").len(), 2);
    assert!(store
        .delete_document(&t, sub, "urn:s:1")
        .await
        .expect("delete"));
    assert!(!store
        .delete_document(&t, sub, "urn:s:1")
        .await
        .expect("delete again"));
    assert_eq!(
        store.get_document(&t, sub, "urn:s:1").await.expect("get"),
        None
    );
    assert!(store.tenant_exists(&other).await.expect("exists"));
}

pub async fn documents_keep_their_json_exactly(store: Arc<dyn Store>) {
    let city = tenant("city");
    let sub = DocumentKind::Subscription;
    // Member order, dotted and `$` keys, big and fractional numbers survive as they are.
    let doc = json!({
        "id": "urn:s:1",
        "q": "a.b==1",
        "notification": {"endpoint": {"uri": "http://x"}},
        "a.b": {"$c": 18446744073709551615_u64, "d": 0.1},
        "aa": null
    });
    store
        .put_document(&city, sub, "urn:s:1", doc.clone())
        .await
        .expect("put");
    assert_eq!(
        store
            .get_document(&city, sub, "urn:s:1")
            .await
            .expect("get"),
        Some(doc.clone())
    );
    let listed = store.list_documents(&city, sub).await.expect("list");
    assert_eq!(listed, vec![("urn:s:1".to_owned(), doc.clone())]);
    assert_eq!(
        serde_json::to_string(&listed[0].1).expect("json"),
        serde_json::to_string(&doc).expect("json"),
        "member order"
    );
}

pub async fn a_key_is_claimed_by_the_first_caller_only(store: Arc<dyn Store>) {
    let (t, city) = (default_tenant(), tenant("city"));
    assert!(store.claim(&t, "periodic urn:s:1 7").await.expect("claim"));
    assert!(!store.claim(&t, "periodic urn:s:1 7").await.expect("claim"));
    assert!(store.claim(&t, "periodic urn:s:1 8").await.expect("claim"));
    assert!(store
        .claim(&city, "periodic urn:s:1 7")
        .await
        .expect("claim"));
    // Of callers racing for one key, exactly one wins.
    let racers = (0..8).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.claim(&default_tenant(), "race").await })
    });
    let mut won = 0;
    for racer in racers {
        if racer.await.expect("task").expect("claim") {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}
