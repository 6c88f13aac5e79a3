//! `sqlx::migrate!` embeds the migrations at compile time but does not tell
//! Cargo to watch their folder: without this, a new migration is left out of
//! the build until some source file of the crate changes.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
