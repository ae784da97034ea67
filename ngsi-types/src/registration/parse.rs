//! Reading a CSourceRegistration from its API form (GS CIM 009 clause 5.2.9), for Register
//! (5.9.2) and Update (5.9.3).
//!
//! Each member has one reader that checks it and writes it into the model; register applies
//! every member to an empty registration, update applies the fragment's members to a copy of
//! the stored one (clause 5.5.8). Rules that tie members together are checked once at the
//! end, so register and update cannot disagree. Every error is BadRequestData (5.9.2.4) and
//! names the member.

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::members::{
    bad, is_null, non_empty_array, non_empty_string, object, one_or_many, positive, string,
};
use super::{
    operations, CSourceRegistration, EntityInfo, KeyValue, ManagementInfo, Mode, RegistrationInfo,
    TimeInterval, REGISTRATION_TYPE,
};
use crate::context::ActiveContext;
use crate::datetime::parse_datetime_member;
use crate::error::{NgsiError, Result};
use crate::geojson::Geometry;
use crate::ident::{check_name, check_uri};
use crate::json_member::names;
use crate::query::type_expr::IdPattern;
use crate::temporal::duration::IsoDuration;

impl CSourceRegistration {
    /// Reads a registration from its API JSON, names expanded with `ctx` (the request's
    /// @context). `id` is the identifier to use when the body has none; `now` decides whether
    /// `expiresAt` is in the past and stamps createdAt and modifiedAt.
    pub fn parse(
        body: &Value,
        ctx: &ActiveContext,
        id: String,
        now: DateTime<Utc>,
    ) -> Result<CSourceRegistration> {
        let obj = body.as_object().ok_or_else(|| {
            NgsiError::InvalidJson("a context source registration must be a JSON object".into())
        })?;
        // GS CIM 009 5.2.9: information and endpoint are mandatory.
        for member in ["information", "endpoint"] {
            if obj.get(member).is_none_or(Value::is_null) {
                return Err(bad(member, "is mandatory"));
            }
        }
        let mut reg = CSourceRegistration {
            id,
            registration_name: None,
            description: None,
            information: Vec::new(),
            tenant: None,
            observation_interval: None,
            management_interval: None,
            location: None,
            observation_space: None,
            operation_space: None,
            expires_at: None,
            endpoint: String::new(),
            context_source_info: Vec::new(),
            scope: Vec::new(),
            mode: None,
            operations: Vec::new(),
            refresh_rate: None,
            management: None,
            context_source_alias: None,
            dataset_id: Vec::new(),
            properties: IndexMap::new(),
            created_at: Some(now),
            modified_at: Some(now),
        };
        for (member, value) in obj {
            reg.apply(member, value, ctx)?;
        }
        reg.check(now)?;
        Ok(reg)
    }

    /// Update Context Source Registration (clause 5.9.3): the fragment's members replace the
    /// stored ones (clause 5.5.8), `null` removing an optional member, then the whole is
    /// checked again. The id cannot change.
    pub fn patch(
        &self,
        fragment: &Value,
        ctx: &ActiveContext,
        now: DateTime<Utc>,
    ) -> Result<CSourceRegistration> {
        let obj = fragment.as_object().ok_or_else(|| {
            NgsiError::InvalidJson(
                "a context source registration fragment must be a JSON object".into(),
            )
        })?;
        if let Some(id) = obj.get("id") {
            if id.as_str() != Some(self.id.as_str()) {
                return Err(bad("id", "the id of a registration cannot be changed"));
            }
        }
        let mut reg = self.clone();
        for (member, value) in obj {
            if member != "id" {
                reg.apply(member, value, ctx)?;
            }
        }
        reg.check(now)?;
        reg.modified_at = Some(now);
        Ok(reg)
    }

