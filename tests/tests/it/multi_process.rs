//! Several OS processes sharing one embedded data dir (as function binaries
//! under `cargo lambda watch` do) must still never oversell.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use galley_embedded::EmbeddedStore;
use galley_shared::Error;
use galley_shared::id::ProductId;
use galley_shared::ports::{Catalog, Stock};
use galley_shared::stock::{Quantity, StockLine};
use galley_tests::fixtures;

const CHILD_DATA_DIR: &str = "GALLEY_TEST_CHILD_DATA_DIR";
const PROCESSES: usize = 5;
const BUYERS_PER_PROCESS: usize = 10;

fn hot_line() -> StockLine {
    StockLine { product_id: ProductId::parse("hot").unwrap(), quantity: Quantity::new(1).unwrap() }
}

/// One buyer process: waits for the start signal, then races its buyers.
#[test]
#[ignore = "run as a child process by several_processes_never_oversell"]
fn child_buyer_process() {
    let data_dir = PathBuf::from(std::env::var(CHILD_DATA_DIR).expect("child needs its data dir"));
    let store = EmbeddedStore::open(&data_dir).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !data_dir.join("go").exists() {
        assert!(Instant::now() < deadline, "no start signal");
        std::thread::sleep(Duration::from_millis(2));
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sold = runtime.block_on(async {
        let buyers: Vec<_> = (0..BUYERS_PER_PROCESS)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.reserve(&[hot_line()]).await })
            })
            .collect();
        let mut sold = 0;
        for buyer in buyers {
            match buyer.await.unwrap() {
                Ok(()) => sold += 1,
                Err(Error::OutOfStock(_)) => {}
                Err(other) => panic!("unexpected answer: {other:?}"),
            }
        }
        sold
    });
    println!("SOLD {sold}.");
}

#[tokio::test]
async fn several_processes_never_oversell() {
    let temp = fixtures::embedded_store();
    temp.store.upsert(&[fixtures::product("hot", 10)]).await.unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            Command::new(&exe)
                .args(["--ignored", "--exact", "multi_process::child_buyer_process", "--nocapture", "--test-threads=1"])
                .env(CHILD_DATA_DIR, temp.dir.path())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    std::fs::write(temp.dir.path().join("go"), b"").unwrap();
    let mut sold = 0;
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "a buyer process failed");
        let stdout = String::from_utf8_lossy(&output.stdout);
        // The harness prints the report on the line that names the test.
        let report = stdout.split("SOLD ").nth(1).expect("child reports its sales");
        let count: String = report.chars().take_while(char::is_ascii_digit).collect();
        sold += count.parse::<usize>().unwrap();
    }
    assert_eq!(sold, 10, "{PROCESSES} processes × {BUYERS_PER_PROCESS} buyers for 10 units");
    assert_eq!(temp.store.level(&ProductId::parse("hot").unwrap()).await.unwrap(), Some(0));
}
