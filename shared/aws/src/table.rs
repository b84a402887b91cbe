//! The one table's definition. `galley create-table` uses it against local
//! emulators; `template.yaml` declares the same keys, index, TTL and stream.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, LocalSecondaryIndex, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use galley_shared::Error;

use crate::errors::sdk_error;

pub const PARTITION_KEY: &str = "pk";
pub const SORT_KEY: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1_PARTITION_KEY: &str = "gsi1pk";
pub const GSI1_SORT_KEY: &str = "gsi1sk";
/// A second overloaded index: a category's products in title order.
pub const GSI2: &str = "gsi2";
pub const GSI2_PARTITION_KEY: &str = "gsi2pk";
pub const GSI2_SORT_KEY: &str = "gsi2sk";
/// A local index over the search index items: a term's postings in title
/// order, read consistently, a stretch at a time (only index items carry
/// `title_key`, so only they are in it).
pub const TITLE_INDEX: &str = "title";
pub const TITLE_INDEX_SORT_KEY: &str = "title_key";
/// What a stretch of postings needs besides the keys.
pub const TITLE_INDEX_ATTRIBUTES: [&str; 5] = ["product_id", "in_title", "category", "price", "currency"];
/// Epoch seconds after which DynamoDB deletes the item.
pub const TTL_ATTRIBUTE: &str = "expires_at";

fn attribute(name: &str) -> Result<AttributeDefinition, Error> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(Error::internal)
}

fn key(name: &str, key_type: KeyType) -> Result<KeySchemaElement, Error> {
    KeySchemaElement::builder().attribute_name(name).key_type(key_type).build().map_err(Error::internal)
}

/// Creates the table (on-demand, with GSI1, GSI2, the title index, the stream and TTL) if it does
/// not exist yet. Returns whether it was created.
pub async fn create_table(client: &Client, name: &str) -> Result<bool, Error> {
    let gsi1 = GlobalSecondaryIndex::builder()
        .index_name(GSI1)
        .key_schema(key(GSI1_PARTITION_KEY, KeyType::Hash)?)
        .key_schema(key(GSI1_SORT_KEY, KeyType::Range)?)
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .map_err(Error::internal)?;
    let gsi2 = GlobalSecondaryIndex::builder()
        .index_name(GSI2)
        .key_schema(key(GSI2_PARTITION_KEY, KeyType::Hash)?)
        .key_schema(key(GSI2_SORT_KEY, KeyType::Range)?)
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .map_err(Error::internal)?;
    let title = LocalSecondaryIndex::builder()
        .index_name(TITLE_INDEX)
        .key_schema(key(PARTITION_KEY, KeyType::Hash)?)
        .key_schema(key(TITLE_INDEX_SORT_KEY, KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::Include)
                .set_non_key_attributes(Some(TITLE_INDEX_ATTRIBUTES.map(String::from).to_vec()))
                .build(),
        )
        .build()
        .map_err(Error::internal)?;
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(PARTITION_KEY)?)
        .attribute_definitions(attribute(SORT_KEY)?)
        .attribute_definitions(attribute(GSI1_PARTITION_KEY)?)
        .attribute_definitions(attribute(GSI1_SORT_KEY)?)
        .attribute_definitions(attribute(GSI2_PARTITION_KEY)?)
        .attribute_definitions(attribute(GSI2_SORT_KEY)?)
        .attribute_definitions(attribute(TITLE_INDEX_SORT_KEY)?)
        .key_schema(key(PARTITION_KEY, KeyType::Hash)?)
        .key_schema(key(SORT_KEY, KeyType::Range)?)
        .global_secondary_indexes(gsi1)
        .global_secondary_indexes(gsi2)
        .local_secondary_indexes(title)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .map_err(Error::internal)?,
        )
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => return Ok(false),
        Err(e) => return Err(sdk_error("CreateTable", e)),
    }
    client
        .wait_until_table_exists()
        .table_name(name)
        .wait(std::time::Duration::from_secs(120))
        .await
        .map_err(|e| Error::unavailable(format!("waiting for table {name}: {e}")))?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(TTL_ATTRIBUTE)
                .build()
                .map_err(Error::internal)?,
        )
        .send()
        .await
        .map_err(|e| sdk_error("UpdateTimeToLive", e))?;
    Ok(true)
}
