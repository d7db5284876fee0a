//! The storage story: every rule of the secret lifecycle, told through the real Rust SDK,
//! against SQLite and against PostgreSQL. Each story runs on both backends.

use std::sync::Arc;

use aws_sdk_secretsmanager::primitives::Blob;
use aws_sdk_secretsmanager::types::{
    Filter, FilterNameStringType, ReplicaRegionType, SortOrderType, Tag,
};
use tumbler::clock::{MILLIS_PER_DAY, ManualClock, Millis};

use crate::harness::{Backend, TestServer, err_of, postgres_url, unique};

const TOKEN_A: &str = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const TOKEN_B: &str = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
const TOKEN_C: &str = "cccccccc-cccc-4ccc-8ccc-cccccccccccc";

on_both_backends!(
    create_then_get_returns_the_value_labelled_awscurrent,
    create_without_a_value_makes_a_secret_without_versions,
    create_with_the_same_token_and_value_is_idempotent_and_another_value_clashes,
    create_of_an_existing_name_is_resource_exists,
    put_moves_awscurrent_and_hands_awsprevious_to_the_old_current,
    put_with_custom_stages_moves_only_those_labels,
    put_with_a_used_token_replays_or_clashes,
    update_secret_without_a_value_makes_no_version,
    update_secret_version_stage_moves_labels_by_the_rules,
    deprecated_versions_are_listed_only_with_include_deprecated,
    reads_by_version_id_and_stage_report_precise_errors,
    secrets_are_found_by_name_full_arn_and_partial_arn,
    deleted_secrets_can_be_described_and_restored_but_not_used,
    force_delete_removes_at_once_and_succeeds_for_missing_secrets,
    purge_removes_secrets_after_their_recovery_window,
    tags_append_replace_and_remove_and_show_empty_after_the_last,
    list_secrets_filters_sorts_and_pages,
    batch_get_reports_missing_secrets_as_errors,
    binary_values_round_trip_and_values_are_limited_to_65536_bytes,
    reads_set_last_accessed_date_to_midnight_utc,
    regions_are_separate_namespaces,
    replicas_are_read_only_copies_in_step_with_their_primary,
    resource_policies_are_stored_checked_and_removed,
    rotate_secret_without_a_function_fails_and_stores_nothing,
    concurrent_puts_lose_no_version,
    kms_key_id_is_recorded_and_the_default_left_out,
    a_value_put_by_hand_abandons_a_pending_rotation,
);

async fn create_then_get_returns_the_value_labelled_awscurrent(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("prod/db");
    let created = c
        .create_secret()
        .name(&name)
        .secret_string("s3cr3t")
        .description("d")
        .send()
        .await
        .unwrap();
    let arn = created.arn().unwrap();
    assert!(arn.starts_with(&format!(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-"
    )));
    assert_eq!(
        arn.len(),
        format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-").len() + 6
    );
    let version = created.version_id().unwrap().to_owned();
    let got = c.get_secret_value().secret_id(&name).send().await.unwrap();
    assert_eq!(got.secret_string(), Some("s3cr3t"));
    assert_eq!(got.version_id(), Some(version.as_str()));
    assert_eq!(got.version_stages(), ["AWSCURRENT"]);
    assert!(got.created_date().is_some());
    let d = c.describe_secret().secret_id(&name).send().await.unwrap();
    assert_eq!(d.description(), Some("d"));
    assert_eq!(d.kms_key_id(), None, "the default key is left out");
    assert_eq!(
        d.rotation_enabled(),
        None,
        "never-configured rotation is absent"
    );
    assert_eq!(d.tags().len(), 0);
    assert_eq!(d.version_ids_to_stages().unwrap()[&version], ["AWSCURRENT"]);
    let created_ms = d.created_date().unwrap().to_millis().unwrap();
    assert_ne!(created_ms % 1000, -1, "millisecond precision is kept");
    server.stop().await;
}

async fn create_without_a_value_makes_a_secret_without_versions(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("empty");
    let created = c.create_secret().name(&name).send().await.unwrap();
    assert_eq!(created.version_id(), None);
    let d = c.describe_secret().secret_id(&name).send().await.unwrap();
    assert!(d.version_ids_to_stages().is_none());
    let e = err_of(
        c.get_secret_value()
            .secret_id(&name)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "ResourceNotFoundException".into(),
            "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT"
                .into()
        )
    );
    // The first value put later becomes current.
    let put = c
        .put_secret_value()
        .secret_id(&name)
        .secret_string("v1")
        .version_stages("custom")
        .send()
        .await
        .unwrap();
    assert_eq!(put.version_stages(), ["AWSCURRENT", "custom"]);
    server.stop().await;
}

