//! Context Source Registration Subscriptions (GS CIM 009 clause 5.11): a [`Subscription`]
//! whose selectors, watched attributes, geoquery and `csf` are matched against Context
//! Source Registrations (clause 5.12) instead of entities, plus the `temporalQ` member that
//! only this kind of subscription has (clause 5.2.12), and the CsourceNotification (5.3.2)
//! telling a subscriber which registrations changed.
//!
//! The shared members (NotificationParams, endpoint, expiresAt, ...) are read, patched and
//! rendered by the entity subscription model, so both kinds accept and answer the same.

use chrono::{DateTime, Utc};
use ngsi_types::context::ActiveContext;
use ngsi_types::json_member;
use ngsi_types::query::q::Query;
use ngsi_types::registration::{CSourceRegistration, RegistrationQuery};
use ngsi_types::temporal::TemporalQuery;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::error::Result;
use crate::{Subscription, SubscriptionStatus};

/// The `temporalQ` member, which the entity subscription model does not read.
const TEMPORAL_Q: &str = "temporalQ";

/// A Context Source Registration Subscription, as kept in its store document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CsourceSubscription {
    pub subscription: Subscription,
    /// `temporalQ` as the client wrote it (a TemporalQuery object, clause 5.2.21).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporal_q: Option<Value>,
}

/// Why a CsourceNotification is sent (clause 5.3.2, 5.11.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsourceTrigger {
    NewlyMatching,
    Updated,
    NoLongerMatching,
}

impl CsourceTrigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewlyMatching => "newlyMatching",
            Self::Updated => "updated",
            Self::NoLongerMatching => "noLongerMatching",
        }
    }

    /// Clause 5.11.7: a registration that starts matching is newly matching, one that matched
    /// before and after the change is updated, one that matched only before (or was deleted)
    /// no longer matches. `None`: the change does not concern the subscription.
    pub fn of_change(before: bool, after: bool) -> Option<Self> {
        match (before, after) {
            (false, true) => Some(Self::NewlyMatching),
            (true, true) => Some(Self::Updated),
            (true, false) => Some(Self::NoLongerMatching),
            (false, false) => None,
        }
    }
}

impl CsourceSubscription {
    /// Create Csource Registration Subscription (5.11.2): the body read with the request's
    /// @context; `temporalQ` is checked here, the rest by [`Subscription::parse`].
    pub fn parse(body: &Value, ctx: &ActiveContext, now: DateTime<Utc>) -> Result<Self> {
        let (rest, temporal_q) = split_temporal(body)?;
        let subscription = Subscription::parse(&rest, ctx, now)?;
        let sub = Self {
            subscription,
            temporal_q,
        };
        sub.check_csf()?;
        Ok(sub)
    }

    /// Update Csource Registration Subscription (5.11.3, merge as 5.5.8).
    pub fn patch(&self, fragment: &Value, ctx: &ActiveContext, now: DateTime<Utc>) -> Result<Self> {
        if let Some(t) = fragment.get("type") {
            if t.as_str() != Some("Subscription") {
                return Err(bad("type", format!("must be \"Subscription\", not {t}")));
            }
        }
        let (rest, temporal_q) = split_temporal(fragment)?;
        let subscription = self.subscription.patch(&rest, ctx, now)?;
        let temporal_q = match fragment.get(TEMPORAL_Q) {
            Some(Value::Null) => None,
            Some(_) => temporal_q,
            None => self.temporal_q.clone(),
        };
        let sub = Self {
            subscription,
            temporal_q,
        };
        sub.check_csf()?;
        Ok(sub)
    }

    pub fn id(&self) -> &str {
        &self.subscription.id
    }

    /// The API form, with `temporalQ` beside the shared members.
    pub fn render(
        &self,
        ctx: &ActiveContext,
        status: Option<&SubscriptionStatus>,
        now: DateTime<Utc>,
        sys_attrs: bool,
    ) -> Value {
        let mut out = self.subscription.render(ctx, status, now, sys_attrs);
        if let Some(obj) = out.as_object_mut() {
            // The triggers of clause 5.2.12 are entity and attribute changes; a registration
            // subscription is triggered by registration changes (5.11.7), so its entity
            // subscription default is no member of it.
            obj.remove("notificationTrigger");
            if let Some(t) = &self.temporal_q {
                obj.insert(TEMPORAL_Q.into(), t.clone());
            }
        }
        out
    }

