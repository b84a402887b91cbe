//! The port contract: behaviour every adapter must show, written once against
//! the traits and run over each adapter by `contract_suite!`.

mod accounts;
mod admin;
mod catalog;
mod lifecycle;
mod order_book;
mod orders;
mod promotions;
mod uploads;

pub use accounts::*;
pub use admin::*;
pub use catalog::*;
pub use lifecycle::*;
pub use order_book::*;
pub use orders::*;
pub use promotions::*;
pub use uploads::*;

use galley_shared::ports::{
    AppliedEvents, AuditLog, Catalog, ChargeLedger, IdempotencyRecords, LoginAttempts, OrderBook, Orders, Outbox,
    ProductRecords, Promotions, SearchIndex, Sessions, Stock, UploadRecords, Users,
};

/// Every port a full adapter implements.
pub trait Store:
    Catalog
    + ChargeLedger
    + Stock
    + SearchIndex
    + Users
    + Sessions
    + LoginAttempts
    + Orders
    + OrderBook
    + IdempotencyRecords
    + Outbox
    + UploadRecords
    + ProductRecords
    + AuditLog
    + AppliedEvents
    + Promotions
    + 'static
{
}
impl<T> Store for T where
    T: Catalog
        + ChargeLedger
        + Stock
        + SearchIndex
        + Users
        + Sessions
        + LoginAttempts
        + Orders
        + OrderBook
        + IdempotencyRecords
        + Outbox
        + UploadRecords
        + ProductRecords
        + AuditLog
        + AppliedEvents
        + Promotions
        + 'static
{
}

/// Generates one `#[tokio::test]` per contract case for an adapter;
/// `$make` gives `(Arc<store>, guard)`. Every `pub async fn` of this
/// module is a case, and a test holds this list equal to them.
#[macro_export]
macro_rules! contract_suite {
    ($adapter:ident, $make:expr) => {
        mod $adapter {
            #[allow(unused_imports)]
            use super::*;
            $crate::contract_suite!(@cases $make;
                conditional_put_refuses_an_existing_key,
                upsert_writes_and_rewrites_products,
                batch_read_returns_known_products_in_request_order,
                empty_catalog_is_reported,
                reservation_takes_every_line,
                transaction_with_one_failing_condition_changes_nothing,
                lines_must_name_distinct_products,
                concurrent_decrements_never_oversell,
                index_finds_terms_and_prefixes,
                a_common_term_is_cut_off_and_probed_by_key,
                a_term_is_read_in_title_order_from_any_key,
                rewriting_a_product_drops_its_stale_index_entries,
                created_products_are_indexed,
                listing_is_in_title_order_filtered_and_resumable,
                emails_are_unique_under_racing_registrations,
                sessions_expire_rotate_and_revoke,
                racing_refreshes_with_one_token_rotate_once,
                login_attempts_lock_after_the_limit_and_lift_after_the_window,
                login_attempts_hold_the_limit_over_any_span_of_the_window,
                parallel_login_attempts_never_exceed_the_limit,
                placing_takes_stock_and_records_the_order_on_the_lease,
                placing_without_enough_stock_changes_nothing,
                confirming_completes_the_record_and_fills_the_outbox,
                declining_gives_the_stock_back,
                leases_follow_fingerprint_expiry_and_scope,
                a_lapsed_holder_cannot_place_or_confirm,
                concurrent_leases_of_one_key_admit_one,
                pending_orders_are_found_by_age_and_settled_once,
                an_order_awaiting_its_customer_is_left_to_the_webhook_until_its_wait_ends,
                each_gateway_event_is_recorded_once,
                a_record_pointing_at_a_pending_order_never_expires,
                the_charge_ledger_keeps_the_first_outcome_of_each_order,
                a_receipt_has_one_sender_at_a_time,
                orders_list_newest_first_own_only,
                upload_records_are_owned_and_change_state_only_as_allowed,
                pending_uploads_are_capped_and_freed_by_arrival_or_expiry,
                roles_are_granted_and_revoked_on_the_account,
                admin_writes_are_conditional_and_audited_with_their_change,
                archived_products_leave_every_public_read,
                an_import_keeps_archives_and_moves_versions,
                record_listings_filter_in_title_order_and_resume,
                record_search_matches_live_and_archived_products,
                an_admin_write_completes_its_key_or_nothing,
                the_audit_log_pages_newest_first,
                an_audit_page_is_whole_however_large_its_entries,
                orders_are_found_by_id_whoever_placed_them_with_their_history,
                every_order_lists_newest_first_by_status_and_customer,
                a_move_writes_only_on_the_version_it_was_judged_on,
                a_refund_being_asked_is_found_until_settled,
                a_cancel_gives_the_stock_back_once_with_its_notice,
                promotion_codes_are_unique_ignoring_case_and_listed_in_code_order,
                a_promotion_edit_holds_its_version_and_stays_above_the_redemptions,
                a_capped_code_is_redeemed_within_its_cap_and_a_decline_gives_it_back,
                a_once_per_customer_code_is_one_redemption_per_customer_until_given_back,
                a_cancellation_gives_the_redemption_back,
                racing_checkouts_never_redeem_past_the_cap,
                the_largest_cart_redeems_a_capped_once_per_customer_code
            );
        }
    };
    (@cases $make:expr; $($case:ident),*) => {
        /// Every case this adapter runs, for the check that none was
        /// written and left out.
        pub const CASES: &[&str] = &[$(stringify!($case)),*];
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                // The guard keeps the store's resources (a temp dir) alive.
                let (store, _guard) = $make;
                $crate::contract::$case(store).await;
            }
        )*
    };
}