async fn create_with_the_same_token_and_value_is_idempotent_and_another_value_clashes(
    backend: Backend,
) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("idem");
    let a = c
        .create_secret()
        .name(&name)
        .client_request_token(TOKEN_A)
        .secret_string("v")
        .send()
        .await
        .unwrap();
    let b = c
        .create_secret()
        .name(&name)
        .client_request_token(TOKEN_A)
        .secret_string("v")
        .send()
        .await
        .unwrap();
    assert_eq!(a.arn(), b.arn());
    assert_eq!(b.version_id(), Some(TOKEN_A));
    let e = err_of(
        c.create_secret()
            .name(&name)
            .client_request_token(TOKEN_A)
            .secret_string("other")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "ResourceExistsException");
    assert_eq!(
        e.1,
        format!(
            "You can't use ClientRequestToken {TOKEN_A} because that value is already in use for a version of secret {}.",
            a.arn().unwrap()
        )
    );
    server.stop().await;
}

async fn create_of_an_existing_name_is_resource_exists(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("dup");
    c.create_secret()
        .name(&name)
        .secret_string("v")
        .send()
        .await
        .unwrap();
    let e = err_of(
        c.create_secret()
            .name(&name)
            .secret_string("v")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "ResourceExistsException".into(),
            format!("The operation failed because the secret {name} already exists.")
        )
    );
    let e = err_of(
        c.create_secret()
            .name("bad name!")
            .secret_string("v")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e, ("ValidationException".into(), "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!".into()));
    server.stop().await;
}

async fn put_moves_awscurrent_and_hands_awsprevious_to_the_old_current(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("put");
    c.create_secret()
        .name(&name)
        .client_request_token(TOKEN_A)
        .secret_string("1")
        .send()
        .await
        .unwrap();
    let p = c
        .put_secret_value()
        .secret_id(&name)
        .client_request_token(TOKEN_B)
        .secret_string("2")
        .send()
        .await
        .unwrap();
    assert_eq!(p.version_id(), Some(TOKEN_B));
    assert_eq!(p.version_stages(), ["AWSCURRENT"]);
    c.put_secret_value()
        .secret_id(&name)
        .client_request_token(TOKEN_C)
        .secret_string("3")
        .send()
        .await
        .unwrap();
    let d = c.describe_secret().secret_id(&name).send().await.unwrap();
    let map = d.version_ids_to_stages().unwrap();
    assert_eq!(
        map.len(),
        2,
        "the oldest version is deprecated and left out: {map:?}"
    );
    assert_eq!(map[TOKEN_B], ["AWSPREVIOUS"]);
    assert_eq!(map[TOKEN_C], ["AWSCURRENT"]);
    let prev = c
        .get_secret_value()
        .secret_id(&name)
        .version_stage("AWSPREVIOUS")
        .send()
        .await
        .unwrap();
    assert_eq!(prev.secret_string(), Some("2"));
    server.stop().await;
}

async fn put_with_custom_stages_moves_only_those_labels(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("stages");
    c.create_secret()
        .name(&name)
        .client_request_token(TOKEN_A)
        .secret_string("0")
        .send()
        .await
        .unwrap();
    c.put_secret_value()
        .secret_id(&name)
        .client_request_token(TOKEN_B)
        .secret_string("1")
        .set_version_stages(Some(vec!["one".into(), "two".into(), "three".into()]))
        .send()
        .await
        .unwrap();
    let p = c
        .put_secret_value()
        .secret_id(&name)
        .client_request_token(TOKEN_C)
        .secret_string("2")
        .set_version_stages(Some(vec!["one".into(), "two".into(), "four".into()]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        p.version_stages(),
        ["four", "one", "two"],
        "labels come back sorted"
    );
    let map = c
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap()
        .version_ids_to_stages()
        .unwrap()
        .clone();
    assert_eq!(
        map[TOKEN_A],
        ["AWSCURRENT"],
        "AWSCURRENT does not move unless listed"
    );
    assert_eq!(map[TOKEN_B], ["three"]);
    server.stop().await;
}

async fn put_with_a_used_token_replays_or_clashes(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("replay");
    let created = c
        .create_secret()
        .name(&name)
        .secret_string("0")
        .send()
        .await
        .unwrap();
    c.put_secret_value()
        .secret_id(&name)
        .client_request_token(TOKEN_B)
        .secret_string("1")
        .send()
        .await
        .unwrap();
    c.put_secret_value()
        .secret_id(&name)
        .client_request_token(TOKEN_C)
        .secret_string("2")
        .send()
        .await
        .unwrap();
    // Replaying an old put changes nothing and reports the labels it has now.
    let replay = c
        .put_secret_value()
        .secret_id(&name)
        .client_request_token(TOKEN_B)
        .secret_string("1")
        .send()
        .await
        .unwrap();
    assert_eq!(replay.version_stages(), ["AWSPREVIOUS"]);
    let current = c.get_secret_value().secret_id(&name).send().await.unwrap();
    assert_eq!(current.secret_string(), Some("2"));
    let e = err_of(
        c.put_secret_value()
            .secret_id(&name)
            .client_request_token(TOKEN_B)
            .secret_string("x")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "ResourceExistsException");
    assert!(e.1.ends_with(&format!("version of secret {}.", created.arn().unwrap())));
    let e = err_of(
        c.put_secret_value()
            .secret_id(&name)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "InvalidRequestException".into(),
            "You must provide either SecretString or SecretBinary.".into()
        )
    );
    server.stop().await;
}