    /// True while the subscription notifies (isActive, not expired).
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.subscription.is_active && self.subscription.expires_at.is_none_or(|at| at > now)
    }

    /// GS CIM 009 5.11.2.4 and 5.12: the registration matches when one of the subscription's
    /// entity selectors (or any entity, without them) with the subscribed attributes matches
    /// one of its RegistrationInfo, and the geoquery, temporal query, `csf` and `scopeQ`
    /// match it as discovery (5.10.2.4) matches them. `ctx` expands the `csf` names.
    pub fn matches(&self, reg: &CSourceRegistration, ctx: &ActiveContext) -> bool {
        let sub = &self.subscription;
        // Clause 5.11.2.4: the watched attributes and the notified ones are matched against
        // the registered attributes; without either, every attribute of a matching entity
        // matches. (Read as "without any": a subscription naming watched attributes only
        // would otherwise match registrations of every attribute.)
        let mut attrs = sub.watched_attributes.clone();
        for a in &sub.notification.attributes {
            if !attrs.contains(a) {
                attrs.push(a.clone());
            }
        }
        let base = RegistrationQuery {
            attrs,
            geo_q: sub.geo_q.clone(),
            temporal: self.temporal(),
            csf: sub
                .csf
                .as_deref()
                .and_then(|c| Query::parse(c).ok())
                .map(|q| q.expand(ctx)),
            scope_q: sub.scope_q.clone(),
            ..RegistrationQuery::default()
        };
        if sub.entities.is_empty() {
            return base.matches(reg, ctx);
        }
        sub.entities.iter().any(|e| {
            let query = RegistrationQuery {
                ids: e.selector.id.iter().cloned().collect(),
                types: e.selector.types.clone(),
                id_pattern: e.selector.id_pattern.clone(),
                ..base.clone()
            };
            query.matches(reg, ctx)
        })
    }

    /// Clause 5.11.7: the registration as notified, with only the RegistrationInfo elements
    /// that match the subscription (all of them when none matches alone, as for a
    /// registration that no longer matches).
    pub fn relevant(&self, reg: &CSourceRegistration, ctx: &ActiveContext) -> CSourceRegistration {
        let mut filtered = reg.clone();
        filtered.information = reg
            .information
            .iter()
            .filter(|info| {
                let mut one = reg.clone();
                one.information = vec![(*info).clone()];
                self.matches(&one, ctx)
            })
            .cloned()
            .collect();
        if filtered.information.is_empty() {
            filtered.information = reg.information.clone();
        }
        filtered
    }

    /// The CsourceNotification (clause 5.3.2) of these registrations, rendered with the
    /// subscription's @context `ctx`.
    pub fn notification(
        &self,
        registrations: &[&CSourceRegistration],
        reason: CsourceTrigger,
        ctx: &ActiveContext,
        now: DateTime<Utc>,
    ) -> Value {
        let data: Vec<Value> = registrations
            .iter()
            .map(|r| self.relevant(r, ctx).render(ctx, false))
            .collect();
        let mut out = Map::new();
        out.insert(
            "id".into(),
            json!(format!("urn:ngsi-ld:Notification:{}", uuid::Uuid::new_v4())),
        );
        // Table 5.3.2-1: the type of a CsourceNotification.
        out.insert("type".into(), json!("ContextSourceNotification"));
        out.insert("subscriptionId".into(), json!(self.subscription.id));
        out.insert(
            "notifiedAt".into(),
            json!(now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        );
        out.insert("data".into(), Value::Array(data));
        out.insert("triggerReason".into(), json!(reason.as_str()));
        Value::Object(out)
    }

    fn temporal(&self) -> Option<TemporalQuery> {
        self.temporal_q
            .as_ref()
            .and_then(|t| parse_temporal(t).ok())
            .filter(|t| t.timerel.is_some())
    }

    fn check_csf(&self) -> Result<()> {
        if let Some(csf) = &self.subscription.csf {
            Query::parse(csf).map_err(|e| bad("csf", e.to_string()))?;
        }
        Ok(())
    }
}

/// The body without `temporalQ`, and `temporalQ` checked (a TemporalQuery, clause 5.2.21).
fn split_temporal(body: &Value) -> Result<(Value, Option<Value>)> {
    let Some(obj) = body.as_object() else {
        return Ok((body.clone(), None));
    };
    let mut rest = obj.clone();
    let temporal = match rest.remove(TEMPORAL_Q) {
        None | Some(Value::Null) => None,
        Some(t) => {
            parse_temporal(&t)?;
            Some(t)
        }
    };
    Ok((Value::Object(rest), temporal))
}

fn parse_temporal(t: &Value) -> Result<TemporalQuery> {
    let obj = t
        .as_object()
        .ok_or_else(|| bad(TEMPORAL_Q, "must be a TemporalQuery object"))?;
    let member = |name: &str| -> Result<Option<&str>> {
        match obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(bad(
                TEMPORAL_Q,
                format!("{name} must be a string, not {other}"),
            )),
        }
    };
    let q = TemporalQuery::parse(
        member("timerel")?,
        member("timeAt")?,
        member("endTimeAt")?,
        member("timeproperty")?,
    )
    .map_err(|e| bad(TEMPORAL_Q, e.to_string()))?;
    if q.timerel.is_none() {
        return Err(bad(TEMPORAL_Q, "timerel is mandatory"));
    }
    Ok(q)
}

fn bad(member: &str, reason: impl std::fmt::Display) -> crate::Error {
    crate::Error::from(json_member::bad(member, reason.to_string()))
}

#[cfg(test)]
mod tests;
