//! PLACEHOLDER (type-check only; replaced by the embedded backend branch).
#![allow(dead_code, unused_variables)]
use std::path::PathBuf;
#[derive(Debug, Clone, Copy)]
pub enum Durability {
    Immediate,
    Eventual,
}
#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    pub path: PathBuf,
    pub durability: Durability,
}
impl EmbeddedConfig {
    pub fn new(path: PathBuf, durability: Durability) -> Self {
        Self { path, durability }
    }
}
#[derive(Debug)]
pub struct EmbeddedStore;
impl EmbeddedStore {
    pub fn open(c: EmbeddedConfig) -> Result<Self, super::StoreError> {
        Err(super::StoreError::Unavailable("placeholder".into()))
    }
}
#[async_trait::async_trait]
impl super::Store for EmbeddedStore {
    async fn get(
        &self,
        tenant: &super::Tenant,
        id: &str,
    ) -> super::StoreResult<Option<super::Versioned>> {
        todo!()
    }
    async fn commit(
        &self,
        tenant: &super::Tenant,
        writes: Vec<super::Write>,
    ) -> super::StoreResult<Vec<super::WriteOutcome>> {
        todo!()
    }
    async fn query(
        &self,
        tenant: &super::Tenant,
        query: &super::EntityQuery,
    ) -> super::StoreResult<super::QueryPage> {
        todo!()
    }
    async fn types(&self, tenant: &super::Tenant) -> super::StoreResult<Vec<super::TypeSummary>> {
        todo!()
    }
    async fn attributes(
        &self,
        tenant: &super::Tenant,
    ) -> super::StoreResult<Vec<super::AttributeSummary>> {
        todo!()
    }
    async fn tenant_exists(&self, tenant: &super::Tenant) -> super::StoreResult<bool> {
        todo!()
    }
    async fn expired(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> super::StoreResult<Vec<(super::Tenant, String)>> {
        todo!()
    }
    async fn put_document(
        &self,
        tenant: &super::Tenant,
        kind: super::DocumentKind,
        id: &str,
        doc: serde_json::Value,
    ) -> super::StoreResult<()> {
        todo!()
    }
    async fn get_document(
        &self,
        tenant: &super::Tenant,
        kind: super::DocumentKind,
        id: &str,
    ) -> super::StoreResult<Option<serde_json::Value>> {
        todo!()
    }
    async fn delete_document(
        &self,
        tenant: &super::Tenant,
        kind: super::DocumentKind,
        id: &str,
    ) -> super::StoreResult<bool> {
        todo!()
    }
    async fn list_documents(
        &self,
        tenant: &super::Tenant,
        kind: super::DocumentKind,
    ) -> super::StoreResult<Vec<(String, serde_json::Value)>> {
        todo!()
    }
    async fn tenants(&self) -> super::StoreResult<Vec<super::Tenant>> {
        todo!()
    }
    async fn close(&self) -> super::StoreResult<()> {
        todo!()
    }
}
