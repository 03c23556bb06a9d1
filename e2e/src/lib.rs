//! Support for the end-to-end suites: the control plane started by
//! `e2e/scripts/cluster.sh up` (found through `NUCLEUS_E2E_*` variables), kubectl/helm,
//! the chart install, ServiceAccount kubeconfigs, local operator and witness processes,
//! Postgres, a minimal HTTP client, a tiny transparency-log producer, and an HTTPS SPIFFE
//! bundle endpoint.
//!
//! Suites skip with a printed reason when the cluster (or Postgres) is not configured, and
//! fail instead when `CI=true`, so CI never skips silently.

mod bundle_endpoint;

pub use bundle_endpoint::BundleEndpoint;

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use nucleus_lineage::merkle::{self, Hash};
use nucleus_lineage::{Checkpoint, Note, NoteSignature, NoteSigner};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Errors of the harness.
#[derive(Debug, thiserror::Error)]
pub enum E2eError {
    /// A command could not start.
    #[error("running {cmd}: {source}")]
    Spawn {
        /// The command line.
        cmd: String,
        /// Cause.
        source: std::io::Error,
    },
    /// A command exited unsuccessfully.
    #[error("{cmd} failed ({status}): {stderr}")]
    Failed {
        /// The command line.
        cmd: String,
        /// Exit status.
        status: String,
        /// Its stderr.
        stderr: String,
    },
    /// File or socket I/O.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// Kubernetes client setup.
    #[error("kube: {0}")]
    Kube(String),
    /// A condition was not reached in time.
    #[error("timed out after {0:?} waiting for {1}")]
    Timeout(Duration, String),
    /// An HTTP exchange was malformed or answered an error.
    #[error("HTTP: {0}")]
    Http(String),
    /// The local operator did not come up.
    #[error("operator: {0}")]
    Operator(String),
}

/// Result alias of the harness.
pub type Result<T> = std::result::Result<T, E2eError>;

/// Skips (prints why, returns None) unless `CI=true`, where it panics.
pub fn skip_or_fail<T>(why: &str) -> Option<T> {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but the e2e prerequisites are missing: {why}");
    }
    eprintln!("SKIPPED: {why}");
    None
}

/// The running control plane.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// Admin kubeconfig (`system:masters`).
    pub kubeconfig: PathBuf,
    /// apiserver URL.
    pub server: String,
    /// apiserver CA file.
    pub ca: PathBuf,
    /// The helm binary.
    pub helm: PathBuf,
}

impl Cluster {
    /// The cluster from `NUCLEUS_E2E_KUBECONFIG` (+ `NUCLEUS_E2E_SERVER`, `NUCLEUS_E2E_CA`,
    /// `NUCLEUS_E2E_HELM`), or skip/fail per [`skip_or_fail`].
    pub fn from_env() -> Option<Cluster> {
        let Ok(kubeconfig) = std::env::var("NUCLEUS_E2E_KUBECONFIG") else {
            return skip_or_fail(
                "NUCLEUS_E2E_KUBECONFIG is unset (run `e2e/scripts/cluster.sh up` and source $NUCLEUS_E2E_DIR/env)",
            );
        };
        let var = |k: &str| std::env::var(k).ok();
        let (Some(server), Some(ca)) = (var("NUCLEUS_E2E_SERVER"), var("NUCLEUS_E2E_CA")) else {
            return skip_or_fail("NUCLEUS_E2E_SERVER / NUCLEUS_E2E_CA are unset");
        };
        Some(Cluster {
            kubeconfig: kubeconfig.into(),
            server,
            ca: ca.into(),
            helm: var("NUCLEUS_E2E_HELM")
                .unwrap_or_else(|| "helm".to_owned())
                .into(),
        })
    }

    /// A client with the admin kubeconfig.
    pub async fn admin_client(&self) -> Result<kube::Client> {
        client_for(&self.kubeconfig).await
    }

    /// Runs kubectl with the admin kubeconfig; returns stdout.
    pub fn kubectl(&self, args: &[&str]) -> Result<String> {
        run(
            Command::new("kubectl")
                .env("KUBECONFIG", &self.kubeconfig)
                .args(args),
            None,
        )
    }

    /// Runs kubectl with `input` on stdin.
    pub fn kubectl_stdin(&self, args: &[&str], input: &str) -> Result<String> {
        run(
            Command::new("kubectl")
                .env("KUBECONFIG", &self.kubeconfig)
                .args(args),
            Some(input),
        )
    }

