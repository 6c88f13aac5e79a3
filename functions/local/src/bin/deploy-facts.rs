//! Prints, as JSON, what the code says the deployment must agree with: each
//! function's name, trigger and topics, the topics published, the pub/sub name,
//! the port and routes. Read by scripts/validate-deploy.py.

fn main() {
    println!("{:#}", local::facts::deploy_facts());
}
