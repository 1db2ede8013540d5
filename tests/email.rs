//! The `email` output of the real `sluice` binary against a real SMTP server: aiosmtpd 1.4.6
//! (`tests/peers/smtp_sink.py`), which records every message it accepts as a JSON line.
//!
//! The server runs from the virtualenv `scripts/test.sh` makes (`target/smtp-venv`), or from
//! the Python named by `SLUICE_SMTP_PYTHON`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

fn sluice() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command.env_remove("RUST_LOG");
    command
}

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("SLUICE_SMTP_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/smtp-venv/bin/python");
    assert!(
        venv.is_file(),
        "no SMTP test server: run scripts/test.sh, or `python3 -m venv target/smtp-venv && \
         target/smtp-venv/bin/pip install aiosmtpd==1.4.6`"
    );
    venv
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running aiosmtpd; killed when dropped.
struct SmtpSink {
    child: Child,
    out: PathBuf,
}

impl SmtpSink {
    fn start(port: u16, dir: &Path) -> SmtpSink {
        SmtpSink::spawn(port, dir, &[])
    }

    /// A server that requires STARTTLS with `cert_and_key`, then AUTH as `(user, password)`.
    fn start_secured(
        port: u16,
        dir: &Path,
        cert_and_key: &[&Path; 2],
        (user, password): (&str, &str),
    ) -> SmtpSink {
        let [cert, key] = cert_and_key.map(|p| p.to_str().unwrap().to_owned());
        SmtpSink::spawn(
            port,
            dir,
            &[cert, key, user.to_owned(), password.to_owned()],
        )
    }

    fn spawn(port: u16, dir: &Path, extra: &[String]) -> SmtpSink {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/smtp_sink.py");
        let out = dir.join("mails.jsonl");
        let mut child = Command::new(python())
            .arg(script)
            .arg(port.to_string())
            .arg(&out)
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP server did not start");
        SmtpSink { child, out }
    }

    fn mails(&self) -> Vec<Json> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `config` to completion (its generator ends) and checks that sluice exited cleanly.
fn run(config: &str) {
    let output = sluice()
        .args(["run", "--api.enabled", "false", "-e", config])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A recorded field, with the mail's CRLF line ends as `\n` and no trailing blank lines.
fn text(mail: &Json, key: &str) -> String {
    mail[key]
        .as_str()
        .unwrap_or_default()
        .replace("\r\n", "\n")
        .trim_end()
        .to_owned()
}

#[test]
fn seed_style_config_mails_the_rendered_subject_bodies_and_attachment_to_every_recipient() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let sink = SmtpSink::start(port, dir.path());
    let runbook = dir.path().join("runbook.txt");
    std::fs::write(&runbook, "restart the database").unwrap();
    run(&format!(
        r#"input {{ generator {{ count => 3 lines => ["db down"] }} }}
output {{ email {{
  address => "127.0.0.1" port => {port}
  to => "team@mangakai.com, oncall@mangakai.com" cc => "lead@mangakai.com" bcc => "audit@mangakai.com"
  subject => "Error in MangakAI Application (#%{{[event][sequence]}})"
  body => "Error detected: %{{message}}"
  htmlbody => "<b>%{{message}}</b>" attachments => ["{runbook}"]
}} }}"#,
        runbook = runbook.display()
    ));
    let mut mails = sink.mails();
    assert_eq!(mails.len(), 3, "{mails:?}");
    mails.sort_by_key(|m| text(m, "subject"));
    for (i, mail) in mails.iter().enumerate() {
        assert_eq!(
            text(mail, "subject"),
            format!("Error in MangakAI Application (#{i})")
        );
        assert_eq!(text(mail, "body"), "Error detected: db down");
        assert_eq!(text(mail, "from"), "logstash.alert@example.com");
        assert_eq!(
            mail["to"],
            serde_json::json!([
                "team@mangakai.com",
                "oncall@mangakai.com",
                "lead@mangakai.com",
                "audit@mangakai.com"
            ])
        );
        assert_eq!(text(mail, "cc"), "lead@mangakai.com");
        assert!(
            mail["bcc_header"].is_null(),
            "Bcc must not be shown: {mail}"
        );
    }
}

/// The first line of `lines` (sluice's log) that contains `needle`.
fn wait_for_log(lines: &std::sync::mpsc::Receiver<String>, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let line = lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("sluice logged no {needle:?}"));
        if line.contains(needle) {
            return line;
        }
    }
}

fn http_get(addr: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    response
}

