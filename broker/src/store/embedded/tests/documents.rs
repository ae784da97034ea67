//! Documents (subscriptions, hosted @contexts, registrations): CRUD, listing, isolation.

use super::*;
use crate::store::DocumentKind;

#[tokio::test]
async fn documents_are_stored_listed_and_deleted_per_tenant_and_kind() {
    let (_dir, store) = temp_store();
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
