//! Reading a Subscription from its API form (clause 5.2.12), for Create (5.8.1) and Update
//! (5.8.2).
//!
//! Each member has one reader that checks it and writes it into the compiled form; create
//! applies every member to an empty subscription, update applies the fragment's members to a
//! copy of the stored one. Rules that tie members together are checked once at the end, so
//! create and update cannot disagree. Every error is BadRequestData and names the member.

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use ngsi_types::context::ActiveContext;
use ngsi_types::datetime::parse_datetime_member;
use ngsi_types::ident::check_uri;
use ngsi_types::query::filter::EntitySelector;
use ngsi_types::query::geo::GeoQuery;
use ngsi_types::query::projection::LangFilter;
use ngsi_types::query::q::{Condition, Operand, Query};
use ngsi_types::query::scope::ScopeQuery;
use ngsi_types::query::type_expr::{IdPattern, TypeExpr};
use ngsi_types::NgsiError;
use serde_json::Value;

use super::members::{bad, is_null, names, non_empty_array, opt_string, positive, string, Result};
use super::params::parse_notification;
use super::{EntitySelection, QueryFilter, Subscription, Trigger, CORE_CONTEXT_URL};

impl Subscription {
    /// Reads a subscription from its API JSON, names expanded with `ctx` (the request's
    /// @context). `now` decides whether `expiresAt` is in the past.
    pub fn parse(body: &Value, ctx: &ActiveContext, now: DateTime<Utc>) -> Result<Subscription> {
        let obj = body
            .as_object()
            .ok_or_else(|| NgsiError::InvalidJson("a subscription must be a JSON object".into()))?;
        if let Some(t) = obj.get("type") {
            if t.as_str() != Some("Subscription") {
                return Err(bad("type", format!("must be \"Subscription\", not {t}")));
            }
        }
        let notification = obj
            .get("notification")
            .ok_or_else(|| bad("notification", "is mandatory"))?;
        let mut sub = Subscription {
            id: format!("urn:ngsi-ld:Subscription:{}", uuid::Uuid::new_v4()),
            subscription_name: None,
            description: None,
            entities: Vec::new(),
            watched_attributes: Vec::new(),
            notification_trigger: Trigger::DEFAULT.to_vec(),
            q: None,
            geo_q: None,
            scope_q: None,
            csf: None,
            lang: None,
            dataset_id: Vec::new(),
            is_active: true,
            expires_at: None,
            throttling: None,
            time_interval: None,
            jsonld_context: None,
            context: Value::String(CORE_CONTEXT_URL.to_owned()),
            terms: IndexMap::new(),
            notification: parse_notification(notification, ctx)?,
            created_at: Some(now),
            modified_at: Some(now),
        };
        for (member, value) in obj {
            if member != "notification" {
                sub.apply(member, value, ctx)?;
            }
        }
        sub.check(now)?;
        if let Some(url) = &sub.jsonld_context {
            sub.context = Value::String(url.clone());
        }
        Ok(sub)
    }

    /// Records the @context reference of the creating request (its Link header URL, or the
    /// `@context` member of an `application/ld+json` body), which notifications carry when
    /// the subscription has no `jsonldContext` (clause 5.2.12).
    pub fn set_request_context(&mut self, context: Value) {
        if self.jsonld_context.is_none() && !context.is_null() {
            self.context = context;
        }
    }

