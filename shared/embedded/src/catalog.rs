//! Catalog and stock over the `products` table.

use async_trait::async_trait;
use galley_shared::Error;
use galley_shared::catalog::{Category, Product};
use galley_shared::id::ProductId;
use galley_shared::money::{Currency, Money};
use galley_shared::ports::{Catalog, ImportReport, Stock, Written};
use galley_shared::stock::{Shortage, StockLevel, StockLine, check_distinct};
use rusqlite::{OptionalExtension, Row, params};

use crate::EmbeddedStore;
use crate::db::store_error;

const PRODUCT_COLUMNS: &str = "id, title, description, category, price_amount, price_currency, image_url, stock";

/// Rows larger imports are split into, so one import does not hold the write
/// lock for long while other processes wait.
const UPSERT_CHUNK: usize = 500;

fn corrupt(what: &str, detail: String) -> Error {
    Error::internal(format!("corrupt {what} row: {detail}"))
}

fn product_from_row(row: &Row<'_>) -> Result<Product, Error> {
    let get_text = |i: usize| row.get::<_, String>(i).map_err(store_error);
    let amount: i64 = row.get(4).map_err(store_error)?;
    let stock: i64 = row.get(7).map_err(store_error)?;
    let currency = Currency::parse(&get_text(5)?).map_err(|e| corrupt("product", e))?;
    Ok(Product {
        id: ProductId::parse(&get_text(0)?).map_err(|e| corrupt("product", e))?,
        title: get_text(1)?,
        description: get_text(2)?,
        category: Category::parse(&get_text(3)?).map_err(|e| corrupt("product", e))?,
        price: Money::new(amount, currency).map_err(|e| corrupt("product", e))?,
        image_url: row.get(6).map_err(store_error)?,
        stock: StockLevel::try_from(stock).map_err(|e| corrupt("product", e.to_string()))?,
    })
}

fn insert_sql(on_conflict: &str) -> String {
    format!("INSERT INTO products ({PRODUCT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) {on_conflict}")
}

fn product_params(p: &Product) -> [Box<dyn rusqlite::ToSql + '_>; 8] {
    [
        Box::new(p.id.as_str()),
        Box::new(p.title.as_str()),
        Box::new(p.description.as_str()),
        Box::new(p.category.as_str()),
        Box::new(p.price.amount),
        Box::new(p.price.currency.as_str()),
        Box::new(p.image_url.as_deref()),
        Box::new(i64::from(p.stock)),
    ]
}

#[async_trait]
impl Catalog for EmbeddedStore {
    async fn product(&self, id: &ProductId) -> Result<Option<Product>, Error> {
        let id = id.clone();
        self.db
            .read(move |conn| {
                let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ?1");
                let mut stmt = conn.prepare_cached(&sql).map_err(store_error)?;
                let mut rows = stmt.query(params![id.as_str()]).map_err(store_error)?;
                match rows.next().map_err(store_error)? {
                    Some(row) => product_from_row(row).map(Some),
                    None => Ok(None),
                }
            })
            .await
    }

    async fn products(&self, ids: &[ProductId]) -> Result<Vec<Product>, Error> {
        let ids: Vec<ProductId> = ids.to_vec();
        self.db
            .read(move |conn| {
                let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ?1");
                let mut stmt = conn.prepare_cached(&sql).map_err(store_error)?;
                let mut found = Vec::with_capacity(ids.len());
                for id in &ids {
                    let mut rows = stmt.query(params![id.as_str()]).map_err(store_error)?;
                    if let Some(row) = rows.next().map_err(store_error)? {
                        found.push(product_from_row(row)?);
                    }
                }
                Ok(found)
            })
            .await
    }

    async fn create(&self, product: &Product) -> Result<Written, Error> {
        let product = product.clone();
        self.db
            .write(move |tx| {
                let sql = insert_sql("ON CONFLICT(id) DO NOTHING");
                let params = product_params(&product);
                let inserted = tx
                    .prepare_cached(&sql)
                    .and_then(|mut stmt| stmt.execute(rusqlite::params_from_iter(params.iter())))
                    .map_err(store_error)?;
                Ok(if inserted == 1 { Written::Created } else { Written::AlreadyExists })
            })
            .await
    }