    /// Runs helm with the admin kubeconfig.
    pub fn helm(&self, args: &[&str]) -> Result<String> {
        run(
            Command::new(&self.helm)
                .env("KUBECONFIG", &self.kubeconfig)
                .args(args),
            None,
        )
    }

    /// Writes a kubeconfig that authenticates as ServiceAccount `ns/sa` with a fresh token
    /// from `kubectl create token`, so the chart's RBAC is what the holder gets.
    pub fn service_account_kubeconfig(&self, ns: &str, sa: &str, out: &Path) -> Result<()> {
        let token = self.kubectl(&["-n", ns, "create", "token", sa, "--duration=2h"])?;
        let config = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "e2e", "cluster": {"server": self.server, "certificate-authority": self.ca}}],
            "users": [{"name": sa, "user": {"token": token.trim()}}],
            "contexts": [{"name": "sa", "context": {"cluster": "e2e", "user": sa, "namespace": ns}}],
            "current-context": "sa",
        });
        std::fs::write(
            out,
            serde_json::to_vec_pretty(&config).map_err(|e| E2eError::Kube(e.to_string()))?,
        )?;
        Ok(())
    }
}

/// Helm release the suites install the chart as. Every suite upgrades the same release
/// (idempotent), so they can run in any order against one control plane.
pub const RELEASE: &str = "nucleus-e2e";
/// Namespace of [`RELEASE`]: the operator's ServiceAccount and Lease live there.
pub const SYSTEM_NS: &str = "nucleus-system";

impl Cluster {
    /// `helm upgrade --install` of `charts/nucleus-operator` with no operator pod
    /// (`replicaCount=0`: the suites run the operator as a local process with the chart's
    /// ServiceAccount token), then waits for the chart's CRDs to be Established. Returns the
    /// ServiceAccount name.
    ///
    /// CRDs applied earlier outside Helm (`kubectl apply -f crds/` by another suite) are
    /// first marked for adoption by the release (Helm's ownership label and annotations),
    /// so the chart's own CRD templates are always what gets installed. Another helm
    /// operation on the release in progress (a concurrent suite) is waited out.
    pub fn install_chart(&self) -> Result<String> {
        let chart = repo_root().join("charts/nucleus-operator");
        let chart = chart.to_string_lossy().into_owned();
        let crds = CRD_NAMES.map(|c| format!("crd/{c}"));
        for crd in &crds {
            // Fails only when the CRD does not exist yet (nothing to adopt).
            let _ = self.kubectl(&[
                "annotate",
                "--overwrite",
                crd,
                &format!("meta.helm.sh/release-name={RELEASE}"),
                &format!("meta.helm.sh/release-namespace={SYSTEM_NS}"),
            ]);
            let _ = self.kubectl(&[
                "label",
                "--overwrite",
                crd,
                "app.kubernetes.io/managed-by=Helm",
            ]);
        }
        let args = [
            "upgrade",
            "--install",
            RELEASE,
            chart.as_str(),
            "--namespace",
            SYSTEM_NS,
            "--create-namespace",
            "--set",
            "replicaCount=0",
            "--wait",
            "--timeout",
            "120s",
        ];
        let mut installed = false;
        for _ in 0..60 {
            match self.helm(&args) {
                Ok(_) => {
                    installed = true;
                    break;
                }
                Err(e) if e.to_string().contains("another operation") => {
                    std::thread::sleep(Duration::from_secs(2));
                }
                Err(e) => return Err(e),
            }
        }
        if !installed {
            return Err(E2eError::Timeout(
                Duration::from_secs(120),
                "a free helm release (another operation kept it busy)".to_owned(),
            ));
        }
        let mut wait = vec!["wait", "--for=condition=Established", "--timeout=60s"];
        wait.extend(crds.iter().map(String::as_str));
        self.kubectl(&wait)?;
        Ok(format!("{RELEASE}-nucleus-operator"))
    }
}

/// The CRDs the chart installs.
pub const CRD_NAMES: [&str; 4] = [
    "witnesses.trust.nucleus.dev",
    "quorumpolicies.trust.nucleus.dev",
    "federateswith.trust.nucleus.dev",
    "bundlereplicas.trust.nucleus.dev",
];

