//! Query Context Source Registrations (GS CIM 009 clause 5.10.2): which registrations a
//! discovery request selects, by the matching rules of clause 5.12 (entity types, ids and id
//! pattern against EntityInfo; attribute names against propertyNames and relationshipNames),
//! the geoquery against the registration's geometries, the temporal query against its
//! intervals, `csf` against its Context Source Properties and `scopeQ` against its scope.

use super::{CSourceRegistration, EntityInfo, RegistrationInfo};
use crate::attribute::Attribute;
use crate::context::ActiveContext;
use crate::entity::Entity;
use crate::error::{NgsiError, Result};
use crate::geojson::Geometry;
use crate::ident::check_uri;
use crate::query::geo::{GeoQuery, GeoQueryParams, GeoRel};
use crate::query::q::Query;
use crate::query::scope::ScopeQuery;
use crate::query::type_expr::{IdPattern, TypeExpr};
use crate::temporal::{TemporalQuery, TimeProperty};

/// The URI parameters of a discovery request (clause 6.8.3.2), URL-decoded, `None` when
/// absent.
#[derive(Debug, Default, Clone, Copy)]
pub struct DiscoveryParams<'a> {
    pub id: Option<&'a str>,
    pub r#type: Option<&'a str>,
    pub id_pattern: Option<&'a str>,
    pub attrs: Option<&'a str>,
    pub q: Option<&'a str>,
    pub csf: Option<&'a str>,
    pub scope_q: Option<&'a str>,
    pub geo: GeoQueryParams<'a>,
    pub timerel: Option<&'a str>,
    pub time_at: Option<&'a str>,
    pub end_time_at: Option<&'a str>,
    pub timeproperty: Option<&'a str>,
}

/// A discovery request, names expanded with the request's @context.
#[derive(Debug, Clone, Default)]
pub struct RegistrationQuery {
    pub ids: Vec<String>,
    pub types: Option<TypeExpr>,
    pub id_pattern: Option<IdPattern>,
    /// The attribute names of `attrs`, of the `q` terms and the geoquery's GeoProperty
    /// (clause 5.10.2.4: all are matched against RegistrationInfo alike). Expanded.
    pub attrs: Vec<String>,
    pub geo_q: Option<GeoQuery>,
    /// `None`: no temporal query, only registrations of latest information match.
    pub temporal: Option<TemporalQuery>,
    /// `csf`, expanded.
    pub csf: Option<Query>,
    pub scope_q: Option<ScopeQuery>,
}

impl RegistrationQuery {
    /// Reads and checks the parameters (clause 5.10.2.4): ids are URIs, the queries parse, and
    /// at least one of a type selector, attribute names, `q` or a geoquery is given.
    pub fn from_params(p: DiscoveryParams<'_>, ctx: &ActiveContext) -> Result<Self> {
        let ids: Vec<String> = list(p.id);
        for id in &ids {
            check_uri("id", id)?;
        }
        let types = p
            .r#type
            .map(TypeExpr::parse)
            .transpose()?
            .map(|t| t.expand(ctx));
        let id_pattern = p.id_pattern.map(IdPattern::new).transpose()?;
        let mut attrs: Vec<String> = Vec::new();
        let mut add = |name: String| {
            if !attrs.contains(&name) {
                attrs.push(name);
            }
        };
        for name in list(p.attrs) {
            add(ctx.expand_term(&name).into_owned());
        }
        let q = p.q.map(Query::parse).transpose()?;
        if let Some(q) = &q {
            for term in q.terms() {
                if let Some(name) = term.attribute.names.first() {
                    add(ctx.expand_term(name).into_owned());
                }
            }
        }
        let geo_q = GeoQuery::from_params(p.geo)?.map(|mut g| {
            g.expand(ctx);
            g
        });
        if let Some(g) = &geo_q {
            add(g.geoproperty.clone());
        }
        let csf = p.csf.map(Query::parse).transpose()?.map(|q| q.expand(ctx));
        let scope_q = p.scope_q.map(ScopeQuery::parse).transpose()?;
        let temporal = TemporalQuery::parse(p.timerel, p.time_at, p.end_time_at, p.timeproperty)?;
        let temporal = temporal.timerel.is_some().then_some(temporal);
        let narrows = types.is_some() || !attrs.is_empty() || q.is_some() || geo_q.is_some();
        if !narrows {
            return Err(NgsiError::InvalidParameter {
                param: "type".into(),
                reason: "too wide: a discovery needs a type, attrs, q or a geoquery \
                         (GS CIM 009 5.10.2.4)"
                    .into(),
            });
        }
        Ok(Self {
            ids,
            types,
            id_pattern,
            attrs,
            geo_q,
            temporal,
            csf,
            scope_q,
        })
    }

    /// True if the registration is one this request discovers. `ctx` is the request's
    /// @context, which `csf` was expanded with.
    pub fn matches(&self, reg: &CSourceRegistration, ctx: &ActiveContext) -> bool {
        reg.information.iter().any(|info| self.matches_info(info))
            && self.matches_geo(reg, ctx)
            && self.matches_time(reg)
            && self
                .scope_q
                .as_ref()
                .is_none_or(|s| s.expr().matches_scopes(&reg.scope))
            && self
                .csf
                .as_ref()
                .is_none_or(|csf| csf.matches(&source_properties(reg, ctx)))
    }