async fn update_secret_without_a_value_makes_no_version(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("upd");
    c.create_secret()
        .name(&name)
        .secret_string("0")
        .send()
        .await
        .unwrap();
    let before = c.describe_secret().secret_id(&name).send().await.unwrap();
    let u = c
        .update_secret()
        .secret_id(&name)
        .description("new")
        .send()
        .await
        .unwrap();
    assert_eq!(u.version_id(), None);
    let after = c.describe_secret().secret_id(&name).send().await.unwrap();
    assert_eq!(after.description(), Some("new"));
    assert!(after.last_changed_date().unwrap() >= before.last_changed_date().unwrap());
    let u = c
        .update_secret()
        .secret_id(&name)
        .client_request_token(TOKEN_B)
        .secret_string("1")
        .send()
        .await
        .unwrap();
    assert_eq!(u.version_id(), Some(TOKEN_B));
    let got = c.get_secret_value().secret_id(&name).send().await.unwrap();
    assert_eq!(got.secret_string(), Some("1"));
    // Replaying the same update is a no-op that still names the version.
    let u = c
        .update_secret()
        .secret_id(&name)
        .client_request_token(TOKEN_B)
        .secret_string("1")
        .send()
        .await
        .unwrap();
    assert_eq!(u.version_id(), Some(TOKEN_B));
    server.stop().await;
}

async fn update_secret_version_stage_moves_labels_by_the_rules(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("uvs");
    c.create_secret()
        .name(&name)
        .client_request_token(TOKEN_A)
        .secret_string("0")
        .send()
        .await
        .unwrap();
    c.put_secret_value()
        .secret_id(&name)
        .client_request_token(TOKEN_B)
        .secret_string("1")
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    let e = err_of(
        c.update_secret_version_stage()
            .secret_id(&name)
            .version_stage("AWSCURRENT")
            .move_to_version_id(TOKEN_B)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "InvalidParameterException".into(),
            format!(
                "The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version {TOKEN_A}, so you must explicitly reference that version in RemoveFromVersionId."
            )
        )
    );
    let e = err_of(
        c.update_secret_version_stage()
            .secret_id(&name)
            .version_stage("AWSCURRENT")
            .remove_from_version_id(TOKEN_A)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e, ("InvalidParameterException".into(), "You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed.".into()));
    let r = c
        .update_secret_version_stage()
        .secret_id(&name)
        .version_stage("AWSCURRENT")
        .remove_from_version_id(TOKEN_A)
        .move_to_version_id(TOKEN_B)
        .send()
        .await
        .unwrap();
    assert_eq!(r.name(), Some(name.as_str()));
    let map = c
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap()
        .version_ids_to_stages()
        .unwrap()
        .clone();
    assert_eq!(map[TOKEN_A], ["AWSPREVIOUS"]);
    assert_eq!(map[TOKEN_B], ["AWSCURRENT", "AWSPENDING"]);
    c.update_secret_version_stage()
        .secret_id(&name)
        .version_stage("AWSPENDING")
        .remove_from_version_id(TOKEN_B)
        .send()
        .await
        .unwrap();
    let map = c
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap()
        .version_ids_to_stages()
        .unwrap()
        .clone();
    assert_eq!(map[TOKEN_B], ["AWSCURRENT"]);
    server.stop().await;
}

async fn deprecated_versions_are_listed_only_with_include_deprecated(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("depr");
    c.create_secret()
        .name(&name)
        .client_request_token(TOKEN_A)
        .secret_string("0")
        .send()
        .await
        .unwrap();
    c.put_secret_value()
        .secret_id(&name)
        .client_request_token(TOKEN_B)
        .secret_string("1")
        .send()
        .await
        .unwrap();
    c.put_secret_value()
        .secret_id(&name)
        .client_request_token(TOKEN_C)
        .secret_string("2")
        .send()
        .await
        .unwrap();
    let l = c
        .list_secret_version_ids()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(l.versions().len(), 2);
    assert_eq!(l.name(), Some(name.as_str()));
    let l = c
        .list_secret_version_ids()
        .secret_id(&name)
        .include_deprecated(true)
        .send()
        .await
        .unwrap();
    assert_eq!(l.versions().len(), 3);
    let old = l
        .versions()
        .iter()
        .find(|v| v.version_id() == Some(TOKEN_A))
        .unwrap();
    assert!(
        old.version_stages().is_empty(),
        "a deprecated version has no VersionStages"
    );
    assert_eq!(old.kms_key_ids(), ["DefaultEncryptionKey"]);
    // Its value stays readable by VersionId.
    let v = c
        .get_secret_value()
        .secret_id(&name)
        .version_id(TOKEN_A)
        .send()
        .await
        .unwrap();
    assert_eq!(v.secret_string(), Some("0"));
    assert!(v.version_stages().is_empty());
    server.stop().await;
}

