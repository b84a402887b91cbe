//! The port contract suite over every adapter.

use galley_tests::contract_suite;
use galley_tests::fixtures;

contract_suite!(embedded, {
    let temp = fixtures::embedded_store();
    (temp.store.clone(), temp)
});
contract_suite!(dynamodb, (fixtures::dynamo_store().await, ()));

/// The cases written: every `pub async fn` of `tests/src/contract/`.
fn written_cases() -> std::collections::BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/contract");
    let mut cases = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in source.lines() {
            if let Some(rest) = line.strip_prefix("pub async fn ") {
                cases.insert(rest.split(['(', '<']).next().unwrap().to_owned());
            }
        }
    }
    cases
}

#[test]
fn every_contract_case_written_runs_on_every_adapter() {
    let written = written_cases();
    assert!(written.len() >= 27, "the contract has its cases: {written:?}");
    for (adapter, cases) in [("embedded", embedded::CASES), ("dynamodb", dynamodb::CASES)] {
        let run: std::collections::BTreeSet<String> = cases.iter().map(|c| c.to_string()).collect();
        assert_eq!(run, written, "{adapter}: the cases contract_suite! runs are the ones written");
    }
}