    /// Reads one top-level member into `self`.
    fn apply(&mut self, member: &str, value: &Value, ctx: &ActiveContext) -> Result<()> {
        let reset = is_null(value);
        match member {
            "id" => {
                let id = string(member, value)?;
                check_uri(member, id)?;
                self.id = id.to_owned();
            }
            "type" => {
                if value.as_str() != Some(REGISTRATION_TYPE) {
                    return Err(bad(
                        member,
                        format!("must be \"{REGISTRATION_TYPE}\", not {value}"),
                    ));
                }
            }
            "@context" => {}
            "information" | "endpoint" if reset => {
                return Err(bad(member, "is mandatory and cannot be removed"))
            }
            "information" => {
                self.information = non_empty_array(member, value)?
                    .iter()
                    .map(|info| parse_info(info, ctx))
                    .collect::<Result<_>>()?;
            }
            "endpoint" => {
                let uri = string(member, value)?;
                check_endpoint(uri)?;
                self.endpoint = uri.to_owned();
            }
            "registrationName" if reset => self.registration_name = None,
            "registrationName" => self.registration_name = Some(non_empty_string(member, value)?),
            "description" if reset => self.description = None,
            "description" => self.description = Some(non_empty_string(member, value)?),
            "contextSourceAlias" if reset => self.context_source_alias = None,
            "contextSourceAlias" => {
                self.context_source_alias = Some(non_empty_string(member, value)?)
            }
            "tenant" if reset => self.tenant = None,
            "tenant" => self.tenant = Some(non_empty_string(member, value)?),
            "observationInterval" if reset => self.observation_interval = None,
            "observationInterval" => self.observation_interval = Some(interval(member, value)?),
            "managementInterval" if reset => self.management_interval = None,
            "managementInterval" => self.management_interval = Some(interval(member, value)?),
            "location" if reset => self.location = None,
            "location" => self.location = Some(geometry(member, value)?),
            "observationSpace" if reset => self.observation_space = None,
            "observationSpace" => self.observation_space = Some(geometry(member, value)?),
            "operationSpace" if reset => self.operation_space = None,
            "operationSpace" => self.operation_space = Some(geometry(member, value)?),
            "expiresAt" if reset => self.expires_at = None,
            "expiresAt" => {
                self.expires_at = Some(parse_datetime_member(member, string(member, value)?)?)
            }
            "contextSourceInfo" if reset => self.context_source_info.clear(),
            "contextSourceInfo" => self.context_source_info = context_source_info(value)?,
            "scope" if reset => self.scope.clear(),
            "scope" => self.scope = crate::format::parse::parse_scope(value)?,
            "mode" if reset => self.mode = None,
            "mode" => {
                let name = string(member, value)?;
                self.mode = Some(Mode::parse(name).ok_or_else(|| {
                    bad(
                        member,
                        format!("'{name}' is none of inclusive, exclusive, redirect, auxiliary"),
                    )
                })?);
            }
            "operations" if reset => self.operations.clear(),
            "operations" => {
                let mut names: Vec<String> = Vec::new();
                for item in non_empty_array(member, value)? {
                    let name = string(member, item)?;
                    if !operations::is_known(name) {
                        return Err(bad(
                            member,
                            format!("'{name}' is no operation or operation group of clause 4.20"),
                        ));
                    }
                    if !names.iter().any(|n| n == name) {
                        names.push(name.to_owned());
                    }
                }
                self.operations = names;
            }
            "refreshRate" if reset => self.refresh_rate = None,
            "refreshRate" => {
                let text = string(member, value)?;
                IsoDuration::parse(member, text)?;
                self.refresh_rate = Some(text.to_owned());
            }
            "management" if reset => self.management = None,
            "management" => self.management = Some(management(value)?),
            "datasetId" if reset => self.dataset_id.clear(),
            "datasetId" => {
                let mut ids: Vec<String> = Vec::new();
                for id in one_or_many(member, value)? {
                    if id != "@none" {
                        check_uri(member, id)?;
                    }
                    if !ids.iter().any(|known| known == id) {
                        ids.push(id.to_owned());
                    }
                }
                self.dataset_id = ids;
            }
            // Table 5.2.9-2: read-only members, ignored on input.
            "status" | "timesSent" | "timesFailed" | "lastSuccess" | "lastFailure"
            | "createdAt" | "modifiedAt" => {}
            // Any other member is a Context Source Property (clause 5.10.2.4: `csf` filters on
            // them), named with the request's @context.
            name => {
                check_name(name, name)?;
                let expanded = ctx.expand_term(name).into_owned();
                if reset {
                    self.properties.shift_remove(&expanded);
                } else {
                    self.properties.insert(expanded, value.clone());
                }
            }
        }
        Ok(())
    }

