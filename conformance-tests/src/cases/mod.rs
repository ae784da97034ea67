//! The cases, one module per area of GS CIM 009, and the one table that registers them.
//!
//! A case is a plain `async fn()` that talks HTTP to [`Client::shared`](crate::Client::shared)
//! (or to a broker it starts) and panics on the first difference, like a test. The table gives
//! each its area (the module), the clauses of GS CIM 009 v1.8 it checks, and what it needs
//! beyond a broker URL ([`Needs`]). Runners (the test binary, `ngsi-conformance`) only ever go
//! through [`all`].

mod attr_selectors;
mod attrs;
mod auth;
mod bad_input;
mod batch;
mod batch_items;
mod connection;
mod context;
mod csource_registrations;
mod csource_subscriptions;
mod durability;
mod egress;
mod entities;
mod errors;
mod formats;
mod geo;
mod limits;
mod linked;
mod members;
mod meta;
mod notifications;
mod order;
mod purge;
mod query;
mod source_identity;
mod subscriptions;
mod temporal;
mod tenancy;
mod tls;
mod transient;
mod types;

use std::future::Future;
use std::pin::Pin;

/// What a case needs beyond the URL of a broker that implements the mandatory API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Any broker URL will do.
    Nothing,
    /// A broker this run starts itself: the case kills it with SIGKILL, restarts it, or starts
    /// it with flags (an `oxion` binary, so never against an arbitrary URL).
    SpawnedBroker,
    /// An MQTT broker that both the case and the broker under test reach (MQTT notification
    /// endpoints are an optional binding, GS CIM 009 5.2.15).
    Mqtt,
}

impl Needs {
    /// Why a case with this need is skipped where the need is not met.
    pub fn reason(self) -> &'static str {
        match self {
            Needs::Nothing => "",
            Needs::SpawnedBroker => "needs a broker this run starts (SIGKILL, restart, flags)",
            Needs::Mqtt => {
                "needs an MQTT broker (an optional binding): --mqtt-url / OXION_TEST_MQTT_URL"
            }
        }
    }
}

/// The future of one running case.
pub type CaseFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One registered case.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// The behaviour checked, as a function name (`patch_attrs_of_missing_entity_is_404`).
    pub name: &'static str,
    /// The area (module) it belongs to (`attrs`).
    pub area: &'static str,
    /// GS CIM 009 v1.8 clauses it checks (empty for operational endpoints outside the spec).
    pub clauses: &'static [&'static str],
    pub needs: Needs,
    pub run: fn() -> CaseFuture,
}

impl Case {
    /// `area::name`, the name test runners show.
    pub fn id(&self) -> String {
        format!("{}::{}", self.area, self.name)
    }

    /// Whether `filter` selects this case: its area, its name or `area::name`, or a clause
    /// prefix on clause boundaries (`5.7` selects 5.7.2 but not 5.71).
    pub fn matches(&self, filter: &str) -> bool {
        let filter = filter.trim();
        self.area == filter
            || self.name == filter
            || self.id() == filter
            || self.clauses.iter().any(|clause| {
                clause
                    .strip_prefix(filter)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
            })
    }
}

macro_rules! needs {
    () => {
        Needs::Nothing
    };
    ($needs:ident) => {
        Needs::$needs
    };
}

/// `area::name [clauses] (Need)?;` lines into the table.
macro_rules! cases {
    ($( $area:ident :: $name:ident [$($clause:literal),*] $(($needs:ident))? ; )*) => {
        &[$(
            Case {
                name: stringify!($name),
                area: stringify!($area),
                clauses: &[$($clause),*],
                needs: needs!($($needs)?),
                run: || Box::pin($area::$name()),
            },
        )*]
    };
}

/// Every case, in a stable order (by area, then as written).
pub fn all() -> &'static [Case] {
    CASES
}