async fn reads_by_version_id_and_stage_report_precise_errors(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("errs");
    c.create_secret()
        .name(&name)
        .client_request_token(TOKEN_A)
        .secret_string("0")
        .send()
        .await
        .unwrap();
    let e = err_of(
        c.get_secret_value()
            .secret_id(&name)
            .version_id(TOKEN_B)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "ResourceNotFoundException".into(),
            format!(
                "Secrets Manager can't find the specified secret value for VersionId: {TOKEN_B}"
            )
        )
    );
    let e = err_of(
        c.get_secret_value()
            .secret_id(&name)
            .version_stage("NOPE")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "ResourceNotFoundException".into(),
            "Secrets Manager can't find the specified secret value for staging label: NOPE".into()
        )
    );
    let e = err_of(
        c.get_secret_value()
            .secret_id(&name)
            .version_id(TOKEN_A)
            .version_stage("AWSPREVIOUS")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "InvalidRequestException".into(),
            "You provided a VersionStage that is not associated to the provided VersionId.".into()
        )
    );
    let e = err_of(
        c.get_secret_value()
            .secret_id(unique("missing"))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "ResourceNotFoundException".into(),
            "Secrets Manager can't find the specified secret.".into()
        )
    );
    server.stop().await;
}

async fn secrets_are_found_by_name_full_arn_and_partial_arn(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("arn/x");
    let arn = c
        .create_secret()
        .name(&name)
        .secret_string("v")
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let partial = &arn[..arn.len() - 7];
    for id in [name.as_str(), arn.as_str(), partial] {
        let got = c.get_secret_value().secret_id(id).send().await.unwrap();
        assert_eq!(got.arn(), Some(arn.as_str()), "{id}");
    }
    // A name that itself ends like a suffix can't be found by partial ARN (spec §2).
    let tricky = format!("{}-a1b2c3", unique("t"));
    let tricky_arn = c
        .create_secret()
        .name(&tricky)
        .secret_string("v")
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let tricky_partial = &tricky_arn[..tricky_arn.len() - 7];
    let e = err_of(
        c.get_secret_value()
            .secret_id(tricky_partial)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "ResourceNotFoundException");
    assert!(c.get_secret_value().secret_id(&tricky).send().await.is_ok());
    // A name ending in "-xxxx" (not six) works by partial ARN.
    let short = format!("{}-a1b2", unique("s"));
    let short_arn = c
        .create_secret()
        .name(&short)
        .secret_string("v")
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    assert!(
        c.get_secret_value()
            .secret_id(&short_arn[..short_arn.len() - 7])
            .send()
            .await
            .is_ok()
    );
    server.stop().await;
}

async fn deleted_secrets_can_be_described_and_restored_but_not_used(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("del");
    c.create_secret()
        .name(&name)
        .secret_string("v")
        .send()
        .await
        .unwrap();
    let d = c
        .delete_secret()
        .secret_id(&name)
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();
    let deletion = d.deletion_date().unwrap().secs();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((deletion - now - 7 * 86400).abs() < 60);
    let marked = (
        "InvalidRequestException".to_owned(),
        "You can't perform this operation on the secret because it was marked for deletion."
            .to_owned(),
    );
    assert_eq!(
        err_of(
            c.get_secret_value()
                .secret_id(&name)
                .send()
                .await
                .unwrap_err()
        ),
        marked
    );
    assert_eq!(
        err_of(
            c.put_secret_value()
                .secret_id(&name)
                .secret_string("x")
                .send()
                .await
                .unwrap_err()
        ),
        marked
    );
    assert_eq!(
        err_of(
            c.tag_resource()
                .secret_id(&name)
                .tags(Tag::builder().key("k").value("v").build())
                .send()
                .await
                .unwrap_err()
        ),
        marked
    );
    assert_eq!(
        err_of(c.delete_secret().secret_id(&name).send().await.unwrap_err()),
        marked
    );
    let e = err_of(
        c.create_secret()
            .name(&name)
            .secret_string("v")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e, ("InvalidRequestException".into(), "You can't create this secret because a secret with this name is already scheduled for deletion.".into()));
    let described = c.describe_secret().secret_id(&name).send().await.unwrap();
    assert!(described.deleted_date().is_some());
    let listed = c
        .list_secrets()
        .filters(
            Filter::builder()
                .key(FilterNameStringType::Name)
                .values(&name)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(
        listed.secret_list().is_empty(),
        "hidden without IncludePlannedDeletion"
    );
    let listed = c
        .list_secrets()
        .include_planned_deletion(true)
        .filters(
            Filter::builder()
                .key(FilterNameStringType::Name)
                .values(&name)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(listed.secret_list().len(), 1);
    c.restore_secret().secret_id(&name).send().await.unwrap();
    assert!(
        c.describe_secret()
            .secret_id(&name)
            .send()
            .await
            .unwrap()
            .deleted_date()
            .is_none()
    );
    assert_eq!(
        c.get_secret_value()
            .secret_id(&name)
            .send()
            .await
            .unwrap()
            .secret_string(),
        Some("v")
    );
    let e = err_of(
        c.delete_secret()
            .secret_id(&name)
            .recovery_window_in_days(3)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "InvalidParameterException".into(),
            "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).".into()
        )
    );
    let e = err_of(
        c.delete_secret()
            .secret_id(&name)
            .recovery_window_in_days(7)
            .force_delete_without_recovery(true)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "InvalidParameterException".into(),
            "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."
                .into()
        )
    );
    server.stop().await;
}