/// A local `nucleus-operator` process and the address of its /metrics server.
#[derive(Debug)]
pub struct Operator {
    /// The process (killed on drop).
    pub process: Process,
    /// Where /healthz, /readyz and /metrics are served.
    pub addr: SocketAddr,
}

impl Operator {
    /// Starts the debug operator binary (built first, see [`binary`]) with `kubeconfig`, the
    /// Lease `lease` in [`SYSTEM_NS`] and `extra` arguments, and waits until it reports
    /// leadership on /metrics. The log goes to `log`.
    pub async fn start(
        kubeconfig: &Path,
        log: PathBuf,
        lease: &str,
        extra: &[&str],
    ) -> Result<Operator> {
        let bin = binary("nucleus-operator", "nucleus-operator")?;
        Self::start_with(
            &bin,
            kubeconfig,
            log,
            lease,
            extra,
            "info,nucleus_operator=debug",
        )
        .await
    }

    /// Like [`Operator::start`] with a given binary and `RUST_LOG` filter.
    pub async fn start_with(
        bin: &Path,
        kubeconfig: &Path,
        log: PathBuf,
        lease: &str,
        extra: &[&str],
        rust_log: &str,
    ) -> Result<Operator> {
        let port = free_port()?;
        let process = Process::spawn(
            Command::new(bin)
                .env("KUBECONFIG", kubeconfig)
                .env("POD_NAMESPACE", SYSTEM_NS)
                .env("RUST_LOG", rust_log)
                .arg(format!("--http-addr=127.0.0.1:{port}"))
                .arg(format!("--lease-name={lease}"))
                .args(extra),
            log,
        )?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let leading = wait_for(
            "operator leadership",
            Duration::from_secs(90),
            Duration::from_millis(250),
            || async move {
                let (code, body) = http(addr, "GET", "/metrics", b"").await.ok()?;
                (code == 200
                    && String::from_utf8_lossy(&body).contains("nucleus_operator_leader 1"))
                .then_some(())
            },
        )
        .await;
        let mut operator = Operator { process, addr };
        if let Err(e) = leading {
            let running = operator.process.running();
            return Err(E2eError::Operator(format!(
                "{e} (process running: {running}); log:\n{}",
                operator.process.output()
            )));
        }
        Ok(operator)
    }

