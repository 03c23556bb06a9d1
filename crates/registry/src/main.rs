//! The `nucleus-trust-registry` command: `verify-pr`, `compile`, `log-append`, `verify-log`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use ed25519_dalek::SigningKey;
use nucleus_lineage::policy::Policy;
use nucleus_trust_registry::compile::compile;
use nucleus_trust_registry::gate::{PullRequest, verify_pr};
use nucleus_trust_registry::github_oidc::{
    Attestation, Expected, GITHUB_ACTIONS_ISSUER, GithubJwks,
};
use nucleus_trust_registry::log::cosign::{WitnessResult, http_client};
use nucleus_trust_registry::log::files::LogFiles;
use nucleus_trust_registry::log::verify::{inspect, verify_log};
use nucleus_trust_registry::log::{AppendError, append_and_cosign};
use nucleus_trust_registry::registry::load_registry;

/// Environment variable holding the OIDC token when `--token-file` is not given.
const TOKEN_ENV: &str = "NUCLEUS_REGISTRY_OIDC_TOKEN";
/// Environment variable naming the log key file.
const LOG_KEY_FILE_ENV: &str = "NUCLEUS_REGISTRY_LOG_KEY_FILE";
/// Environment variable holding the log key seed as hex.
const LOG_KEY_HEX_ENV: &str = "NUCLEUS_REGISTRY_LOG_KEY_HEX";

#[derive(Debug, Parser)]
#[command(
    name = "nucleus-trust-registry",
    version,
    about = "PR-rooted, witness-cosigned registry of federated SPIFFE trust domains"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The fail-closed enrollment gate for a pull request.
    VerifyPr(Box<VerifyPrArgs>),
    /// Print the deterministic federation set (cosigned bindings only).
    Compile(CompileArgs),
    /// Append new or changed bindings to the log, sign a checkpoint, get it cosigned.
    LogAppend(LogAppendArgs),
    /// Check the committed log: inclusion, consistency, quorum.
    VerifyLog(VerifyLogArgs),
}

#[derive(Debug, clap::Args)]
struct VerifyPrArgs {
    /// The registry at the PR's head commit.
    #[arg(long)]
    registry: PathBuf,
    /// The registry at the PR's base commit (a separate checkout).
    #[arg(long)]
    base: PathBuf,
    /// A file listing the PR's changed paths, one per line, relative to the repository root.
    #[arg(long)]
    changed_paths: PathBuf,
    /// The registry folder inside the repository ("" when it is the root).
    #[arg(long, default_value = "registry")]
    prefix: String,
    /// A file holding the GitHub Actions OIDC token (else $NUCLEUS_REGISTRY_OIDC_TOKEN).
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// GitHub's OIDC JWK Set (a file).
    #[arg(long)]
    jwks: PathBuf,
    /// The pinned token issuer.
    #[arg(long, default_value = GITHUB_ACTIONS_ISSUER)]
    issuer: String,
    /// The registry's audience (the enroller requests the token for it).
    #[arg(long)]
    audience: String,
    /// The PR's head repository, `owner/name`: where the token must have been minted.
    #[arg(long)]
    head_repository: String,
    /// Its numeric repository ID.
    #[arg(long)]
    head_repository_id: Option<u64>,
    /// The PR's head ref, e.g. `refs/heads/enroll-ci`.
    #[arg(long)]
    head_ref: String,
    /// The PR's head commit SHA.
    #[arg(long)]
    head_sha: String,
    /// Accepted `event_name` values of the minting workflow.
    #[arg(long, value_delimiter = ',', default_value = "push,workflow_dispatch")]
    event: Vec<String>,
    /// Where to write the attestation (JSON) for `log-append`.
    #[arg(long)]
    attestation_out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// Canonical JSON (the registry's own format).
    Json,
    /// `[[federates_with]]` rows for the federation crate.
    Toml,
    /// FederatesWith objects (trust.nucleus.dev/v1alpha1) as YAML.
    Federateswith,
}

#[derive(Debug, clap::Args)]
struct CompileArgs {
    /// The registry folder.
    #[arg(long)]
    registry: PathBuf,
    /// The quorum policy (its `log` line pins the log key).
    #[arg(long)]
    policy: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// Namespace for `--format federateswith` objects and their ConfigMaps.
    #[arg(long, default_value = "nucleus-system")]
    namespace: String,
    /// Write here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct LogAppendArgs {
    /// The registry folder.
    #[arg(long)]
    registry: PathBuf,
    /// The quorum policy: its `log` line pins the log key, its witness lines carry URLs.
    #[arg(long)]
    policy: PathBuf,
    /// Attestations written by `verify-pr` (repeatable).
    #[arg(long)]
    attestation: Vec<PathBuf>,
    /// The log origin; needed only when the log is created.
    #[arg(long)]
    origin: Option<String>,
    /// The log key file: a 32-byte Ed25519 seed, raw or as 64 hex digits (else
    /// $NUCLEUS_REGISTRY_LOG_KEY_FILE or $NUCLEUS_REGISTRY_LOG_KEY_HEX).
    #[arg(long)]
    log_key_file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct VerifyLogArgs {
    /// The registry folder.
    #[arg(long)]
    registry: PathBuf,
    /// The quorum policy (its `log` line pins the log key).
    #[arg(long)]
    policy: PathBuf,
}

fn read_policy(path: &Path) -> Result<Policy> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Policy::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn seed(bytes: &[u8], source: &str) -> Result<SigningKey> {
    if let Ok(raw) = <[u8; 32]>::try_from(bytes) {
        return Ok(SigningKey::from_bytes(&raw));
    }
    let text = std::str::from_utf8(bytes)
        .with_context(|| format!("{source}: neither 32 raw bytes nor hex text"))?;
    let decoded = hex::decode(text.trim()).with_context(|| format!("{source}: not hex"))?;
    let raw: [u8; 32] = decoded
        .try_into()
        .map_err(|_| anyhow::anyhow!("{source}: expected a 32-byte seed (64 hex digits)"))?;
    Ok(SigningKey::from_bytes(&raw))
}

fn log_key(file: Option<&Path>) -> Result<SigningKey> {
    let path = file
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os(LOG_KEY_FILE_ENV).map(PathBuf::from));
    if let Some(path) = path {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        return seed(&bytes, &path.display().to_string());
    }
    match std::env::var(LOG_KEY_HEX_ENV) {
        Ok(hex_seed) => seed(hex_seed.as_bytes(), LOG_KEY_HEX_ENV),
        Err(_) => {
            bail!("no log key: pass --log-key-file or set {LOG_KEY_FILE_ENV} or {LOG_KEY_HEX_ENV}")
        }
    }
}