static CASES: &[Case] = cases! {
    entities::create_then_retrieve_returns_the_entity_as_sent ["5.6.1", "5.7.1"];
    entities::every_attribute_kind_round_trips ["5.6.1", "5.7.1", "4.5"];
    entities::sub_attributes_round_trip ["5.6.1", "5.7.1"];
    entities::dataset_id_instances_are_returned_as_an_array ["5.6.1", "5.7.1", "4.5.5"];
    entities::create_existing_entity_is_409_already_exists ["5.6.1"];
    entities::retrieve_missing_entity_is_404_resource_not_found ["5.7.1"];
    entities::delete_removes_the_entity ["5.6.6"];
    entities::invalid_payloads_are_400_bad_request_data ["5.6.1"];
    entities::replace_entity_replaces_every_attribute_and_keeps_created_at ["5.6.18"];
    entities::replace_missing_entity_is_404 ["5.6.18"];
    entities::merge_entity_updates_adds_and_deletes_with_ngsi_ld_null ["5.6.17"];
    entities::merge_entity_merges_sub_attributes ["5.6.17"];
    entities::merge_of_missing_entity_is_404 ["5.6.17"];
    entities::merge_with_another_id_in_the_body_is_400 ["5.6.17"];
    entities::sys_attrs_created_at_is_kept_and_modified_at_moves ["5.7.1", "4.8"];
    entities::system_members_in_a_payload_are_ignored_or_refused ["5.6.1", "4.8"];
    entities::the_location_header_names_the_created_entity_whatever_its_id ["5.6.1"];
    entities::concurrent_appends_to_one_entity_lose_no_attribute ["5.6.3"];
    entities::concurrent_creates_of_one_id_succeed_exactly_once ["5.6.1"];
    entities::purge_entities_by_type_deletes_only_that_type ["5.6.21"];
    purge::purge_by_ids_or_id_pattern_alone_is_too_wide_and_deletes_nothing ["5.6.21", "6.4.3.3"];
    purge::purge_by_q_deletes_only_the_matching_entities ["5.6.21"];
    purge::purge_with_drop_deletes_only_those_attributes ["5.6.21", "6.4.3.3"];
    purge::purge_with_keep_deletes_every_other_attribute ["5.6.21", "6.4.3.3"];
    purge::purge_in_local_scope_alone_deletes_every_entity_of_the_tenant ["5.6.21", "5.5.13"];
    entities::replace_with_another_id_in_the_body_is_400 ["5.6.18"];
    entities::retrieve_projecting_nothing_is_404 ["5.7.1", "6.5.3.1", "4.21"];
    entities::dataset_id_parameter_keeps_only_those_instances ["4.5.5", "5.7.1", "5.7.2"];
    entities::resources_answer_with_a_trailing_slash ["6.1"];
    entities::unicode_names_round_trip_and_are_queryable ["4.6.2", "5.7.2"];
    entities::merge_with_ngsi_ld_null_removes_the_scope ["5.6.17", "4.18"];
    entities::concise_output_of_several_instances_reads_back_as_the_same_instances ["4.5.6", "5.6.1"];

    attrs::append_adds_new_and_overwrites_existing_attributes ["5.6.3"];
    attrs::append_with_no_overwrite_is_207_and_keeps_existing_values ["5.6.3"];
    attrs::append_to_missing_entity_is_404 ["5.6.3"];
    attrs::update_attrs_replaces_existing_attributes ["5.6.2"];
    attrs::update_attrs_appends_a_missing_attribute ["5.6.2"];
    attrs::update_attrs_with_ngsi_ld_null_deletes_the_attribute ["5.6.2"];
    attrs::patch_attrs_of_missing_entity_is_404 ["5.6.2"];
    attrs::partial_attribute_update_merges_the_given_members ["5.6.4"];
    attrs::partial_update_keeps_the_type_and_may_update_members_only ["5.6.4", "5.5.8"];
    attrs::partial_update_of_a_missing_attribute_is_404 ["5.6.4"];
    attrs::replace_attribute_replaces_it_whole ["5.6.19"];
    attrs::replace_of_a_missing_attribute_is_404 ["5.6.19"];
    attrs::delete_attribute_removes_it_then_404 ["5.6.5"];
    attrs::delete_attribute_with_dataset_id_removes_only_that_instance ["5.6.5"];
    attrs::delete_attribute_with_delete_all_removes_every_instance ["5.6.5"];
    attrs::append_with_a_dataset_id_adds_an_instance ["5.6.3"];
    attrs::attribute_bodies_are_validated ["5.6.2", "5.6.3", "5.6.4"];
    members::ids_with_characters_no_iri_admits_are_400 ["5.2.1", "4.5.1"];
    members::core_terms_and_embedded_contexts_are_refused_in_attributes ["4.5.1", "5.5.7"];
    members::members_an_attribute_kind_does_not_admit_are_400 ["4.5.2", "4.5.3", "4.5.18", "4.5.24"];
    members::the_ngsi_ld_null_outside_fragments_is_400 ["5.5.4", "5.6.1"];
    members::none_dataset_id_is_the_default_instance ["4.5.5"];
    members::vocabulary_property_is_rendered_as_vocab_property ["4.5.20"];
    members::names_not_starting_with_a_letter_are_400 ["4.6.2"];
    members::merge_and_replace_without_an_entity_id_are_400 ["5.6.17", "5.6.18"];
    members::dataset_id_is_never_the_ngsi_ld_null_and_a_new_one_adds_an_instance ["5.5.8", "5.6.2"];
    attr_selectors::type_selector_gates_attribute_writes ["4.17", "5.6.2", "5.6.3", "5.6.4", "5.6.19"];
    attr_selectors::type_selector_gates_attribute_and_entity_deletes ["4.17", "5.6.5", "5.6.6"];
    attr_selectors::update_attrs_adds_the_types_of_the_fragment ["5.6.2"];
    attr_selectors::append_replaces_the_scope_or_adds_to_it_with_no_overwrite ["4.18", "5.6.3"];
    attr_selectors::update_attrs_replaces_an_existing_scope_only ["4.18", "5.6.2"];
    attr_selectors::delete_attribute_scope_removes_the_scope ["4.18", "5.6.5"];
    attr_selectors::attribute_operations_without_an_entity_id_are_400 ["5.6.2", "5.6.3", "5.6.4", "5.6.5"];

    batch::batch_create_of_valid_entities_is_201_with_their_ids ["5.6.7"];
    batch::batch_create_with_existing_and_invalid_entities_is_207 ["5.6.7", "5.2.16"];
    batch::batch_create_with_a_duplicated_id_creates_it_once ["5.6.7"];
    batch::batch_bodies_that_are_not_arrays_or_empty_are_400 ["5.6.7", "5.6.8", "5.6.9", "5.6.10", "5.6.20"];
    batch::batch_upsert_creates_new_entities_with_201 ["5.6.8"];
    batch::batch_upsert_replaces_existing_entities_with_204 ["5.6.8"];
    batch::batch_upsert_with_update_option_keeps_other_attributes ["5.6.8"];
    batch::batch_upsert_with_an_invalid_entity_is_207 ["5.6.8", "5.2.16"];
    batch::batch_update_appends_attributes_and_reports_missing_entities ["5.6.9", "5.2.16"];
    batch::batch_update_of_existing_entities_is_204 ["5.6.9"];
    batch::batch_delete_removes_entities_and_reports_missing_ones ["5.6.10", "5.2.16"];
    batch::batch_delete_with_an_invalid_id_is_207 ["5.6.10", "5.2.16"];
    batch::batch_merge_merges_each_entity ["5.6.20"];
    batch::json_ld_batch_items_are_each_read_with_their_own_context ["5.6.7", "6.3.5"];
    batch::batch_upsert_with_a_duplicated_id_keeps_the_last_item ["5.6.8"];
    batch_items::a_null_item_fails_the_whole_batch ["5.6.7", "5.6.10"];
    batch_items::batch_delete_accepts_json_ld_without_a_context ["5.6.10", "6.3.5"];
    batch_items::batch_items_breaking_their_media_type_rule_fail_alone ["5.6.7", "6.3.5", "4.4"];
    batch_items::batch_update_reports_entities_left_unchanged_by_no_overwrite ["5.6.9", "5.6.3"];

    linked::join_inline_nests_each_level_in_its_relationship ["4.5.23", "5.7.1"];
    linked::join_flat_appends_each_linked_entity_once ["4.5.23", "5.7.1", "5.7.2"];
    linked::projections_through_relationships_project_linked_entities ["4.21", "5.7.1"];
    linked::q_through_a_relationship_matches_on_the_target ["4.9", "5.7.2"];
    linked::notifications_with_join_carry_the_linked_entities ["5.8.6", "5.2.14"];
    linked::a_subscription_q_through_a_relationship_notifies_matching_targets ["4.9", "5.8.6"];
    query::q_supports_every_comparison_operator ["5.7.2", "4.9"];
    query::raw_operators_quotes_and_spaces_in_the_query_string_work ["4.9", "6.3"];
    query::q_combines_terms_with_and_or_and_parentheses ["5.7.2", "4.9"];
    query::q_reaches_sub_attributes_dates_and_compound_members ["5.7.2", "4.9"];
    query::invalid_q_is_400 ["5.7.2", "4.9"];
    query::scope_q_selects_scopes_and_their_hierarchy ["5.7.2", "4.19"];
    query::type_expressions_select_or_and_and ["5.7.2", "4.17"];
    query::id_list_and_id_pattern_select_entities ["5.7.2"];
    query::id_pattern_matches_anywhere_in_the_id_like_orion_ld ["5.7.2"];
    query::attrs_selects_entities_having_them_and_projects ["5.7.2"];
    query::pick_and_omit_shape_the_entities ["5.7.2", "4.21"];
    query::pagination_is_stable_and_complete_and_counted ["5.7.2", "5.5.9"];
    query::limit_over_the_maximum_is_403_too_many_results ["5.7.2", "5.5.9"];
    query::query_without_any_filter_is_400 ["5.7.2"];
    query::query_matching_nothing_is_an_empty_array ["5.7.2"];
    query::post_query_takes_a_query_body ["6.23"];
    query::post_query_entity_selectors_are_alternatives ["6.23"];
    query::invalid_or_too_broad_query_bodies_are_400 ["6.23", "5.2.23", "5.2.33"];
    query::contradictory_or_malformed_query_parameters_are_400 ["5.7.1", "5.7.2", "4.10", "6.4.3.2"];
    query::pick_takes_pipes_as_commas ["4.21"];
    query::query_pages_link_to_their_neighbours ["5.5.9", "6.3.10"];
    order::order_by_sorts_before_paging_in_either_direction ["4.23", "6.4.3.2"];
    order::order_by_ranks_datatypes_and_collates_strings ["4.23.1", "4.23.2"];
    order::order_by_distance_puts_the_nearest_first ["4.23.1", "5.2.43"];
    order::invalid_orderings_are_400 ["5.7.2", "4.23.3", "5.2.43"];
    query::post_query_body_pick_and_omit_project ["5.2.23", "4.21"];
    query::pick_of_attributes_selects_the_entities_that_have_one ["5.7.2", "4.21"];
    query::q_matches_every_attribute_kind ["5.7.2", "4.9"];

    geo::near_with_max_distance_finds_close_points ["5.7.2", "4.10"];
    geo::near_with_min_distance_finds_far_points ["5.7.2", "4.10"];
    geo::near_measures_from_an_extended_reference_geometry ["5.7.2", "4.10"];
    geo::equals_finds_the_entity_with_the_same_polygon ["5.7.2", "4.10"];
    geo::a_geometry_collection_value_is_400_and_creates_nothing ["4.7.1", "5.6.1"];
    geo::within_intersects_and_disjoint_a_polygon ["5.7.2", "4.10"];
    geo::contains_equals_and_overlaps ["5.7.2", "4.10"];
    geo::geoproperty_selects_another_geo_property ["5.7.2", "4.10"];
    geo::post_query_takes_a_geo_query ["6.23", "4.10"];
    geo::invalid_geo_queries_are_400 ["5.7.2", "4.10"];
    geo::line_strings_multi_polygons_and_the_antimeridian ["5.7.2", "4.10"];

    formats::key_values_by_options_or_format_is_bare_values ["4.5", "6.3.7"];
    formats::concise_drops_types_and_keeps_members ["4.5"];
    formats::concise_input_is_accepted ["4.5", "5.6.1"];
    formats::every_kind_renders_in_key_values ["4.5"];
    formats::unknown_format_or_option_is_400 ["4.5", "6.3.7", "6.3.20"];
    formats::accept_json_ld_puts_the_context_in_the_body_and_no_link ["6.3.6"];
    formats::accept_json_gives_a_link_header ["6.3.6"];
    formats::accept_geo_json_gives_a_feature_and_a_feature_collection ["6.3.6", "4.5.16"];
    formats::accept_weights_follow_the_most_specific_range ["6.3.4"];
    formats::geo_json_embeds_the_context_unless_prefer_body_json ["6.3.6"];
    formats::unsupported_accept_is_406 ["6.3.6"];
    formats::unsupported_content_type_is_415 ["6.3.4"];
    formats::merge_patch_json_is_accepted_on_patch ["6.3.4"];
    formats::lang_picks_one_language_of_a_language_property ["4.15"];
    formats::content_type_parameters_are_accepted ["6.3.4"];
    formats::concise_output_is_accepted_back_as_the_same_entity ["4.5"];
    formats::relationship_object_types_round_trip ["4.5"];
    formats::geometry_property_chooses_the_feature_geometry ["6.3.6", "4.5.16"];
    formats::an_earlier_version_preference_reformats_entity_data ["6.3.6", "4.3.6.8"];
    formats::lang_applies_to_query_results_too ["4.15", "5.7.2"];

    context::core_context_only_expands_unknown_terms_to_the_default_vocabulary ["5.5.7"];
    context::link_header_context_expands_and_compacts_names ["5.5.7", "6.3.5"];
    context::inline_context_with_json_ld_is_used ["5.5.7", "6.3.5"];
    context::json_ld_without_context_is_400 ["6.3.4"];
    context::json_ld_with_a_link_header_is_400 ["6.3.4"];
    context::context_in_a_json_body_is_400 ["6.3.4"];
    context::unreachable_remote_context_is_504_ld_context_not_available ["5.5.7", "5.5.3"];
    context::malformed_link_header_is_400 ["6.3.5"];
    context::hosted_contexts_are_stored_served_listed_used_and_deleted ["5.13"];
    context::hosted_context_urls_use_the_public_url ["5.13"] (SpawnedBroker);
    context::hosting_a_body_without_context_is_400 ["5.13.2"];
    context::an_invalid_remote_context_is_400 ["5.5.6", "5.5.7"];
    context::a_context_with_a_number_in_its_array_is_400_before_any_fetch ["5.13.2"];
    context::cached_contexts_are_found_by_their_url_and_only_described ["5.13.4", "5.13.5"];
    context::the_core_context_is_listed_and_protected ["5.13.3", "5.13.5"];
    context::only_cached_contexts_can_be_reloaded ["5.13.5"];
    context::a_refused_request_registers_no_context ["5.13.1"];
    context::contexts_are_kept_apart_by_tenant ["5.13", "6.3.14"];
    context::an_inline_context_over_the_cap_is_413 ["5.5.7"] (SpawnedBroker);
    context::context_caches_stay_within_their_budget ["5.13"] (SpawnedBroker);

    tenancy::the_same_id_lives_separately_in_two_tenants ["4.14", "6.3.14"];
    tenancy::reading_an_unknown_tenant_is_404_nonexistent_tenant ["4.14", "6.3.14"];
    tenancy::the_tenant_header_is_echoed_on_responses ["6.3.14"];
    tenancy::creating_in_a_new_tenant_creates_the_tenant ["4.14"];
    tenancy::invalid_tenant_names_are_400 ["6.3.14"];
    tenancy::hosted_contexts_belong_to_their_tenant ["4.14", "5.13"];
    tenancy::local_true_lists_every_entity_of_the_tenant ["4.14", "5.7.2"];

    types::types_lists_the_entity_types ["5.7.5"];
    types::types_with_details_lists_attribute_names ["5.7.6"];
    types::type_information_counts_entities_and_describes_attributes ["5.7.7"];
    types::attributes_lists_the_attribute_names ["5.7.8"];
    types::attributes_with_details_and_one_attribute ["5.7.9", "5.7.10"];
    types::unknown_type_or_attribute_is_404 ["5.7.7", "5.7.10"];
    types::deleted_entities_leave_the_lists ["5.7.5", "5.7.8"];

    errors::malformed_json_is_400_invalid_request ["5.5.2", "6.3.2"];
    errors::empty_body_is_400_invalid_request ["5.5.2", "6.3.2"];
    errors::missing_content_type_is_415 ["6.3.4"];
    errors::chunked_body_without_content_length_is_a_bare_411 ["6.3.4"];
    errors::body_over_the_limit_is_413 ["6.3.2"] (SpawnedBroker);
    errors::unknown_uri_parameter_is_400 ["5.5.2", "6.3.20"];
    errors::invalid_ids_in_the_path_are_400 ["5.5.2"];
    errors::unknown_path_is_404 ["6.3.2"];
    errors::wrong_method_is_405 ["6.3.2"];
    errors::no_request_produces_a_server_error ["5.5.2", "5.5.3"];
    errors::deeply_nested_sub_attributes_never_take_the_broker_down ["5.5.3"] (SpawnedBroker);
    connection::refused_request_heads_are_problem_details ["6.3.2", "5.5.2"];
    connection::slow_heads_and_trickled_bodies_are_408 ["6.3.2"] (SpawnedBroker);
    connection::head_is_answered_like_get_without_a_body ["6.3.2"];
    limits::ids_and_names_beyond_the_limits_are_400 ["6.3.2", "5.5.2"];
    limits::batches_beyond_the_limit_are_413 ["6.3.2", "5.6.7"] (SpawnedBroker);
    limits::a_big_batch_does_not_stall_other_requests ["5.6.8"] (SpawnedBroker);
    bad_input::generated_bad_requests_get_problem_details_and_never_a_5xx ["6.3.2", "5.5.2"] (SpawnedBroker);
    auth::jwt_tokens_are_verified_and_grant_rights_per_tenant ["6.3.2"] (SpawnedBroker);
    auth::a_jwks_url_is_fetched_under_the_egress_policy ["6.3.2"] (SpawnedBroker);
    tls::https_is_served_with_the_given_certificate ["6.1"] (SpawnedBroker);
    tls::an_incomplete_tls_configuration_stops_the_broker_at_start ["6.1"] (SpawnedBroker);
    egress::denied_networks_are_not_reached_for_contexts ["5.5.7"] (SpawnedBroker);
    egress::names_are_judged_by_their_addresses_and_allow_lists_admit_only_theirs ["5.5.7"] (SpawnedBroker);
    egress::failed_fetches_do_not_tell_what_is_behind_them ["5.5.7", "6.3.2"] (SpawnedBroker);
    egress::denied_notification_endpoints_are_refused_or_fail ["5.8.1", "5.2.12"] (SpawnedBroker);

    durability::acknowledged_writes_survive_sigkill [] (SpawnedBroker);
    durability::tenants_and_hosted_contexts_survive_a_restart [] (SpawnedBroker);
    durability::acknowledged_batch_writes_survive_sigkill [] (SpawnedBroker);
    durability::concurrently_acknowledged_writes_survive_sigkill [] (SpawnedBroker);

    source_identity::the_source_identity_names_the_broker_and_each_tenant ["5.15.1", "5.2.40"];
    meta::version_answers_with_json [];
    meta::health_is_200 [];
    meta::metrics_are_prometheus_text [];

    transient::an_entity_is_removed_once_its_expiry_has_passed ["4.23"];
    transient::an_entity_merged_to_a_past_expiry_is_not_served_at_once ["4.22", "5.6.17"];
    transient::an_invalid_expiry_is_400 ["4.23"];
    transient::a_transient_attribute_expires_and_the_entity_stays ["4.22", "5.2.5", "5.2.6"];
    transient::merging_a_null_expiry_makes_the_entity_permanent ["4.22", "5.5.4", "5.6.17"];

    csource_registrations::register_is_201_with_location_and_retrieve_renders_it ["5.9.2", "5.10.1", "5.2.9", "6.8.3.1"];
    csource_registrations::register_without_id_generates_one ["5.9.2"];
    csource_registrations::register_with_an_existing_id_is_409_already_exists ["5.9.2"];
    csource_registrations::invalid_registrations_are_400_bad_request_data ["5.9.2", "5.2.9", "5.2.10", "5.2.34", "4.3.6.6", "4.20"];
    csource_registrations::patch_merges_the_fragment_and_keeps_the_rest ["5.9.3", "5.5.8"];
    csource_registrations::delete_removes_the_registration_and_missing_ones_are_404 ["5.9.4", "5.10.1"];
    csource_registrations::query_matches_entity_info_and_attribute_names ["5.10.2", "5.12"];
    csource_registrations::query_without_a_type_attrs_q_or_geoquery_is_400 ["5.10.2"];
    csource_registrations::query_filters_on_csf_scope_location_and_time_intervals ["5.10.2", "4.9", "4.10", "4.11", "4.19"];
    csource_registrations::query_pages_with_limit_offset_and_count ["5.10.2", "5.5.9", "6.3.10", "6.3.13"];
    csource_registrations::names_are_compacted_with_the_readers_context ["5.10.1", "5.5.7"];
    csource_registrations::proxied_registrations_that_overlap_are_409_conflict ["4.3.6.3", "5.9.2"];
    csource_registrations::registrations_are_scoped_by_tenant ["4.14", "5.9.2"];
    csource_registrations::an_expired_registration_is_no_longer_served ["5.9.2"];
    csource_registrations::other_methods_are_405_with_allow ["6.8", "6.9"];

    csource_subscriptions::create_is_201_with_location_and_retrieve_renders_it ["5.11.2", "5.11.4", "5.2.12", "6.10.3.1"];
    csource_subscriptions::create_with_an_existing_id_is_409_already_exists ["5.11.2"];
    csource_subscriptions::invalid_csource_subscriptions_are_400_bad_request_data ["5.11.2", "5.2.12", "5.2.21"];
    csource_subscriptions::list_pages_with_limit_offset_and_count ["5.11.5", "6.3.10", "6.3.13"];
    csource_subscriptions::patch_merges_and_delete_removes_the_subscription ["5.11.3", "5.11.6", "5.5.8"];
    csource_subscriptions::registration_changes_notify_with_their_trigger_reason ["5.11.7", "5.3.2", "5.12"];
    csource_subscriptions::a_new_subscription_is_notified_of_the_matching_registrations ["5.11.2", "5.11.7", "5.12"];
    csource_subscriptions::a_periodic_subscription_is_notified_each_interval ["5.11.2", "5.11.7"];
    csource_subscriptions::delivery_outcomes_show_in_the_notification_status ["5.11.7", "5.2.14"];
    csource_subscriptions::other_methods_are_405_with_allow ["6.10", "6.11"];

    subscriptions::create_is_201_with_location_and_retrieve_renders_the_subscription ["5.8.1", "5.8.3", "5.2.12"];
    subscriptions::create_with_an_existing_id_is_409_already_exists ["5.8.1"];
    subscriptions::list_pages_with_limit_offset_and_count ["5.8.4", "5.5.9"];
    subscriptions::patch_replaces_the_given_members_and_keeps_the_others ["5.8.2"];
    subscriptions::delete_removes_the_subscription_and_missing_ones_are_404 ["5.8.5"];
    subscriptions::a_deleted_subscription_no_longer_notifies ["5.8.5", "5.11"];
    subscriptions::invalid_subscriptions_are_400_bad_request_data ["5.8.1", "5.2.12"];
    subscriptions::entity_created_fires_for_create_batch_create_and_batch_upsert ["5.11", "5.2.12"];
    subscriptions::entity_updated_fires_for_every_kind_of_update ["5.11", "5.2.12"];
    subscriptions::entity_deleted_fires_for_delete_and_batch_delete ["5.11", "5.2.12"];
    subscriptions::attribute_created_fires_for_new_attributes_only ["5.11", "5.2.12"];
    subscriptions::attribute_updated_fires_for_every_kind_of_attribute_update ["5.11", "5.2.12"];
    subscriptions::attribute_deleted_fires_for_delete_attr_merge_with_null_and_put ["5.11", "5.2.12"];
    subscriptions::watched_attributes_limit_which_changes_notify ["5.11", "5.2.12"];
    subscriptions::formats_normalized_concise_and_key_values ["5.2.14", "5.3.1"];
    subscriptions::notification_attributes_and_sys_attrs_shape_the_entity ["5.2.14", "5.3.1"];
    subscriptions::show_changes_adds_the_previous_value ["5.2.14", "5.3.1"];
    subscriptions::accept_ld_json_puts_the_context_in_the_body_and_json_in_a_link_header ["5.2.15", "5.3.1"];
    subscriptions::notifications_use_the_context_of_the_creating_request ["5.11", "5.3.1"];
    subscriptions::receiver_info_arrives_as_headers ["5.2.15"];
    subscriptions::q_filters_the_notified_entities ["5.11", "4.9"];
    subscriptions::geo_q_filters_the_notified_entities ["5.11", "4.10"];
    subscriptions::throttling_skips_notifications_within_the_period ["5.11", "5.2.12"];
    subscriptions::time_interval_notifies_the_matching_entities_periodically ["5.11", "5.2.12"];
    subscriptions::expired_subscription_stops_notifying ["5.11", "5.2.12"];
    subscriptions::is_active_pauses_and_resumes ["5.8.2", "5.2.12"];
    subscriptions::a_receiver_down_then_up_shows_failed_then_ok ["5.2.14"];
    subscriptions::an_endpoint_answering_errors_counts_as_failed ["5.2.14"];
    subscriptions::a_hanging_endpoint_shows_failed_after_one_timeout ["5.2.14"] (SpawnedBroker);
    subscriptions::dropped_notifications_are_not_counted_as_failed ["5.2.14"] (SpawnedBroker);
    subscriptions::a_subscription_never_fires_for_another_tenant ["5.11", "4.14"];
    subscriptions::subscriptions_survive_a_restart ["5.8.1"] (SpawnedBroker);
    subscriptions::jsonld_context_is_initialized_from_the_creating_request ["5.8.1", "5.8.6", "5.13.1"] (SpawnedBroker);
    subscriptions::mqtt_endpoint_gets_the_notification ["5.2.15", "5.3.1"] (Mqtt);
    notifications::deleted_attributes_are_notified_as_ngsi_ld_null ["5.8.6"];
    notifications::a_deleted_dataset_instance_is_notified_beside_the_others ["5.8.6"];
    notifications::a_deleted_entity_with_sys_attrs_carries_created_and_modified_at ["5.8.6"];
    notifications::deleting_an_entity_fires_attribute_deleted_for_watched_attributes ["5.8.6", "5.2.12"];
    notifications::a_deleted_entity_with_show_changes_carries_previous_values ["5.8.6", "5.2.14"];
    notifications::notification_pick_and_omit_project_the_entity ["5.8.6", "5.2.14", "4.21"];
    notifications::dataset_id_selects_the_notified_instances ["5.8.6", "5.2.12", "4.5.5"];
    notifications::sys_attrs_apply_to_simplified_notifications ["5.2.14", "5.8.6"];
    notifications::deleting_all_instances_notifies_one_null ["5.8.6"];
    subscriptions::selector_types_are_compacted_with_the_readers_context ["5.8.3", "5.5.7"];
    subscriptions::retrieve_shows_created_and_modified_at_only_with_sys_attrs ["5.8.3", "5.2.12", "4.8"];
    temporal::created_evolution_is_retrieved_oldest_first_with_instance_ids ["5.6.11", "5.7.3", "4.5.7"];
    temporal::entity_api_writes_are_recorded_as_instances ["4.5.6", "5.7.3", "4.8"];
    temporal::timerel_selects_instances_in_the_interval ["5.7.4", "4.11"];
    temporal::temporal_values_pair_each_value_with_its_time ["5.7.3", "4.5.9"];
    temporal::aggregated_values_are_computed_per_period ["5.7.3", "4.5.19"];
    temporal::attributes_and_instances_are_added_modified_and_deleted ["5.6.12", "5.6.13", "5.6.14", "5.6.15", "5.6.16"];
    temporal::query_by_post_takes_the_temporal_query_from_the_body ["5.7.4", "6.24", "5.2.21"];
    temporal::a_large_evolution_is_answered_in_time_ranges ["6.3.10"] (SpawnedBroker);
    temporal::invalid_temporal_requests_are_400 ["5.6.11", "5.7.4"];
    temporal::retention_drops_old_instances_and_keeps_recent_ones ["4.5.6"] (SpawnedBroker);
    temporal::scope_q_follows_the_scopes_evolution ["4.18", "5.7.4", "4.19"];
    temporal::temporal_off_records_nothing_and_refuses_the_temporal_api ["5.6.11", "5.7.3"] (SpawnedBroker);
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_filters_match_clause_boundaries() {
        let mut ids: Vec<String> = all().iter().map(Case::id).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "a case is registered twice");
        let query = all()
            .iter()
            .find(|c| c.name == "invalid_q_is_400")
            .expect("registered");
        assert!(query.matches("5.7") && query.matches("5.7.2") && query.matches("4.9"));
        assert!(query.matches("query") && query.matches("query::invalid_q_is_400"));
        assert!(!query.matches("5.7.2.1") && !query.matches("4.91"));
    }
}