    /// The rules between members (clause 5.2.9, 5.9.2.4, 4.3.6.3).
    fn check(&self, now: DateTime<Utc>) -> Result<()> {
        if let Some(t) = self.expires_at {
            if t <= now {
                return Err(bad("expiresAt", format!("{t} is in the past")));
            }
        }
        match self.mode() {
            Mode::Exclusive => check_exclusive(&self.information)?,
            Mode::Auxiliary if !operations::fits_auxiliary(&self.operations) => {
                return Err(bad(
                    "operations",
                    "an auxiliary registration supports retrieveOps, retrieveEntity or \
                     queryEntity only, and must say so",
                ))
            }
            _ => {}
        }
        Ok(())
    }
}

/// GS CIM 009 4.3.6.3: an exclusive registration is about given Attributes of single Entities:
/// every RegistrationInfo names entities by id (no idPattern, no type-only group) and
/// attributes.
fn check_exclusive(information: &[RegistrationInfo]) -> Result<()> {
    for info in information {
        if info.names_no_attribute() {
            return Err(bad(
                "information",
                "an exclusive registration must name propertyNames or relationshipNames",
            ));
        }
        if info.entities.is_empty() {
            return Err(bad(
                "information",
                "an exclusive registration must name the entities by id",
            ));
        }
        for e in &info.entities {
            if e.id.is_none() || e.id_pattern.is_some() {
                return Err(bad(
                    "information.entities",
                    "an exclusive registration names each entity by its id, without idPattern",
                ));
            }
        }
    }
    Ok(())
}

/// GS CIM 009 5.2.9: the endpoint is a dereferenceable URI, so it names a scheme and an
/// authority (`http://host:port`), not just any URI.
fn check_endpoint(uri: &str) -> Result<()> {
    check_uri("endpoint", uri)?;
    let authority = uri
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""));
    match authority {
        Some(a) if !a.is_empty() => Ok(()),
        _ => Err(bad(
            "endpoint",
            format!("'{uri}' is not a dereferenceable URI (scheme://host...)"),
        )),
    }
}

/// RegistrationInfo (clause 5.2.10).
fn parse_info(value: &Value, ctx: &ActiveContext) -> Result<RegistrationInfo> {
    let obj = object("information", value)?;
    let mut info = RegistrationInfo {
        entities: Vec::new(),
        property_names: Vec::new(),
        relationship_names: Vec::new(),
    };
    for (member, v) in obj {
        match member.as_str() {
            "entities" => {
                info.entities = non_empty_array("information.entities", v)?
                    .iter()
                    .map(|e| parse_entity_info(e, ctx))
                    .collect::<Result<_>>()?;
            }
            "propertyNames" => info.property_names = names("information.propertyNames", v, ctx)?,
            "relationshipNames" => {
                info.relationship_names = names("information.relationshipNames", v, ctx)?
            }
            other => {
                return Err(bad(
                    "information",
                    format!("'{other}' is not a member of RegistrationInfo"),
                ))
            }
        }
    }
    // GS CIM 009 5.2.10: at least one member is present.
    if info.entities.is_empty() && info.names_no_attribute() {
        return Err(bad(
            "information",
            "a RegistrationInfo names entities, propertyNames or relationshipNames",
        ));
    }
    Ok(info)
}

/// EntityInfo (clause 5.2.8): `type` is mandatory.
fn parse_entity_info(value: &Value, ctx: &ActiveContext) -> Result<EntityInfo> {
    const MEMBER: &str = "information.entities";
    let obj = object(MEMBER, value)?;
    let mut info = EntityInfo {
        id: None,
        id_pattern: None,
        types: Vec::new(),
    };
    for (member, v) in obj {
        match member.as_str() {
            "id" => {
                let id = string("information.entities.id", v)?;
                check_uri("information.entities.id", id)?;
                info.id = Some(id.to_owned());
            }
            "idPattern" => {
                let pattern = string("information.entities.idPattern", v)?;
                IdPattern::new(pattern)?;
                info.id_pattern = Some(pattern.to_owned());
            }
            "type" => {
                for t in one_or_many("information.entities.type", v)? {
                    check_name("information.entities.type", t)?;
                    let expanded = ctx.expand_term(t).into_owned();
                    if !info.types.contains(&expanded) {
                        info.types.push(expanded);
                    }
                }
            }
            other => {
                return Err(bad(
                    MEMBER,
                    format!("'{other}' is not a member of EntityInfo"),
                ))
            }
        }
    }
    if info.types.is_empty() {
        return Err(bad("information.entities.type", "is mandatory"));
    }
    Ok(info)
}