async fn force_delete_removes_at_once_and_succeeds_for_missing_secrets(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("force");
    c.create_secret()
        .name(&name)
        .secret_string("v")
        .send()
        .await
        .unwrap();
    c.delete_secret()
        .secret_id(&name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    let e = err_of(
        c.describe_secret()
            .secret_id(&name)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "ResourceNotFoundException");
    // The name is free again, under a new ARN suffix.
    c.create_secret()
        .name(&name)
        .secret_string("v2")
        .send()
        .await
        .unwrap();
    let missing = unique("never-was");
    let d = c
        .delete_secret()
        .secret_id(&missing)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    assert_eq!(d.name(), Some(missing.as_str()));
    assert!(d.deletion_date().is_some());
    server.stop().await;
}

async fn purge_removes_secrets_after_their_recovery_window(backend: Backend) {
    let clock = ManualClock::new(Millis(1_790_000_000_000));
    let server = TestServer::start_with_clock(backend, Arc::new(clock.clone())).await;
    let c = server.client();
    let name = unique("purge");
    c.create_secret()
        .name(&name)
        .secret_string("v")
        .send()
        .await
        .unwrap();
    c.delete_secret()
        .secret_id(&name)
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();
    clock.advance_millis(6 * MILLIS_PER_DAY);
    assert_eq!(server.app.service.purge_deleted_secrets().await.unwrap(), 0);
    clock.advance_millis(MILLIS_PER_DAY + 1);
    assert_eq!(server.app.service.purge_deleted_secrets().await.unwrap(), 1);
    let e = err_of(
        c.describe_secret()
            .secret_id(&name)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "ResourceNotFoundException");
    server.stop().await;
}

async fn tags_append_replace_and_remove_and_show_empty_after_the_last(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("tags");
    c.create_secret()
        .name(&name)
        .secret_string("v")
        .tags(Tag::builder().key("b").value("1").build())
        .send()
        .await
        .unwrap();
    c.tag_resource()
        .secret_id(&name)
        .tags(Tag::builder().key("a").value("2").build())
        .tags(Tag::builder().key("b").value("3").build())
        .send()
        .await
        .unwrap();
    let tags = c
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap()
        .tags()
        .to_vec();
    let pairs: Vec<(&str, &str)> = tags
        .iter()
        .map(|t| (t.key().unwrap(), t.value().unwrap()))
        .collect();
    assert_eq!(
        pairs,
        [("b", "3"), ("a", "2")],
        "insertion order, replaced in place"
    );
    c.untag_resource()
        .secret_id(&name)
        .tag_keys("a")
        .tag_keys("b")
        .tag_keys("absent")
        .send()
        .await
        .unwrap();
    let d = c.describe_secret().secret_id(&name).send().await.unwrap();
    assert!(d.tags.is_some(), "Tags stays as [] once set");
    assert!(d.tags().is_empty());
    let e = err_of(
        c.tag_resource()
            .secret_id(&name)
            .tags(Tag::builder().key("aws:x").value("1").build())
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "InvalidParameterException");
    let mut too_many = c.tag_resource().secret_id(&name);
    for i in 0..51 {
        too_many = too_many.tags(Tag::builder().key(format!("k{i}")).value("v").build());
    }
    assert_eq!(
        err_of(too_many.send().await.unwrap_err()).0,
        "LimitExceededException"
    );
    server.stop().await;
}

async fn list_secrets_filters_sorts_and_pages(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let p = unique("list");
    for (i, (n, desc, tag)) in [
        ("SecretOne", "main database password", "alpha"),
        ("b-two", "An api key", "beta"),
        ("a-three", "asecret", "alpha"),
    ]
    .iter()
    .enumerate()
    {
        c.create_secret()
            .name(format!("{p}/{n}"))
            .secret_string(format!("v{i}"))
            .description(*desc)
            .tags(Tag::builder().key("team").value(*tag).build())
            .send()
            .await
            .unwrap();
    }
    let names =
        |l: &aws_sdk_secretsmanager::operation::list_secrets::ListSecretsOutput| -> Vec<String> {
            l.secret_list()
                .iter()
                .map(|s| {
                    s.name()
                        .unwrap()
                        .trim_start_matches(&format!("{p}/"))
                        .to_owned()
                })
                .collect()
        };
    let f = |k: FilterNameStringType, v: &str| Filter::builder().key(k).values(v).build();
    let all = c
        .list_secrets()
        .filters(f(FilterNameStringType::Name, &p))
        .send()
        .await
        .unwrap();
    assert_eq!(
        names(&all),
        ["SecretOne", "b-two", "a-three"],
        "default: oldest first"
    );
    assert!(all.secret_list()[0].secret_versions_to_stages().is_some());
    let by_name = c
        .list_secrets()
        .filters(f(FilterNameStringType::Name, &p))
        .sort_by("name".into())
        .sort_order(SortOrderType::Desc)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&by_name), ["b-two", "a-three", "SecretOne"]);
    let desc = c
        .list_secrets()
        .filters(f(FilterNameStringType::Name, &p))
        .filters(f(FilterNameStringType::Description, "DATA pass"))
        .send()
        .await
        .unwrap();
    assert_eq!(names(&desc), ["SecretOne"]);
    let neg = c
        .list_secrets()
        .filters(f(FilterNameStringType::Name, &p))
        .filters(f(FilterNameStringType::TagValue, "!alpha"))
        .send()
        .await
        .unwrap();
    assert_eq!(names(&neg), ["b-two"]);
    let all_filter = c
        .list_secrets()
        .filters(f(FilterNameStringType::Name, &p))
        .filters(f(FilterNameStringType::All, "one"))
        .send()
        .await
        .unwrap();
    assert_eq!(names(&all_filter), ["SecretOne"]);
    // Pages of one walk all three, then stop.
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .list_secrets()
            .filters(f(FilterNameStringType::Name, &p))
            .max_results(1)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        seen.extend(names(&page));
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["SecretOne", "b-two", "a-three"]);
    let e = err_of(
        c.list_secrets()
            .next_token("not-a-token")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "InvalidNextTokenException");
    server.stop().await;
}

