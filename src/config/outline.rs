//! The plan as `sluice check` prints it: every plugin with its id, every conditional with
//! the label its branch counters carry, in the order events meet them.

use std::fmt::Write;

use super::ast::{Config, Statement};
use super::compile::plugin_default_id;
use super::settings::scalar_string;
use super::source::Sources;

pub fn outline(config: &Config, sources: &Sources) -> String {
    let mut out = String::new();
    for section in &config.sections {
        let _ = writeln!(out, "{}", section.kind.name());
        statements(&section.body, 1, section.kind.name(), sources, &mut out);
    }
    out
}

fn statements(
    body: &[Statement],
    depth: usize,
    section: &str,
    sources: &Sources,
    out: &mut String,
) {
    let indent = "  ".repeat(depth);
    for statement in body {
        match statement {
            Statement::Plugin(p) => {
                let id = p
                    .settings
                    .iter()
                    .find(|s| s.name == "id")
                    .and_then(|s| scalar_string(&s.value))
                    .unwrap_or_else(|| plugin_default_id(sources, p));
                let _ = writeln!(out, "{indent}{} (id: {id})", p.name);
            }
            Statement::If(chain) => {
                for (i, branch) in chain.branches.iter().enumerate() {
                    let keyword = if i == 0 { "if" } else { "else if" };
                    let file = sources
                        .path(branch.span.file)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let _ = writeln!(
                        out,
                        "{indent}{keyword} {}  (branch: {section}@{file}:{})",
                        branch.condition_text, branch.span.line
                    );
                    statements(&branch.body, depth + 1, section, sources, out);
                }
                if let Some(otherwise) = &chain.otherwise {
                    let _ = writeln!(out, "{indent}else");
                    statements(otherwise, depth + 1, section, sources, out);
                }
            }
        }
    }
}