/// TimeInterval (clause 5.2.11): startAt, and endAt after it when present.
fn interval(member: &str, v: &Value) -> Result<TimeInterval> {
    let obj = object(member, v)?;
    let time = |name: &str| -> Result<Option<DateTime<Utc>>> {
        let path = format!("{member}.{name}");
        obj.get(name)
            .map(|t| parse_datetime_member(&path, string(&path, t)?))
            .transpose()
    };
    let start_at = time("startAt")?.ok_or_else(|| bad(member, "startAt is mandatory"))?;
    let end_at = time("endAt")?;
    if end_at.is_some_and(|end| end < start_at) {
        return Err(bad(member, "endAt is before startAt"));
    }
    Ok(TimeInterval { start_at, end_at })
}

/// A GeoJSON geometry (clause 4.7), kept as given.
fn geometry(member: &str, v: &Value) -> Result<Value> {
    Geometry::from_geojson(member, v).map(|g| g.to_geojson())
}

/// KeyValuePair[] (clause 5.2.22), with the keys of clause 4.3.6.6 checked.
fn context_source_info(value: &Value) -> Result<Vec<KeyValue>> {
    const MEMBER: &str = "contextSourceInfo";
    let items = value
        .as_array()
        .ok_or_else(|| bad(MEMBER, format!("must be an array, not {value}")))?;
    let mut pairs = Vec::with_capacity(items.len());
    for item in items {
        let obj = object(MEMBER, item)?;
        let text = |name: &str| -> Result<String> {
            let path = format!("{MEMBER}.{name}");
            let v = obj.get(name).ok_or_else(|| bad(&path, "is mandatory"))?;
            string(&path, v).map(str::to_owned)
        };
        let pair = KeyValue {
            key: text("key")?,
            value: text("value")?,
        };
        check_reserved_pair(&pair)?;
        pairs.push(pair);
    }
    Ok(pairs)
}

/// GS CIM 009 4.3.6.6: the keys with a meaning of their own take only the values it allows.
fn check_reserved_pair(pair: &KeyValue) -> Result<()> {
    let member = format!("contextSourceInfo.{}", pair.key);
    let media = || match pair.value.as_str() {
        "application/json" | "application/ld+json" => Ok(()),
        other => Err(bad(
            &member,
            format!("'{other}' is neither application/json nor application/ld+json"),
        )),
    };
    match pair.key.as_str() {
        "accept" | "contentType" => media(),
        "jsonldContext" => check_uri(&member, &pair.value),
        "ngsildConformance" => {
            let valid = pair.value.split_once('.').is_some_and(|(major, minor)| {
                [major, minor]
                    .iter()
                    .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            });
            if valid {
                Ok(())
            } else {
                Err(bad(
                    &member,
                    format!("'{}' is not a version major.minor", pair.value),
                ))
            }
        }
        _ => Ok(()),
    }
}

/// RegistrationManagementInfo (clause 5.2.34).
fn management(value: &Value) -> Result<ManagementInfo> {
    let obj: &Map<String, Value> = object("management", value)?;
    let mut info = ManagementInfo::default();
    for (member, v) in obj {
        let path = format!("management.{member}");
        match member.as_str() {
            "localOnly" => {
                info.local_only = Some(
                    v.as_bool()
                        .ok_or_else(|| bad(&path, format!("must be a boolean, not {v}")))?,
                )
            }
            "cacheDuration" => {
                let text = string(&path, v)?;
                IsoDuration::parse(&path, text)?;
                info.cache_duration = Some(text.to_owned());
            }
            "timeout" => info.timeout = Some(positive(&path, v)?),
            "cooldown" => info.cooldown = Some(positive(&path, v)?),
            other => {
                return Err(bad(
                    "management",
                    format!("'{other}' is not a member of RegistrationManagementInfo"),
                ))
            }
        }
    }
    Ok(info)
}