async fn batch_get_reports_missing_secrets_as_errors(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let p = unique("batch");
    c.create_secret()
        .name(format!("{p}/a"))
        .secret_string("A")
        .send()
        .await
        .unwrap();
    c.create_secret()
        .name(format!("{p}/b"))
        .secret_string("B")
        .send()
        .await
        .unwrap();
    let missing = format!("{p}/missing");
    let out = c
        .batch_get_secret_value()
        .secret_id_list(format!("{p}/a"))
        .secret_id_list(&missing)
        .send()
        .await
        .unwrap();
    assert_eq!(out.secret_values().len(), 1);
    assert_eq!(out.secret_values()[0].secret_string(), Some("A"));
    assert_eq!(out.errors().len(), 1);
    assert_eq!(out.errors()[0].secret_id(), Some(missing.as_str()));
    assert_eq!(
        out.errors()[0].error_code(),
        Some("ResourceNotFoundException")
    );
    let by_filter = c
        .batch_get_secret_value()
        .filters(
            Filter::builder()
                .key(FilterNameStringType::Name)
                .values(&p)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut values: Vec<&str> = by_filter
        .secret_values()
        .iter()
        .filter_map(|v| v.secret_string())
        .collect();
    values.sort();
    assert_eq!(values, ["A", "B"]);
    server.stop().await;
}

async fn binary_values_round_trip_and_values_are_limited_to_65536_bytes(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("bin");
    let bytes: Vec<u8> = (0..=255u8).collect();
    c.create_secret()
        .name(&name)
        .secret_binary(Blob::new(bytes.clone()))
        .send()
        .await
        .unwrap();
    let got = c.get_secret_value().secret_id(&name).send().await.unwrap();
    assert_eq!(got.secret_binary().unwrap().as_ref(), bytes.as_slice());
    assert_eq!(got.secret_string(), None);
    let max = "x".repeat(65_536);
    c.put_secret_value()
        .secret_id(&name)
        .secret_string(&max)
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.get_secret_value()
            .secret_id(&name)
            .send()
            .await
            .unwrap()
            .secret_string()
            .map(str::len),
        Some(65_536)
    );
    let e = err_of(
        c.put_secret_value()
            .secret_id(&name)
            .secret_string("x".repeat(65_537))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "ValidationException");
    assert!(e.1.contains("secretString"));
    assert!(!e.1.contains("xxxx"), "the value is never echoed");
    server.stop().await;
}

