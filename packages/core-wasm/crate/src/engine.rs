//! The engine's entry points, free of JavaScript: parse + validate, then run.

use crate::error::{Code, EngineError, Problem, Result, Severity};
use crate::exec::{run, Host, Outcome, RunOptions};
use crate::model::Workflow;
use crate::source::Source;
use crate::template::Templates;
use crate::validate::validate;
use serde_json::Value;
use std::collections::HashSet;

/// A parsed and validated workflow, ready to run many times.
pub struct Compiled {
    pub workflow: Workflow,
    pub warnings: Vec<Problem>,
    templates: Templates,
}

/// Parses and validates; returns every problem found (errors and warnings), never stopping at
/// the first, in source order.
pub fn check(yaml: &str, actions: &HashSet<String>) -> (Option<Workflow>, Vec<Problem>) {
    check_with(yaml, actions, &Templates::default())
}

/// `check`, compiling the workflow's templates into `templates` (a run then finds them there).
fn check_with(yaml: &str, actions: &HashSet<String>, templates: &Templates) -> (Option<Workflow>, Vec<Problem>) {
    let src = match Source::parse(yaml) {
        Ok(s) => s,
        Err(e) => {
            return (None, vec![Problem { severity: Severity::Error, code: e.code, message: e.message, node: None, pos: e.pos }]);
        }
    };
    let mut problems = Vec::new();
    let wf = Workflow::from_source(&src, &mut problems);
    validate(&src, &wf, actions, templates, &mut problems);
    problems.sort_by_key(|p| p.pos.map(|p| (p.line, p.column)).unwrap_or((usize::MAX, 0)));
    (Some(wf), problems)
}

impl Compiled {
    /// Parses and validates; the first error (in source order) becomes the returned error.
    pub fn parse(yaml: &str, actions: &HashSet<String>) -> Result<Compiled> {
        let templates = Templates::default();
        let (wf, problems) = check_with(yaml, actions, &templates);
        if let Some(first) = problems.iter().find(|p| p.severity == Severity::Error) {
            let count = problems.iter().filter(|p| p.severity == Severity::Error).count();
            let mut e = first.to_error();
            if count > 1 {
                e.message = format!(
                    "{} (and {} more problem{}; validate_yaml lists them all)",
                    e.message,
                    count - 1,
                    if count > 2 { "s" } else { "" }
                );
            }
            return Err(e);
        }
        let workflow = wf.ok_or_else(|| EngineError::new(Code::YamlParse, "empty workflow"))?;
        Ok(Compiled { workflow, warnings: problems, templates })
    }

    pub async fn run(&self, state: Value, opts: RunOptions, host: &dyn Host) -> Result<Outcome> {
        run(&self.workflow, &self.templates, state, opts, host).await
    }
}

/// Renders one template against a state and variables (for tools and tests).
pub fn render(template: &str, state: &Value, variables: &Value) -> Result<Value> {
    let vars = variables.as_object().cloned().unwrap_or_default();
    Templates::default().render_str(template, state, &vars)
}