fn run_verify_pr(args: VerifyPrArgs) -> Result<()> {
    let token = match &args.token_file {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        }
        None => std::env::var(TOKEN_ENV)
            .with_context(|| format!("no token: pass --token-file or set {TOKEN_ENV}"))?,
    };
    let jwks_bytes =
        std::fs::read(&args.jwks).with_context(|| format!("reading {}", args.jwks.display()))?;
    let jwks = GithubJwks::parse(&jwks_bytes)?;
    let changed: Vec<String> = std::fs::read_to_string(&args.changed_paths)
        .with_context(|| format!("reading {}", args.changed_paths.display()))?
        .lines()
        .map(str::to_owned)
        .collect();
    let expected = Expected {
        issuer: args.issuer,
        audience: args.audience,
        repository: args.head_repository,
        repository_id: args.head_repository_id,
        git_ref: args.head_ref,
        sha: args.head_sha,
        events: args.event,
    };
    let pr = PullRequest {
        base: &args.base,
        head: &args.registry,
        changed_paths: &changed,
        prefix: &args.prefix,
    };
    let attestation = verify_pr(&pr, &token, &jwks, &expected, now())?;
    for (domain, digest) in &attestation.bindings {
        println!(
            "ok  {domain}: owner_id {} proven by {} at {} (binding sha256 {digest})",
            attestation.token.repository_owner_id,
            attestation.token.repository,
            attestation.token.sha
        );
    }
    if let Some(out) = &args.attestation_out {
        let mut json = serde_json::to_string_pretty(&attestation)?;
        json.push('\n');
        std::fs::write(out, json).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}

fn run_compile(args: CompileArgs) -> Result<()> {
    let policy = read_policy(&args.policy)?;
    let registry = load_registry(&args.registry)?;
    let view = inspect(&LogFiles::new(&args.registry), &policy)?;
    let set = compile(&registry, &view);
    for (domain, why) in &set.excluded {
        eprintln!("excluded {domain}: {why}");
    }
    let text = match args.format {
        Format::Json => set.to_json(),
        Format::Toml => set.to_toml()?,
        Format::Federateswith => set.to_federateswith_yaml(&args.namespace),
    };
    match &args.out {
        Some(out) => {
            std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))
        }
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

async fn run_log_append(args: LogAppendArgs) -> Result<bool> {
    let policy = read_policy(&args.policy)?;
    let key = log_key(args.log_key_file.as_deref())?;
    let registry = load_registry(&args.registry)?;
    let attestations = args
        .attestation
        .iter()
        .map(|path| {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_slice::<Attestation>(&bytes)
                .with_context(|| format!("{}: not an attestation", path.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    let client = http_client()?;
    let report = append_and_cosign(
        &args.registry,
        &registry,
        &attestations,
        &key,
        args.origin.as_deref(),
        &policy,
        &client,
    )
    .await
    .map_err(|e: AppendError| anyhow::anyhow!(e))?;
    for (domain, index) in &report.appended {
        println!("appended  {domain} at index {index}");
    }
    if let Some(cosigned) = &report.cosigned {
        for (witness, result) in &cosigned.witnesses {
            match result {
                WitnessResult::Cosigned => println!("cosigned  {witness}"),
                WitnessResult::Already => println!("cosigned  {witness} (already)"),
                WitnessResult::NoUrl => println!("skipped   {witness}: no URL in the policy"),
                WitnessResult::Failed(why) => println!("refused   {witness}: {why}"),
            }
        }
    }
    if report.satisfied {
        println!("quorum: satisfied at size {}", report.size);
    } else {
        println!(
            "quorum: NOT satisfied at size {} (entries and checkpoint kept; rerun to retry)",
            report.size
        );
    }
    Ok(report.satisfied)
}

fn run_verify_log(args: VerifyLogArgs) -> Result<()> {
    let policy = read_policy(&args.policy)?;
    let view = verify_log(&LogFiles::new(&args.registry), &policy)?;
    let latest = view
        .checkpoints
        .last()
        .context("verified log without a checkpoint")?;
    println!(
        "log {}: {} entries, {} checkpoints, consistent; latest size {} cosigned by {}",
        view.origin,
        view.entries.len(),
        view.checkpoints.len(),
        latest.checkpoint.size,
        latest.report.counted.join(", ")
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::VerifyPr(args) => run_verify_pr(*args).map(|()| true),
        Command::Compile(args) => run_compile(args).map(|()| true),
        Command::VerifyLog(args) => run_verify_log(args).map(|()| true),
        Command::LogAppend(args) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the runtime")
            .and_then(|rt| rt.block_on(run_log_append(args))),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