async fn reads_set_last_accessed_date_to_midnight_utc(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("access");
    c.create_secret()
        .name(&name)
        .secret_string("v")
        .send()
        .await
        .unwrap();
    assert!(
        c.describe_secret()
            .secret_id(&name)
            .send()
            .await
            .unwrap()
            .last_accessed_date()
            .is_none()
    );
    c.get_secret_value().secret_id(&name).send().await.unwrap();
    let d = c.describe_secret().secret_id(&name).send().await.unwrap();
    let accessed = d.last_accessed_date().unwrap().secs();
    assert_eq!(accessed % 86_400, 0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert_eq!(accessed, now - now % 86_400);
    server.stop().await;
}

async fn regions_are_separate_namespaces(backend: Backend) {
    let server = TestServer::start(backend).await;
    let east = server.client_in("us-east-1");
    let west = server.client_in("us-west-2");
    let name = unique("region");
    let a = east
        .create_secret()
        .name(&name)
        .secret_string("east")
        .send()
        .await
        .unwrap();
    let b = west
        .create_secret()
        .name(&name)
        .secret_string("west")
        .send()
        .await
        .unwrap();
    assert!(b.arn().unwrap().contains(":us-west-2:"));
    assert_eq!(
        east.get_secret_value()
            .secret_id(&name)
            .send()
            .await
            .unwrap()
            .secret_string(),
        Some("east")
    );
    assert_eq!(
        west.get_secret_value()
            .secret_id(&name)
            .send()
            .await
            .unwrap()
            .secret_string(),
        Some("west")
    );
    // An ARN of another Region is not found through this one.
    assert_eq!(
        err_of(
            west.get_secret_value()
                .secret_id(a.arn().unwrap())
                .send()
                .await
                .unwrap_err()
        )
        .0,
        "ResourceNotFoundException"
    );
    server.stop().await;
}

async fn replicas_are_read_only_copies_in_step_with_their_primary(backend: Backend) {
    let server = TestServer::start(backend).await;
    let east = server.client_in("us-east-1");
    let west = server.client_in("us-west-2");
    let name = unique("repl");
    let arn = east
        .create_secret()
        .name(&name)
        .secret_string("v1")
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let r = east
        .replicate_secret_to_regions()
        .secret_id(&name)
        .add_replica_regions(ReplicaRegionType::builder().region("us-west-2").build())
        .send()
        .await
        .unwrap();
    assert_eq!(r.replication_status()[0].region(), Some("us-west-2"));
    assert_eq!(
        r.replication_status()[0].status().map(|s| s.as_str()),
        Some("InSync")
    );
    let replica = west
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(replica.secret_string(), Some("v1"));
    assert_eq!(
        replica.arn(),
        Some(arn.replace("us-east-1", "us-west-2").as_str())
    );
    east.put_secret_value()
        .secret_id(&name)
        .secret_string("v2")
        .send()
        .await
        .unwrap();
    assert_eq!(
        west.get_secret_value()
            .secret_id(&name)
            .send()
            .await
            .unwrap()
            .secret_string(),
        Some("v2"),
        "in step"
    );
    let d = west
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(d.primary_region(), Some("us-east-1"));
    let e = err_of(
        west.put_secret_value()
            .secret_id(&name)
            .secret_string("x")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "InvalidRequestException");
    let e = err_of(
        east.delete_secret()
            .secret_id(&name)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e.0, "InvalidRequestException",
        "a primary with replicas can't be deleted"
    );
    // Promote: the replica becomes a standalone secret with the same value.
    west.stop_replication_to_replica()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert!(
        west.describe_secret()
            .secret_id(&name)
            .send()
            .await
            .unwrap()
            .primary_region()
            .is_none()
    );
    west.put_secret_value()
        .secret_id(&name)
        .secret_string("west-only")
        .send()
        .await
        .unwrap();
    assert_eq!(
        east.get_secret_value()
            .secret_id(&name)
            .send()
            .await
            .unwrap()
            .secret_string(),
        Some("v2")
    );
    assert!(
        east.describe_secret()
            .secret_id(&name)
            .send()
            .await
            .unwrap()
            .replication_status()
            .is_empty()
    );
    // Replicate again and remove.
    east.replicate_secret_to_regions()
        .secret_id(&name)
        .add_replica_regions(ReplicaRegionType::builder().region("eu-west-1").build())
        .send()
        .await
        .unwrap();
    let eu = server.client_in("eu-west-1");
    assert!(eu.get_secret_value().secret_id(&name).send().await.is_ok());
    east.remove_regions_from_replication()
        .secret_id(&name)
        .remove_replica_regions("eu-west-1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        err_of(
            eu.get_secret_value()
                .secret_id(&name)
                .send()
                .await
                .unwrap_err()
        )
        .0,
        "ResourceNotFoundException"
    );
    server.stop().await;
}

async fn resource_policies_are_stored_checked_and_removed(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("policy");
    c.create_secret()
        .name(&name)
        .secret_string("v")
        .send()
        .await
        .unwrap();
    assert!(
        c.get_resource_policy()
            .secret_id(&name)
            .send()
            .await
            .unwrap()
            .resource_policy()
            .is_none()
    );
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
    c.put_resource_policy()
        .secret_id(&name)
        .resource_policy(policy)
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.get_resource_policy()
            .secret_id(&name)
            .send()
            .await
            .unwrap()
            .resource_policy(),
        Some(policy)
    );
    let e = err_of(
        c.put_resource_policy()
            .secret_id(&name)
            .resource_policy("{not json")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "MalformedPolicyDocumentException");
    let public = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:*","Resource":"*"}]}"#;
    let e = err_of(
        c.put_resource_policy()
            .secret_id(&name)
            .resource_policy(public)
            .block_public_policy(true)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "PublicPolicyException");
    let v = c
        .validate_resource_policy()
        .resource_policy(public)
        .send()
        .await
        .unwrap();
    assert!(!v.policy_validation_passed());
    assert!(
        c.validate_resource_policy()
            .resource_policy(policy)
            .send()
            .await
            .unwrap()
            .policy_validation_passed()
    );
    c.delete_resource_policy()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert!(
        c.get_resource_policy()
            .secret_id(&name)
            .send()
            .await
            .unwrap()
            .resource_policy()
            .is_none()
    );
    server.stop().await;
}