    /// GS CIM 009 5.12: the entity specification matches one of the EntityInfo (or there is
    /// none), and the attribute names one of the registered attributes (or none are
    /// registered).
    fn matches_info(&self, info: &RegistrationInfo) -> bool {
        let specifies_entities =
            self.types.is_some() || !self.ids.is_empty() || self.id_pattern.is_some();
        let entities = !specifies_entities
            || info.entities.is_empty()
            || info.entities.iter().any(|e| self.matches_entity_info(e));
        let attrs = self.attrs.is_empty()
            || info.names_no_attribute()
            || info.attributes().any(|a| self.attrs.iter().any(|q| q == a));
        entities && attrs
    }

    fn matches_entity_info(&self, e: &EntityInfo) -> bool {
        if !self
            .types
            .as_ref()
            .is_none_or(|t| t.node().matches_types(&e.types))
        {
            return false;
        }
        if self.ids.is_empty() && self.id_pattern.is_none() {
            return true;
        }
        let pattern = e.id_pattern.as_deref().and_then(|p| IdPattern::new(p).ok());
        match (&e.id, &pattern) {
            (None, None) => true,
            (Some(id), _) if self.ids.contains(id) => true,
            (Some(id), _) if self.id_pattern.as_ref().is_some_and(|p| p.is_match(id)) => true,
            (_, Some(p)) if self.ids.iter().any(|id| p.is_match(id)) => true,
            // Two patterns may always share identifiers: it cannot be told in general.
            (_, Some(_)) => self.id_pattern.is_some(),
            _ => false,
        }
    }

    /// GS CIM 009 5.10.2.4: the geoquery matches where the registration's geometry (for its
    /// GeoProperty: `location`, `observationSpace` or `operationSpace`) matches, or may hold
    /// locations that match. A registration without that geometry does not match.
    fn matches_geo(&self, reg: &CSourceRegistration, ctx: &ActiveContext) -> bool {
        let Some(geo) = &self.geo_q else {
            return true;
        };
        let names = |term: &str| geo.geoproperty == ctx.expand_term(term);
        let member = if names("observationSpace") {
            &reg.observation_space
        } else if names("operationSpace") {
            &reg.operation_space
        } else {
            &reg.location
        };
        let Some(geometry) = member
            .as_ref()
            .and_then(|g| Geometry::from_geojson("location", g).ok())
        else {
            return false;
        };
        if geo.matches(&geometry) {
            return true;
        }
        // An area may hold locations in any of the other relations; how near an area's
        // locations are is already measured to its nearest point.
        let area_may_match = !matches!(geo.georel, GeoRel::Near(_) | GeoRel::Disjoint);
        area_may_match && {
            let mut intersects = geo.clone();
            intersects.georel = GeoRel::Intersects;
            intersects.matches(&geometry)
        }
    }

    /// GS CIM 009 5.10.2.4: without a temporal query only registrations without time intervals
    /// match; with one, the interval of its time property (observationInterval for observedAt,
    /// managementInterval otherwise) must overlap the queried period.
    fn matches_time(&self, reg: &CSourceRegistration) -> bool {
        let Some(t) = &self.temporal else {
            return reg.observation_interval.is_none() && reg.management_interval.is_none();
        };
        let interval = match t.property {
            TimeProperty::ObservedAt => reg.observation_interval,
            _ => reg.management_interval,
        };
        interval.is_some_and(|i| {
            t.to.is_none_or(|to| i.start_at <= to)
                && t.from
                    .is_none_or(|from| i.end_at.is_none_or(|end| end >= from))
        })
    }
}

/// A comma-separated list parameter.
fn list(value: Option<&str>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The registration as an entity whose Properties are its Context Source Properties and its
/// string members (endpoint, registrationName, ...), named as `ctx` expands them, so that a
/// `csf` (clause 4.9 grammar) evaluates on it as `q` does on an entity.
fn source_properties(reg: &CSourceRegistration, ctx: &ActiveContext) -> Entity {
    let mut entity = Entity::new(reg.id.clone(), vec![super::REGISTRATION_TYPE.to_owned()]);
    entity.scope = reg.scope.clone();
    let members = [
        ("endpoint", Some(reg.endpoint.as_str())),
        ("registrationName", reg.registration_name.as_deref()),
        ("description", reg.description.as_deref()),
        ("mode", Some(reg.mode().as_str())),
        ("tenant", reg.tenant.as_deref()),
        ("contextSourceAlias", reg.context_source_alias.as_deref()),
        ("refreshRate", reg.refresh_rate.as_deref()),
    ];
    for (name, value) in members {
        if let Some(v) = value {
            entity.put_attribute(ctx.expand_term(name).into_owned(), Attribute::property(v));
        }
    }
    for (name, value) in &reg.properties {
        entity.put_attribute(name.clone(), Attribute::property(value.clone()));
    }
    entity
}
