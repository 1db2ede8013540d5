//! The real Filebeat 7.17.29 (built by `scripts/filebeat.sh` into `target/peers/bin/`, or
//! `SLUICE_FILEBEAT`) tailing log files and shipping them with `output.logstash` (compressed,
//! pipelined, many small windows) to the real `sluice` binary's beats input, into the `file`
//! output, which acknowledges a batch only after flushing it. Every test checks that each
//! line arrived (exactly once where nothing forced a resend) with Filebeat's fields.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::pki::Pki;
use common::process::Sluice;

fn filebeat_binary() -> PathBuf {
    let path = std::env::var_os("SLUICE_FILEBEAT").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/peers/bin/filebeat"),
        PathBuf::from,
    );
    assert!(
        path.is_file(),
        "no Filebeat at {}: run scripts/filebeat.sh once (it builds 7.17.29 there), or set \
         SLUICE_FILEBEAT",
        path.display()
    );
    path
}

/// One test's directory: the log files Filebeat tails and the file output Sluice writes.
struct Scene {
    dir: tempfile::TempDir,
    port: u16,
}

impl Scene {
    fn new() -> Scene {
        // A port for Sluice that stays the same across its restarts, as Filebeat's config says.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Scene {
            dir: tempfile::tempdir().unwrap(),
            port,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Appends lines `range` to the log file `name`, each `<name> line <n> …`.
    fn log(&self, name: &str, range: std::ops::Range<u64>) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path(name))
            .unwrap();
        let mut text = String::new();
        for n in range {
            text += &format!("{name} line {n} GET /api/v1/chapters/{n} 200 12ms user=reader-{n}\n");
        }
        file.write_all(text.as_bytes()).unwrap();
    }

    /// Sluice with a beats input on this scene's port and `beats_settings`, writing to
    /// `<beat>.ndjson` every `flush_interval` seconds.
    fn sluice(&self, beats_settings: &str, flush_interval: u32) -> Sluice {
        let config = format!(
            r#"input {{ beats {{ host => "127.0.0.1" port => {} {beats_settings} }} }}
output {{ file {{ path => "{}/%{{[@metadata][beat]}}.ndjson" flush_interval => {flush_interval} }} }}"#,
            self.port,
            self.dir.path().display()
        );
        let sluice = Sluice::run(&config);
        sluice.wait_for_log("beats input listening");
        sluice
    }

    /// Filebeat tailing `app.log` (`service` at the event's root) and `audit.log` (`team`
    /// under `fields`), shipping with `output_settings` added to `output.logstash`.
    fn filebeat(&self, output_settings: &str) -> Filebeat {
        let config = format!(
            r#"filebeat.inputs:
- type: log
  id: app
  paths: ["{app}"]
  scan_frequency: 1s
  fields: {{service: mangakai-backend}}
  fields_under_root: true
- type: log
  id: audit
  paths: ["{audit}"]
  scan_frequency: 1s
  fields: {{team: payments}}
output.logstash:
  hosts: ["127.0.0.1:{port}"]
  compression_level: 3
  pipelining: 2
  bulk_max_size: 100
  backoff.init: 200ms
  backoff.max: 1s
{output_settings}
queue.mem:
  events: 4096
  flush.min_events: 100
  flush.timeout: 100ms
http.enabled: false
"#,
            app = self.path("app.log").display(),
            audit = self.path("audit.log").display(),
            port = self.port,
        );
        let home = self.path("filebeat");
        std::fs::create_dir_all(&home).unwrap();
        let config_path = home.join("filebeat.yml");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(home.join("stderr.log")).unwrap();
        let child = Command::new(filebeat_binary())
            .args(["-e", "--strict.perms=false", "-c"])
            .arg(&config_path)
            .arg("--path.home")
            .arg(&home)
            .arg("--path.data")
            .arg(home.join("data"))
            .arg("--path.logs")
            .arg(home.join("logs"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Filebeat {
            child,
            log: home.join("stderr.log"),
        }
    }

    /// The events written so far, keyed by their log file's name and line number, each with
    /// how many times it was written. A last line still being written is left for later.
    fn written(&self) -> BTreeMap<(String, u64), (Value, usize)> {
        let mut events: BTreeMap<(String, u64), (Value, usize)> = BTreeMap::new();
        for event in common::json_lines(&self.path("filebeat.ndjson")) {
            let message = event["message"].as_str().unwrap().to_owned();
            let mut words = message.split(' ');
            let (file, n) = (words.next().unwrap(), words.nth(1).unwrap());
            let key = (file.to_owned(), n.parse().unwrap());
            events.entry(key).or_insert((event, 0)).1 += 1;
        }
        events
    }

    /// Waits until `count` distinct lines have been written.
    fn wait_for_lines(&self, count: usize, filebeat: &Filebeat) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let written = self.written().len();
            if written >= count {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{written} of {count} lines arrived; Filebeat's log:\n{}",
                filebeat.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// A running Filebeat, killed when dropped.
struct Filebeat {
    child: Child,
    log: PathBuf,
}

impl Filebeat {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Filebeat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Filebeat with `filebeat_tls` ships `lines` lines to Sluice with `beats_settings`: each
/// arrives once and no handshake fails.
fn ships_over_tls(beats_settings: &str, filebeat_tls: &str, lines: u64) {
    let scene = Scene::new();
    scene.log("app.log", 0..lines);
    let mut sluice = scene.sluice(beats_settings, 0);
    let filebeat = scene.filebeat(filebeat_tls);
    scene.wait_for_lines(lines as usize, &filebeat);
    drop(filebeat);
    let log = sluice.terminate();
    assert_each_once(&scene, lines, 0);
    assert!(
        !log.iter().any(|l| l.contains("TLS handshake failed")),
        "{beats_settings}: {log:#?}"
    );
}

/// Each of `app.log` lines `0..app` and `audit.log` lines `0..audit` written exactly once.
fn assert_each_once(scene: &Scene, app: u64, audit: u64) {
    let written = scene.written();
    let expected: Vec<(String, u64)> = (0..app)
        .map(|n| ("app.log".to_owned(), n))
        .chain((0..audit).map(|n| ("audit.log".to_owned(), n)))
        .collect();
    let mut keys: Vec<(String, u64)> = written.keys().cloned().collect();
    keys.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(keys, expected_sorted, "every line, nothing else");
    let twice: Vec<_> = written.iter().filter(|(_, (_, n))| *n > 1).collect();
    assert!(
        twice.is_empty(),
        "written more than once: {:?}",
        twice.len()
    );
}

#[test]
fn filebeat_ships_every_line_once_with_its_fields() {
    let scene = Scene::new();
    scene.log("app.log", 0..3_000);
    scene.log("audit.log", 0..500);
    let mut sluice = scene.sluice("", 0);
    let filebeat = scene.filebeat("");
    scene.wait_for_lines(3_500, &filebeat);
    // Lines appended while Filebeat runs are tailed too.
    scene.log("app.log", 3_000..3_200);
    scene.wait_for_lines(3_700, &filebeat);
    drop(filebeat);
    sluice.terminate();
    assert_each_once(&scene, 3_200, 500);

    let written = scene.written();
    let app = &written[&("app.log".to_owned(), 7)].0;
    assert_eq!(
        app["log"]["file"]["path"],
        scene.path("app.log").display().to_string()
    );
    assert!(app["log"]["offset"].is_u64(), "{app}");
    assert_eq!(
        app["service"], "mangakai-backend",
        "fields_under_root: {app}"
    );
    assert!(app.get("fields").is_none(), "{app}");
    assert_eq!(app["agent"]["type"], "filebeat");
    assert_eq!(app["agent"]["version"], "7.17.29");
    assert!(app["agent"]["id"].is_string(), "{app}");
    assert!(app["host"]["name"].is_string(), "{app}");
    assert_eq!(app["input"]["type"], "log");
    assert!(app["ecs"]["version"].is_string(), "{app}");
    assert!(
        app["tags"]
            .as_array()
            .unwrap()
            .contains(&"beats_input_codec_plain_applied".into()),
        "{app}"
    );
    let audit = &written[&("audit.log".to_owned(), 7)].0;
    assert_eq!(audit["fields"]["team"], "payments", "{audit}");
    assert!(audit.get("service").is_none(), "{audit}");
}

#[test]
fn filebeat_over_tls_and_mutual_tls() {
    let pki = Pki::new();
    let ca = pki.path("ca.pem");
    let (cert, key) = pki.issue("filebeat");
    for (client_authentication, client) in [
        ("none", String::new()),
        (
            "required",
            format!("  ssl.certificate: \"{cert}\"\n  ssl.key: \"{key}\"\n"),
        ),
    ] {
        ships_over_tls(
            &pki.server_settings(client_authentication),
            &format!("  ssl.certificate_authorities: [\"{ca}\"]\n{client}"),
            1_000,
        );
    }
}

/// Filebeat held to one TLS 1.2 suite (its `ssl.cipher_suites` names are Go's, not IANA's):
/// shipped when Sluice's `ssl_cipher_suites` allows that suite, refused at the handshake,
/// logged with the peer and rustls' reason, when it does not.
#[test]
fn filebeat_with_one_cipher_suite_against_ssl_cipher_suites() {
    let pki = Pki::new();
    let ca = pki.path("ca.pem");
    let (cert, key) = pki.issue("server");
    let filebeat_tls = format!(
        "  ssl.certificate_authorities: [\"{ca}\"]\n  ssl.supported_protocols: [TLSv1.2]\n  \
         ssl.cipher_suites: [ECDHE-ECDSA-AES-256-GCM-SHA384]\n"
    );
    let server = |suite: &str| {
        format!(
            r#"ssl_enabled => true ssl_certificate => "{cert}" ssl_key => "{key}"
ssl_supported_protocols => ["TLSv1.2"] ssl_cipher_suites => ["{suite}"]"#
        )
    };

    ships_over_tls(
        &server("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
        &filebeat_tls,
        500,
    );

    let scene = Scene::new();
    scene.log("app.log", 0..500);
    let mut sluice = scene.sluice(&server("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"), 0);
    let filebeat = scene.filebeat(&filebeat_tls);
    let failure = sluice.wait_for_log("TLS handshake failed");
    drop(filebeat);
    sluice.terminate();
    assert!(failure.contains("127.0.0.1:"), "the peer: {failure}");
    assert!(
        failure.contains("NoCipherSuitesInCommon"),
        "the reason: {failure}"
    );
    assert!(scene.written().is_empty());
}

/// The server key encrypted by Python `cryptography` (PBES2: PBKDF2-HMAC-SHA256, AES-256-CBC)
/// and decrypted by Sluice with `ssl_key_passphrase`; Filebeat ships over TLS with it.
#[test]
fn filebeat_over_tls_with_an_encrypted_server_key() {
    let pki = Pki::new();
    let ca = pki.path("ca.pem");
    let (cert, key) = pki.issue("server");
    let passphrase = "correct horse battery staple";
    let encrypted = pki.encrypt_key(&key, "server.encrypted.key", passphrase);
    let pem = std::fs::read_to_string(&encrypted).unwrap();
    assert!(
        pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
        "{pem}"
    );

    ships_over_tls(
        &format!(
            r#"ssl_enabled => true ssl_certificate => "{cert}" ssl_key => "{encrypted}"
ssl_key_passphrase => "{passphrase}""#
        ),
        &format!("  ssl.certificate_authorities: [\"{ca}\"]\n"),
        500,
    );
}

/// `enrich => [source_metadata, ssl_peer_metadata]` under mutual TLS: Filebeat's client
/// certificate and the session show in the metadata (copied to fields by `add_field`, as the
/// file output leaves `@metadata` out), and without `codec_metadata` no codec tag is added.
#[test]
fn enrich_ssl_peer_metadata_names_filebeats_certificate() {
    let pki = Pki::new();
    let ca = pki.path("ca.pem");
    let (cert, key) = pki.issue("filebeat");
    let scene = Scene::new();
    scene.log("app.log", 0..100);
    let mut sluice = scene.sluice(
        &format!(
            r#"{} enrich => ["source_metadata", "ssl_peer_metadata"]
add_field => {{ "tls_status" => "%{{[@metadata][tls_peer][status]}}"
  "tls_subject" => "%{{[@metadata][tls_peer][subject]}}"
  "tls_protocol" => "%{{[@metadata][tls_peer][protocol]}}"
  "tls_cipher" => "%{{[@metadata][tls_peer][cipher_suite]}}"
  "source_ip" => "%{{[@metadata][ip_address]}}" }}"#,
            pki.server_settings("required")
        ),
        0,
    );
    let filebeat = scene.filebeat(&format!(
        "  ssl.certificate_authorities: [\"{ca}\"]\n  ssl.certificate: \"{cert}\"\n  \
         ssl.key: \"{key}\"\n"
    ));
    scene.wait_for_lines(100, &filebeat);
    drop(filebeat);
    sluice.terminate();
    assert_each_once(&scene, 100, 0);
    let written = scene.written();
    let event = &written[&("app.log".to_owned(), 42)].0;
    assert_eq!(event["tls_status"], "verified", "{event}");
    assert_eq!(event["tls_subject"], "CN=filebeat", "{event}");
    assert_eq!(event["tls_protocol"], "TLSv1.3", "{event}");
    assert!(
        [
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256"
        ]
        .contains(&event["tls_cipher"].as_str().unwrap()),
        "{event}"
    );
    assert_eq!(event["source_ip"], "127.0.0.1", "{event}");
    assert!(event.get("tags").is_none(), "no codec tag: {event}");
}

/// Sluice stopped (SIGTERM: it ACKs what it has taken and exits) and started again on the
/// same port while Filebeat ships 20 000 lines: Filebeat reconnects and resends what was not
/// ACKed, so every line arrives, at least once.
#[test]
fn sluice_restarted_mid_stream_loses_no_line() {
    let scene = Scene::new();
    scene.log("app.log", 0..20_000);
    let mut sluice = scene.sluice("", 0);
    let filebeat = scene.filebeat("");
    scene.wait_for_lines(2_000, &filebeat);
    sluice.terminate();
    let before = scene.written().len();
    assert!(before < 20_000, "the restart came too late to matter");
    let mut sluice = scene.sluice("", 0);
    scene.wait_for_lines(20_000, &filebeat);
    drop(filebeat);
    sluice.terminate();
    let written = scene.written();
    assert_eq!(written.len(), 20_000);
    assert!(written
        .keys()
        .all(|(file, n)| file == "app.log" && *n < 20_000));
}

/// The file output holds receipts until its next flush, 12 s away, while Filebeat's
/// `timeout` is 5 s: only the input's ACK 0 keep-alives keep Filebeat waiting, and it resends
/// nothing.
#[test]
fn keepalives_hold_filebeat_past_its_timeout() {
    let scene = Scene::new();
    scene.log("app.log", 0..300);
    let mut sluice = scene.sluice("", 12);
    let filebeat = scene.filebeat("  timeout: 5\n");
    let started = Instant::now();
    scene.wait_for_lines(300, &filebeat);
    assert!(
        started.elapsed() > Duration::from_secs(5),
        "the output did not hold the receipts past Filebeat's timeout"
    );
    let log = filebeat.log();
    drop(filebeat);
    sluice.terminate();
    assert_each_once(&scene, 300, 0);
    assert!(
        !log.contains("i/o timeout") && !log.contains("Failed to publish"),
        "Filebeat timed out:\n{log}"
    );
}
