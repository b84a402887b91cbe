//! The port contract suite over every adapter.

use galley_tests::contract_suite;
use galley_tests::fixtures;

contract_suite!(embedded, {
    let temp = fixtures::embedded_store();
    (temp.store.clone(), temp)
});
contract_suite!(dynamodb, (fixtures::dynamo_store().await, ()));