#[test]
fn mails_wait_for_a_server_that_comes_up_later_and_none_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = format!(
        r#"input {{ stdin {{}} }}
output {{ email {{
  id => "alerts"
  address => "127.0.0.1" port => {port} to => "team@mangakai.com"
  subject => "alert %{{message}}" body => "%{{message}}"
  retry_initial_interval => 1 retry_max_interval => 2
}} }}"#
    );
    let mut child = sluice()
        .args(["run", "--api.http.port", "0", "-e", &config])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, log) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let api_line = wait_for_log(&log, "addr=");
    let api = api_line
        .split("addr=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"0\n1\n2\n3\n4\n").unwrap();
    // Start the server only once sluice has seen it missing.
    wait_for_log(&log, "sending failed; will retry");
    let sink = SmtpSink::start(port, dir.path());
    let mails = wait_for_mails(&sink, 5);

    let metrics = http_get(api, "/metrics");
    let value = |name: &str| -> u64 {
        let series = format!("{name}{{pipeline=\"main\",plugin=\"alerts\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&series))
            .unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
            .parse()
            .unwrap()
    };
    assert_eq!(value("sluice_email_sent_total"), 5);
    assert!(value("sluice_email_retries_total") >= 1);
    assert!(value("sluice_email_failures_total") >= 1);

    drop(stdin);
    assert!(child.wait().unwrap().success());
    let mut subjects: Vec<String> = mails.iter().map(|m| text(m, "subject")).collect();
    subjects.sort();
    assert_eq!(
        subjects,
        ["alert 0", "alert 1", "alert 2", "alert 3", "alert 4"]
    );
    assert_eq!(sink.mails().len(), 5, "no mail twice");
}

/// Waits until the server has recorded `n` mails.
fn wait_for_mails(sink: &SmtpSink, n: usize) -> Vec<Json> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mails = sink.mails();
        if mails.len() >= n {
            return mails;
        }
        assert!(Instant::now() < deadline, "{} of {n} mails", mails.len());
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_storm_becomes_a_few_digest_mails_whose_counts_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let sink = SmtpSink::start(port, dir.path());
    let config = format!(
        r#"input {{ stdin {{}} }}
output {{ email {{
  address => "127.0.0.1" port => {port} to => "team@mangakai.com"
  subject => "Error in MangakAI Application" body => "Error detected: %{{message}}"
  digest_interval => 1 digest_max_events => 3
}} }}"#
    );
    let mut child = sluice()
        // One worker: with two, the second batch can reach the output first, and the first
        // digest's "first events" are then not the storm's first.
        .args(["run", "--api.enabled", "false", "-w", "1", "-e", &config])
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let lines = |range: std::ops::Range<usize>| -> String {
        range.map(|i| format!("storm {i}\n")).collect()
    };
    stdin.write_all(lines(0..6_000).as_bytes()).unwrap();
    // With stdin still open, only the end of an interval can send this mail.
    wait_for_mails(&sink, 1);
    stdin.write_all(lines(6_000..10_000).as_bytes()).unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());

    let mails = sink.mails();
    assert!(
        mails.len() >= 2 && mails.len() < 100,
        "{} mails",
        mails.len()
    );
    let mut total = 0;
    for mail in &mails {
        let subject = text(mail, "subject");
        let count: usize = subject
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(" events] Error in MangakAI Application"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("not a digest subject: {subject}"));
        let body = text(mail, "body");
        let shown = count.min(3);
        assert!(
            body.starts_with(&format!("{count} events in 1 s; the first {shown}:")),
            "{body}"
        );
        assert_eq!(
            body.matches("Error detected: storm ").count(),
            shown,
            "{body}"
        );
        total += count;
    }
    assert_eq!(total, 10_000);
    // The first digest shows the first events, in order.
    assert!(
        text(&mails[0], "body").ends_with(
            "---\nError detected: storm 0\n---\nError detected: storm 1\n---\nError detected: storm 2"
        ),
        "{}",
        text(&mails[0], "body")
    );
}

#[test]
fn settings_logstash_has_but_sluice_cannot_honour_are_refused_with_a_hint() {
    for (setting, hint) in [
        (
            r#"template_file => "/etc/alert.mustache""#,
            "write the mail with `body`/`htmlbody`",
        ),
        (r#"authentication => "cram_md5""#, "use `plain` or `login`"),
        (r#"via => "sendmail""#, "smtp"),
        ("use_tls => true implicit_tls => true", "exclude each other"),
    ] {
        let output = sluice()
            .args([
                "check",
                "-e",
                &format!(
                    r#"input {{ generator {{}} }} output {{ email {{ to => "a@b.c" {setting} }} }}"#
                ),
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(1), "{setting}: {stderr}");
        assert!(stderr.contains(hint), "{setting}: {stderr}");
    }
}

#[test]
fn starttls_and_auth_plain_reach_a_server_that_requires_both() {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

    let dir = tempfile::tempdir().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("ca.pem"), ca.pem()).unwrap();
    std::fs::write(path("server.pem"), cert.pem()).unwrap();
    std::fs::write(path("server.key"), key.serialize_pem()).unwrap();

    let port = free_port();
    let sink = SmtpSink::start_secured(
        port,
        dir.path(),
        &[&path("server.pem"), &path("server.key")],
        ("alerts", "s3cret"),
    );
    run(&format!(
        r#"input {{ generator {{ count => 1 lines => ["db down"] }} }}
output {{ email {{
  address => "127.0.0.1" port => {port} use_tls => true
  ssl_certificate_authorities => "{ca}"
  username => "alerts" password => "s3cret" authentication => "plain"
  to => "team@mangakai.com" subject => "secured" body => "%{{message}}"
}} }}"#,
        ca = path("ca.pem").display()
    ));
    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(text(&mails[0], "subject"), "secured");
    assert_eq!(text(&mails[0], "login"), "alerts/PLAIN");
    assert_eq!(mails[0]["tls"], true);
}
