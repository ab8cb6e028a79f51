//! The Java examples (a receiver, a sender, a dispatcher), compiled once per test run with
//! `javac` (about two seconds) and run from their classes. The JDK's source launcher, which the
//! docs show, compiles in every JVM it starts: a dozen of those at once on two cores can take
//! longer than a protocol reply's deadline, and a test must not depend on how loaded the
//! machine is.

use super::process::output_bounded;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// Where Debian's `libgoogle-gson-java` puts Gson, the examples' one library.
pub const GSON: &str = "/usr/share/java/gson.jar";

/// Every Java example, compiled together.
const SOURCES: [&str; 3] = [
    "examples/receivers/java/SnapbillReceiver.java",
    "examples/senders/java/SnapbillSender.java",
    "examples/dispatchers/java/Dispatcher.java",
];

/// Whether the JDK and Gson are here; says SKIPPED (and why, naming `what` is not tested) when not.
pub fn available(what: &str) -> bool {
    let runs = |tool: &str| Command::new(tool).arg("-version").output().is_ok_and(|o| o.status.success());
    if !runs("java") || !runs("javac") {
        super::skip::skipped(&format!("a JDK (java and javac, 17 or later) is not installed, so {what} is not tested"));
        return false;
    }
    if !Path::new(GSON).is_file() {
        super::skip::skipped(&format!(
            "Gson is not at {GSON} (apt-get install libgoogle-gson-java), so {what} is not tested"
        ));
        return false;
    }
    true
}

/// The class path of every example, compiled once for the whole test run.
pub fn class_path() -> &'static str {
    static CLASS_PATH: OnceLock<String> = OnceLock::new();
    CLASS_PATH.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("java-classes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut javac = Command::new("javac");
        javac.arg("-d").arg(&dir).args(["-cp", GSON]).args(SOURCES.map(|s| root.join(s)));
        let (code, _, stderr) = output_bounded(&mut javac, Duration::from_secs(300));
        assert_eq!(code, 0, "javac: {stderr}");
        format!("{GSON}:{}", dir.display())
    })
}

/// `java` and its arguments for `class`: C1 alone and one GC thread, for short runs, a dozen
/// JVMs on two cores.
pub fn command(class: &str) -> Vec<String> {
    ["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", class_path(), class].map(String::from).to_vec()
}
