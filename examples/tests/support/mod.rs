//! What the example tests share.

use std::path::PathBuf;
use std::process::Command;

/// An example binary of this package. `cargo test -p kagent-examples` builds the package's
/// examples before its tests; a runner that does not (`cargo nextest`, `cargo test --test X`)
/// gets it built here when there is none, and otherwise runs whatever binary is there: rebuild
/// it with `cargo build -p kagent-examples --example NAME` after changing the example.
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let bin = profile_dir.join("examples").join(name);
    if !bin.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "kagent-examples", "--example", name])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status();
        eprintln!("built the {name} example: {status:?}");
    }
    assert!(
        bin.exists(),
        "example binary missing at {}: run `cargo build -p kagent-examples --example {name}`",
        bin.display()
    );
    bin
}