    async fn upsert(&self, products: &[Product]) -> Result<ImportReport, Error> {
        let mut report = ImportReport::default();
        for chunk in products.chunks(UPSERT_CHUNK) {
            let chunk = chunk.to_vec();
            report.written += self
                .db
                .write(move |tx| {
                    let sql = insert_sql(
                        "ON CONFLICT(id) DO UPDATE SET title = excluded.title, \
                         description = excluded.description, category = excluded.category, \
                         price_amount = excluded.price_amount, price_currency = excluded.price_currency, \
                         image_url = excluded.image_url, stock = excluded.stock",
                    );
                    let mut stmt = tx.prepare_cached(&sql).map_err(store_error)?;
                    for product in &chunk {
                        let params = product_params(product);
                        stmt.execute(rusqlite::params_from_iter(params.iter())).map_err(store_error)?;
                    }
                    Ok(chunk.len())
                })
                .await?;
        }
        Ok(report)
    }

    async fn is_empty(&self) -> Result<bool, Error> {
        self.db
            .read(|conn| {
                conn.query_row("SELECT NOT EXISTS (SELECT 1 FROM products)", [], |row| row.get(0)).map_err(store_error)
            })
            .await
    }
}

#[async_trait]
impl Stock for EmbeddedStore {
    async fn reserve(&self, lines: &[StockLine]) -> Result<(), Error> {
        check_distinct(lines)?;
        let lines = lines.to_vec();
        self.db
            .write(move |tx| {
                let mut take = tx
                    .prepare_cached("UPDATE products SET stock = stock - ?2 WHERE id = ?1 AND stock >= ?2")
                    .map_err(store_error)?;
                let mut level = tx.prepare_cached("SELECT stock FROM products WHERE id = ?1").map_err(store_error)?;
                let mut shortages = Vec::new();
                for line in &lines {
                    let quantity = i64::from(line.quantity.get());
                    let taken = take.execute(params![line.product_id.as_str(), quantity]).map_err(store_error)?;
                    if taken == 0 {
                        let available: Option<i64> = level
                            .query_row(params![line.product_id.as_str()], |row| row.get(0))
                            .optional()
                            .map_err(store_error)?;
                        shortages.push(Shortage {
                            product_id: line.product_id.clone(),
                            requested: line.quantity.get(),
                            available: available.and_then(|n| StockLevel::try_from(n).ok()).unwrap_or(0),
                        });
                    }
                }
                // Returning an error rolls back the lines already taken.
                if shortages.is_empty() { Ok(()) } else { Err(Error::OutOfStock(shortages)) }
            })
            .await
    }

    async fn release(&self, lines: &[StockLine]) -> Result<(), Error> {
        check_distinct(lines)?;
        let lines = lines.to_vec();
        self.db
            .write(move |tx| {
                let mut give =
                    tx.prepare_cached("UPDATE products SET stock = stock + ?2 WHERE id = ?1").map_err(store_error)?;
                for line in &lines {
                    let given = give
                        .execute(params![line.product_id.as_str(), i64::from(line.quantity.get())])
                        .map_err(store_error)?;
                    if given == 0 {
                        return Err(Error::internal(format!("release of unknown product {}", line.product_id)));
                    }
                }
                Ok(())
            })
            .await
    }

    async fn level(&self, id: &ProductId) -> Result<Option<StockLevel>, Error> {
        let id = id.clone();
        self.db
            .read(move |conn| {
                let stock: Option<i64> = conn
                    .query_row("SELECT stock FROM products WHERE id = ?1", params![id.as_str()], |row| row.get(0))
                    .optional()
                    .map_err(store_error)?;
                stock.map(|n| StockLevel::try_from(n).map_err(|e| corrupt("product", e.to_string()))).transpose()
            })
            .await
    }
}