    /// The /metrics text.
    pub async fn metrics(&self) -> Result<String> {
        let (code, body) = http(self.addr, "GET", "/metrics", b"").await?;
        if code != 200 {
            return Err(E2eError::Http(format!("/metrics answered {code}")));
        }
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

/// A client for a kubeconfig file.
pub async fn client_for(path: &Path) -> Result<kube::Client> {
    let kc =
        kube::config::Kubeconfig::read_from(path).map_err(|e| E2eError::Kube(e.to_string()))?;
    let config =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .map_err(|e| E2eError::Kube(e.to_string()))?;
    kube::Client::try_from(config).map_err(|e| E2eError::Kube(e.to_string()))
}

/// Runs a command to completion; stdout on success, stderr in the error otherwise.
pub fn run(cmd: &mut Command, input: Option<&str>) -> Result<String> {
    let line = format!("{cmd:?}");
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|source| E2eError::Spawn {
        cmd: line.clone(),
        source,
    })?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(text.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(E2eError::Failed {
            cmd: line,
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Path of a workspace binary, built with `cargo build -p <package> --bin <name>` first
/// (a no-op when fresh) unless `NUCLEUS_E2E_PREBUILT` is set.
pub fn binary(package: &str, name: &str) -> Result<PathBuf> {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join("target"));
    if std::env::var_os("NUCLEUS_E2E_PREBUILT").is_some() {
        return Ok(target.join("debug").join(name));
    }
    run(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
            .current_dir(repo_root())
            .args(["build", "-q", "-p", package, "--bin", name]),
        None,
    )?;
    Ok(target.join("debug").join(name))
}

/// A free loopback port.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A child process killed (and reaped) on drop; its output goes to a log file.
#[derive(Debug)]
pub struct Process {
    child: Child,
    /// Where stdout and stderr go.
    pub log: PathBuf,
}

impl Process {
    /// Starts `cmd` with stdout/stderr appended to `log`.
    pub fn spawn(cmd: &mut Command, log: PathBuf) -> Result<Process> {
        let file = std::fs::File::create(&log)?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .map_err(|source| E2eError::Spawn {
                cmd: format!("{cmd:?}"),
                source,
            })?;
        Ok(Process { child, log })
    }

    /// The OS process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits up to `grace` for the exit; kills after that.
    pub fn terminate(&mut self, grace: Duration) -> Result<Option<std::process::ExitStatus>> {
        run(
            Command::new("kill").args(["-TERM", &self.child.id().to_string()]),
            None,
        )?;
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return Ok(Some(status));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.child.kill()?;
        self.child.wait()?;
        Ok(None)
    }

    /// Whether it still runs.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The log so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `f` every `every` until it returns `Some`, or times out naming `what`.
pub async fn wait_for<T, F, Fut>(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut f: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return Ok(v);
        }
        if Instant::now() >= deadline {
            return Err(E2eError::Timeout(timeout, what.to_owned()));
        }
        tokio::time::sleep(every).await;
    }
}

/// A one-shot HTTP/1.1 request on loopback; returns status and body.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<(u16, Vec<u8>)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| E2eError::Http("no header terminator".into()))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| E2eError::Http(format!("bad status line in {head:?}")))?;
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body)?;
    }
    Ok((status, body))
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| E2eError::Http("truncated chunk".into()))?;
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..eol]).trim(), 16)
            .map_err(|e| E2eError::Http(e.to_string()))?;
        data = &data[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            return Err(E2eError::Http("truncated chunk body".into()));
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// `NUCLEUS_TEST_POSTGRES_URL`, or skip/fail per [`skip_or_fail`].
pub fn postgres_url() -> Option<String> {
    match std::env::var("NUCLEUS_TEST_POSTGRES_URL") {
        Ok(url) => Some(url),
        Err(_) => skip_or_fail("NUCLEUS_TEST_POSTGRES_URL is unset (run scripts/lib/postgres.sh)"),
    }
}

/// Runs SQL with psql against `url`.
pub fn psql(url: &str, sql: &str) -> Result<String> {
    run(
        Command::new("psql").args([url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql]),
        None,
    )
}

/// A minimal transparency log: leaves in memory, checkpoints signed with an Ed25519 key.
pub struct LogProducer {
    signer: NoteSigner,
    origin: String,
    leaves: Vec<Hash>,
}

impl LogProducer {
    /// A log with `origin` whose key name is the origin, signing with `seed`.
    pub fn new(origin: &str, seed: [u8; 32]) -> LogProducer {
        LogProducer {
            signer: NoteSigner::new(origin, SigningKey::from_bytes(&seed))
                .expect("origin is a valid key name"),
            origin: origin.to_owned(),
            leaves: Vec::new(),
        }
    }

    /// The log's note verifier key.
    pub fn vkey(&self) -> nucleus_lineage::Vkey {
        self.signer.vkey().clone()
    }

    /// Appends a leaf.
    pub fn append(&mut self, data: &[u8]) {
        self.leaves.push(merkle::leaf_hash(data));
    }

    /// Current size.
    pub fn size(&self) -> u64 {
        self.leaves.len() as u64
    }

    /// The signed checkpoint note at the current size.
    pub fn checkpoint(&self) -> Note {
        let text = Checkpoint {
            origin: self.origin.clone(),
            size: self.size(),
            root: merkle::root(&self.leaves),
            extensions: Vec::new(),
        }
        .to_text();
        let sig = self.signer.sign(&text);
        Note {
            text,
            signatures: vec![sig],
        }
    }

    /// The `POST /add-checkpoint` body moving a witness from `old_size` to the current size.
    pub fn add_checkpoint_body(&self, old_size: u64) -> Vec<u8> {
        let mut body = format!("old {old_size}\n");
        if old_size > 0 && old_size < self.size() {
            let proof = merkle::consistency_proof(&self.leaves, old_size).expect("valid sizes");
            for h in proof {
                body.push_str(&nucleus_lineage::b64::encode(&h));
                body.push('\n');
            }
        }
        body.push('\n');
        let mut bytes = body.into_bytes();
        bytes.extend_from_slice(&self.checkpoint().to_bytes());
        bytes
    }
}

/// Parses the cosignature lines a witness answered with.
pub fn parse_cosignatures(body: &[u8]) -> Vec<NoteSignature> {
    String::from_utf8_lossy(body)
        .lines()
        .filter(|l| !l.is_empty())
        .filter_map(|l| NoteSignature::parse_line(l).ok())
        .collect()
}
