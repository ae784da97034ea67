//! Writing a CSourceRegistration in its API form (GS CIM 009 clause 5.2.9), entity types and
//! attribute names compacted with the reader's @context (clause 5.10.1.4, 5.5.7).

use serde_json::{json, Map, Value};

use super::REGISTRATION_TYPE;
use super::{operations, CSourceRegistration, EntityInfo, RegistrationInfo, TimeInterval};
use crate::context::ActiveContext;
use crate::datetime::format_datetime;
use crate::format::members::{compact_all, plain_number, put_opt, time_or_null};

impl CSourceRegistration {
    /// The API form. `mode` and `operations` are written with their defaults when the client
    /// gave none (clause 5.2.9: inclusive, `federationOps`); `sys_attrs` (`options=sysAttrs`,
    /// clause 4.8) adds createdAt and modifiedAt.
    pub fn render(&self, ctx: &ActiveContext, sys_attrs: bool) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), json!(self.id));
        out.insert("type".into(), json!(REGISTRATION_TYPE));
        put_opt(
            &mut out,
            "registrationName",
            self.registration_name.as_deref(),
        );
        put_opt(&mut out, "description", self.description.as_deref());
        out.insert(
            "information".into(),
            Value::Array(self.information.iter().map(|i| info(i, ctx)).collect()),
        );
        put_opt(&mut out, "tenant", self.tenant.as_deref());
        if let Some(i) = &self.observation_interval {
            out.insert("observationInterval".into(), interval(i));
        }
        if let Some(i) = &self.management_interval {
            out.insert("managementInterval".into(), interval(i));
        }
        for (member, geometry) in [
            ("location", &self.location),
            ("observationSpace", &self.observation_space),
            ("operationSpace", &self.operation_space),
        ] {
            if let Some(g) = geometry {
                out.insert(member.into(), g.clone());
            }
        }
        if let Some(t) = &self.expires_at {
            out.insert("expiresAt".into(), json!(format_datetime(t)));
        }
        out.insert("endpoint".into(), json!(self.endpoint));
        if !self.context_source_info.is_empty() {
            out.insert("contextSourceInfo".into(), json!(self.context_source_info));
        }
        match self.scope.as_slice() {
            [] => {}
            [one] => {
                out.insert("scope".into(), json!(one));
            }
            many => {
                out.insert("scope".into(), json!(many));
            }
        }
        out.insert("mode".into(), json!(self.mode().as_str()));
        let ops: Vec<&str> = match self.operations.as_slice() {
            [] => vec![operations::DEFAULT_GROUP],
            given => given.iter().map(String::as_str).collect(),
        };
        out.insert("operations".into(), json!(ops));
        put_opt(&mut out, "refreshRate", self.refresh_rate.as_deref());
        if let Some(m) = &self.management {
            let mut obj = serde_json::to_value(m).unwrap_or_else(|_| json!({}));
            for member in ["timeout", "cooldown"] {
                if let Some(n) = obj.get(member).and_then(Value::as_f64) {
                    obj[member] = plain_number(n);
                }
            }
            out.insert("management".into(), obj);
        }
        put_opt(
            &mut out,
            "contextSourceAlias",
            self.context_source_alias.as_deref(),
        );
        if !self.dataset_id.is_empty() {
            out.insert("datasetId".into(), json!(self.dataset_id));
        }
        for (name, value) in &self.properties {
            out.insert(ctx.compact_iri(name).into_owned(), value.clone());
        }
        if sys_attrs {
            out.insert("createdAt".into(), time_or_null(self.created_at));
            out.insert("modifiedAt".into(), time_or_null(self.modified_at));
        }
        out.retain(|_, v| !v.is_null());
        Value::Object(out)
    }
}

fn info(info: &RegistrationInfo, ctx: &ActiveContext) -> Value {
    let mut out = Map::new();
    if !info.entities.is_empty() {
        out.insert(
            "entities".into(),
            Value::Array(info.entities.iter().map(|e| entity(e, ctx)).collect()),
        );
    }
    if !info.property_names.is_empty() {
        out.insert(
            "propertyNames".into(),
            compact_all(&info.property_names, ctx),
        );
    }
    if !info.relationship_names.is_empty() {
        out.insert(
            "relationshipNames".into(),
            compact_all(&info.relationship_names, ctx),
        );
    }
    Value::Object(out)
}

fn entity(e: &EntityInfo, ctx: &ActiveContext) -> Value {
    let mut out = Map::new();
    if let Some(id) = &e.id {
        out.insert("id".into(), json!(id));
    }
    if let Some(p) = &e.id_pattern {
        out.insert("idPattern".into(), json!(p));
    }
    let types = match e.types.as_slice() {
        [one] => json!(ctx.compact_iri(one)),
        many => compact_all(many, ctx),
    };
    out.insert("type".into(), types);
    Value::Object(out)
}

fn interval(i: &TimeInterval) -> Value {
    let mut out = Map::new();
    out.insert("startAt".into(), json!(format_datetime(&i.start_at)));
    if let Some(end) = &i.end_at {
        out.insert("endAt".into(), json!(format_datetime(end)));
    }
    Value::Object(out)
}