    /// Update Subscription (clause 5.8.2): the fragment's members replace the stored ones
    /// (clause 5.5.8; `notification` too, as a whole), then the whole is checked again. A member
    /// set to `null` or the NGSI-LD Null returns to its default. The id cannot change.
    pub fn patch(
        &self,
        fragment: &Value,
        ctx: &ActiveContext,
        now: DateTime<Utc>,
    ) -> Result<Subscription> {
        let obj = fragment.as_object().ok_or_else(|| {
            NgsiError::InvalidJson("a subscription fragment must be a JSON object".into())
        })?;
        if let Some(id) = obj.get("id") {
            if id.as_str() != Some(self.id.as_str()) {
                return Err(bad("id", "the id of a subscription cannot be changed"));
            }
        }
        let mut sub = self.clone();
        for (member, value) in obj {
            if member == "notification" {
                sub.notification = parse_notification(value, ctx)?;
            } else if member != "id" {
                sub.apply(member, value, ctx)?;
            }
        }
        sub.check(now)?;
        if let Some(url) = &sub.jsonld_context {
            sub.context = Value::String(url.clone());
        }
        sub.modified_at = Some(now);
        Ok(sub)
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
            "type" | "@context" => {}
            "subscriptionName" => self.subscription_name = opt_string(member, value)?,
            "description" => self.description = opt_string(member, value)?,
            "entities" if reset => self.entities.clear(),
            "entities" => {
                self.entities = non_empty_array(member, value)?
                    .iter()
                    .map(|s| self.parse_selector(s, ctx))
                    .collect::<Result<_>>()?;
            }
            "watchedAttributes" if reset => self.watched_attributes.clear(),
            "watchedAttributes" => self.watched_attributes = names(member, value, ctx)?,
            "notificationTrigger" if reset => {
                self.notification_trigger = Trigger::DEFAULT.to_vec();
            }
            "notificationTrigger" => {
                let mut triggers = Vec::new();
                for t in non_empty_array(member, value)? {
                    let name = string(member, t)?;
                    // `all` is shorthand for every trigger (clause 5.2.12, v1.8).
                    let add: Vec<Trigger> = match (name, Trigger::parse(name)) {
                        ("all", _) => Trigger::ALL.to_vec(),
                        (_, Some(t)) => vec![t],
                        (_, None) => return Err(bad(member, format!("unknown trigger '{name}'"))),
                    };
                    for t in add {
                        if !triggers.contains(&t) {
                            triggers.push(t);
                        }
                    }
                }
                self.notification_trigger = triggers;
            }
            "q" if reset => self.q = None,
            "q" => {
                let text = string(member, value)?;
                let raw = Query::parse(text)?;
                self.record_query_terms(&raw, ctx);
                self.q = Some(QueryFilter {
                    text: text.to_owned(),
                    query: raw.expand(ctx),
                });
            }
            "geoQ" if reset => self.geo_q = None,
            "geoQ" => {
                let mut geo = GeoQuery::from_json(value)?;
                geo.expand(ctx);
                self.geo_q = Some(geo);
            }
            "scopeQ" if reset => self.scope_q = None,
            "scopeQ" => self.scope_q = Some(ScopeQuery::parse(string(member, value)?)?),
            "csf" => {
                self.csf = opt_string(member, value)?;
                // Clause 5.2.12: csf is a query string as per clause 4.9.
                if let Some(csf) = &self.csf {
                    Query::parse(csf).map_err(|e| bad(member, e.to_string()))?;
                }
            }
            "lang" => {
                self.lang = opt_string(member, value)?;
                if let Some(lang) = &self.lang {
                    LangFilter::parse(lang)?;
                }
            }
            "datasetId" if reset => self.dataset_id.clear(),
            "datasetId" => {
                let mut ids = Vec::new();
                for item in non_empty_array(member, value)? {
                    let id = string(member, item)?;
                    if id != "@none" {
                        check_uri(member, id)?;
                    }
                    if !ids.iter().any(|known| known == id) {
                        ids.push(id.to_owned());
                    }
                }
                self.dataset_id = ids;
            }
            "isActive" if reset => self.is_active = true,
            "isActive" => {
                self.is_active = value
                    .as_bool()
                    .ok_or_else(|| bad(member, format!("must be a boolean, not {value}")))?;
            }
            "expiresAt" if reset => self.expires_at = None,
            "expiresAt" => {
                self.expires_at = Some(parse_datetime_member(member, string(member, value)?)?)
            }
            "throttling" if reset => self.throttling = None,
            "throttling" => self.throttling = Some(positive(member, value)?),
            "timeInterval" if reset => self.time_interval = None,
            "timeInterval" => self.time_interval = Some(positive(member, value)?),
            "jsonldContext" if reset => self.jsonld_context = None,
            "jsonldContext" => {
                let uri = string(member, value)?;
                check_uri(member, uri)?;
                self.jsonld_context = Some(uri.to_owned());
            }
            // Read-only members (clause 5.2.12 and 5.2.2): ignored on input.
            "status" | "createdAt" | "modifiedAt" | "timesSent" | "timesFailed" => {}
            // Other members (temporalQ, join, ... of later versions) are not supported.
            other => return Err(bad(other, "unknown or unsupported Subscription member")),
        }
        Ok(())
    }

    fn parse_selector(&mut self, value: &Value, ctx: &ActiveContext) -> Result<EntitySelection> {
        const MEMBER: &str = "entities";
        let obj = value.as_object().ok_or_else(|| {
            bad(
                MEMBER,
                format!("an entity selector must be an object, not {value}"),
            )
        })?;
        let type_text = obj
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("entities[].type", "is mandatory and must be a string"))?;
        let raw = TypeExpr::parse(type_text)?;
        for t in raw.types() {
            self.terms
                .insert(t.to_owned(), ctx.expand_term(t).into_owned());
        }
        let id = match obj.get("id") {
            Some(v) => {
                let id = string("entities[].id", v)?;
                check_uri("entities[].id", id)?;
                Some(id.to_owned())
            }
            None => None,
        };
        let id_pattern = match obj.get("idPattern") {
            Some(v) => Some(IdPattern::new(string("entities[].idPattern", v)?)?),
            None => None,
        };
        Ok(EntitySelection {
            selector: EntitySelector {
                id,
                id_pattern,
                types: Some(raw.expand(ctx)),
            },
            type_text: type_text.to_owned(),
        })
    }

    /// Records the expansion of every attribute name and every text compared for equality
    /// (matched against VocabProperties) in `q`.
    fn record_query_terms(&mut self, q: &Query, ctx: &ActiveContext) {
        for term in q.terms() {
            for name in &term.attribute.names {
                self.terms
                    .insert(name.clone(), ctx.expand_term(name).into_owned());
            }
            if let Condition::Compare { operand, .. } = &term.condition {
                let values = match operand {
                    Operand::Single(v) => std::slice::from_ref(v),
                    Operand::List(v) => v.as_slice(),
                    Operand::Range(..) => &[],
                };
                for text in values.iter().filter_map(|v| v.as_text()) {
                    self.terms
                        .insert(text.to_owned(), ctx.expand_term(text).into_owned());
                }
            }
        }
    }

    /// The rules between members (clause 5.2.12).
    fn check(&self, now: DateTime<Utc>) -> Result<()> {
        if self.entities.is_empty() && self.watched_attributes.is_empty() {
            return Err(bad(
                "entities",
                "at least one of entities and watchedAttributes shall be present",
            ));
        }
        if self.throttling.is_some() && self.time_interval.is_some() {
            return Err(bad(
                "throttling",
                "throttling and timeInterval cannot be used together",
            ));
        }
        if let Some(t) = self.expires_at {
            if t <= now {
                return Err(bad("expiresAt", format!("{t} is in the past")));
            }
        }
        Ok(())
    }
}
