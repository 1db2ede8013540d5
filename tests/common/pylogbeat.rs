//! pylogbeat 2.1.0, the real Python Beats client, driven by `tests/peers/pylogbeat_send.py`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The Python that has pylogbeat: `SLUICE_PYTHON`, else the virtualenv `scripts/test.sh` makes.
pub fn python() -> PathBuf {
    let python = std::env::var_os("SLUICE_PYTHON").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/py-venv/bin/python"),
        PathBuf::from,
    );
    let usable = Command::new(&python)
        .args(["-c", "import pylogbeat"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        usable,
        "pylogbeat is not importable by {}: run scripts/test.sh once (it creates target/py-venv \
         with `pip install pylogbeat==2.1.0`), or set SLUICE_PYTHON to a Python that has it",
        python.display()
    );
    python
}

/// The driver's command line: `windows` windows of `per_window` events to `port`.
pub fn driver(port: &str, windows: u32, per_window: u32, extra: &[&str]) -> Command {
    let mut command = Command::new(python());
    command
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/peers/pylogbeat_send.py"
        ))
        .args(["127.0.0.1", port])
        .args([windows.to_string(), per_window.to_string()])
        .args(extra);
    command
}
