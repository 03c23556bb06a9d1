//! `crdgen`: writes `crds/*.yaml` and the chart's CRD templates from the Rust types.
//! `crdgen --check` writes nothing and fails when a checked-in file differs (CI drift check).

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Parser;
use nucleus_operator::crd;

#[derive(Parser)]
#[command(about = "Generate the CRD YAML from the operator's Rust types")]
struct Args {
    /// Repository root (holds `crds/` and `charts/nucleus-operator/`).
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Fail when a file would change instead of writing it.
    #[arg(long)]
    check: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let crd_dir = args.root.join("crds");
    let chart_dir = args.root.join("charts/nucleus-operator/templates/crds");
    let mut drift = Vec::new();
    for c in crd::all() {
        let name = crd::file_name(&c);
        let outputs = [
            (crd_dir.join(&name), crd::to_yaml(&c)?),
            (chart_dir.join(&name), crd::to_helm_template(&c)?),
        ];
        for (path, text) in outputs {
            let current = std::fs::read_to_string(&path).ok();
            if current.as_deref() == Some(text.as_str()) {
                continue;
            }
            if args.check {
                drift.push(path.display().to_string());
                continue;
            }
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
        }
    }
    if !drift.is_empty() {
        bail!(
            "generated CRDs differ from the checked-in files (run `cargo run -p nucleus-operator --bin crdgen`): {}",
            drift.join(", ")
        );
    }
    Ok(())
}