async fn rotate_secret_without_a_function_fails_and_stores_nothing(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("rot");
    c.create_secret()
        .name(&name)
        .secret_string("v")
        .send()
        .await
        .unwrap();
    let e = err_of(c.rotate_secret().secret_id(&name).send().await.unwrap_err());
    assert_eq!(
        e,
        (
            "InvalidRequestException".into(),
            "No Lambda rotation function ARN is associated with this secret.".into()
        )
    );
    let e = err_of(
        c.rotate_secret()
            .secret_id(&name)
            .rotation_lambda_arn("arn:aws:lambda:us-east-1:123456789012:function:nope")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e, ("AccessDeniedException".into(), "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.".into()));
    let d = c.describe_secret().secret_id(&name).send().await.unwrap();
    assert!(
        d.rotation_enabled().is_none()
            && d.rotation_lambda_arn().is_none()
            && d.rotation_rules().is_none()
    );
    server.stop().await;
}

async fn concurrent_puts_lose_no_version(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("race");
    c.create_secret()
        .name(&name)
        .secret_string("0")
        .send()
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let c = c.clone();
        let name = name.clone();
        tasks.push(tokio::spawn(async move {
            c.put_secret_value()
                .secret_id(&name)
                .secret_string(format!("v{i}"))
                .version_stages(format!("L{i}"))
                .send()
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let l = c
        .list_secret_version_ids()
        .secret_id(&name)
        .include_deprecated(true)
        .send()
        .await
        .unwrap();
    assert_eq!(l.versions().len(), 17);
    let d = c.describe_secret().secret_id(&name).send().await.unwrap();
    let labels: usize = d
        .version_ids_to_stages()
        .unwrap()
        .values()
        .map(Vec::len)
        .sum();
    assert_eq!(labels, 17, "every label landed on exactly one version");
    server.stop().await;
}

async fn kms_key_id_is_recorded_and_the_default_left_out(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("kms");
    c.create_secret()
        .name(&name)
        .secret_string("v")
        .kms_key_id("alias/team-key")
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.describe_secret()
            .secret_id(&name)
            .send()
            .await
            .unwrap()
            .kms_key_id(),
        Some("alias/team-key")
    );
    let versions = c
        .list_secret_version_ids()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions()[0].kms_key_ids(), ["alias/team-key"]);
    // An empty KmsKeyId goes back to the default key, which DescribeSecret leaves out.
    c.update_secret()
        .secret_id(&name)
        .kms_key_id("")
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.describe_secret()
            .secret_id(&name)
            .send()
            .await
            .unwrap()
            .kms_key_id(),
        None
    );
    assert_eq!(
        c.get_secret_value()
            .secret_id(&name)
            .send()
            .await
            .unwrap()
            .secret_string(),
        Some("v")
    );
    server.stop().await;
}

async fn a_value_put_by_hand_abandons_a_pending_rotation(backend: Backend) {
    let server = TestServer::start(backend).await;
    let c = server.client();
    let name = unique("abandon");
    c.create_secret()
        .name(&name)
        .client_request_token(TOKEN_A)
        .secret_string("0")
        .send()
        .await
        .unwrap();
    // A rotation's createSecret step: a new version labelled AWSPENDING only.
    c.put_secret_value()
        .secret_id(&name)
        .client_request_token(TOKEN_B)
        .secret_string("pending")
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    let map = c
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap()
        .version_ids_to_stages()
        .unwrap()
        .clone();
    assert_eq!(map[TOKEN_B], ["AWSPENDING"]);
    // A new value by hand: AWSCURRENT moves to it and AWSPENDING is removed wherever it was.
    c.put_secret_value()
        .secret_id(&name)
        .client_request_token(TOKEN_C)
        .secret_string("manual")
        .send()
        .await
        .unwrap();
    let map = c
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap()
        .version_ids_to_stages()
        .unwrap()
        .clone();
    assert_eq!(map[TOKEN_C], ["AWSCURRENT"]);
    assert_eq!(map[TOKEN_A], ["AWSPREVIOUS"]);
    assert!(
        !map.contains_key(TOKEN_B),
        "the abandoned version has no labels left: {map:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn postgres_is_reachable_in_ci() {
    // The storage story above skips PostgreSQL on a machine without it; in CI it must run.
    if std::env::var_os("CI").is_some() {
        assert!(postgres_url("reachability").await.is_some());
    }
}
