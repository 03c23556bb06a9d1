//! Canonical text form of a policy.

use super::Policy;
use super::model::Quorum;

impl Policy {
    /// Writes the policy in canonical form: `log` lines, then `witness` lines, then `group`
    /// lines in their original order, then the `quorum` line; single spaces, lowercase hex,
    /// one LF per line. Each key keeps its syntax (hex or vkey; 0x01 witness vkeys appear as
    /// the 0x04 vkeys they were converted to).
    ///
    /// For any policy returned by [`Policy::parse`], `Policy::parse(&p.to_text())` returns a
    /// policy equal to `p`: members are still defined before use because all witnesses come
    /// first and groups keep their order.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for log in &self.logs {
            push_line(&mut out, &["log", &log.key.to_string()], log.url.as_deref());
        }
        for witness in &self.witnesses {
            push_line(
                &mut out,
                &["witness", &witness.name, &witness.key.to_string()],
                witness.url.as_deref(),
            );
        }
        for group in &self.groups {
            let threshold = group.threshold.to_string();
            let mut fields = vec!["group", group.name.as_str(), threshold.as_str()];
            fields.extend(group.members.iter().map(String::as_str));
            push_line(&mut out, &fields, None);
        }
        let target = match &self.quorum {
            Quorum::None => super::NONE,
            Quorum::Name(name) => name.as_str(),
        };
        push_line(&mut out, &["quorum", target], None);
        out
    }
}

fn push_line(out: &mut String, fields: &[&str], url: Option<&str>) {
    out.push_str(&fields.join(" "));
    if let Some(url) = url {
        out.push(' ');
        out.push_str(url);
    }
    out.push('\n');
}
