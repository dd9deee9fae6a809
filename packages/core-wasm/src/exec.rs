//! The executor: runs nodes, routes by goto / edges, fans out and joins parallel branches.

use crate::error::{Code, EngineError, Result};
use crate::model::{NodeDef, Workflow, END, START};
use crate::state::{initial_state, merge_branches, set_path};
use crate::template::{Scope, Templates};
use futures::future::{join_all, LocalBoxFuture};
use serde_json::{json, Map, Value};
use std::cell::{Cell, RefCell};
use std::sync::Arc;

/// The state back from templates, which shared it while they ran (they hold no reference once
/// they returned, so this copies nothing).
fn unshare(state: Arc<Value>) -> Value {
    Arc::try_unwrap(state).unwrap_or_else(|shared| (*shared).clone())
}

/// Progress events, in the order they happen.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    NodeStart { node: String, step: usize },
    NodeEnd { node: String, step: usize },
    Error { node: String, step: usize, code: &'static str, message: String },
}

/// What the executor needs from its host (JavaScript in the browser, a script in tests).
pub trait Host {
    /// Runs an action the engine does not implement itself (`llm.*`, registered actions).
    fn call<'a>(&'a self, action: &'a str, params: Value, node: &'a str, state: &'a Value) -> LocalBoxFuture<'a, Result<Value>>;
    /// Whether an action with this name is registered.
    fn has_action(&self, name: &str) -> bool;
    fn emit(&self, event: Event);
    /// Whether the run was cancelled (checked before each node and after each await).
    fn aborted(&self) -> bool;
    /// Awaited before each node: a host with an event loop returns a future that is pending once
    /// when the run has worked for a while, so that the loop can paint and see an abort.
    fn pause(&self) -> LocalBoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// Per-run options.
#[derive(Default)]
pub struct RunOptions {
    pub max_steps: Option<usize>,
    /// Runtime variables; they override the workflow's `variables`.
    pub variables: Map<String, Value>,
}

enum Next {
    End,
    Go(String),
    Fork(Vec<String>, Option<String>),
}

struct Run<'a> {
    wf: &'a Workflow,
    templates: &'a Templates,
    host: &'a dyn Host,
    variables: minijinja::Value,
    max_steps: usize,
    steps: Cell<usize>,
    history: RefCell<Vec<String>>,
}

/// Runs a workflow to its end and returns the final state.
pub async fn run(wf: &Workflow, templates: &Templates, initial: Value, opts: RunOptions, host: &dyn Host) -> Result<Value> {
    let state = initial_state(&wf.state_schema, initial)?;
    let mut variables = wf.variables.clone();
    variables.extend(opts.variables);
    let run = Run {
        wf,
        templates,
        host,
        variables: Scope::variables(&variables),
        max_steps: opts.max_steps.unwrap_or(wf.settings.max_steps),
        steps: Cell::new(0),
        history: RefCell::new(Vec::new()),
    };
    let first = run.start()?;
    run.walk(first, state, None).await
}

impl<'a> Run<'a> {
    fn start(&self) -> Result<Next> {
        if self.wf.edges.is_empty() {
            return Ok(self.wf.nodes.first().map(|n| Next::Go(n.name.clone())).unwrap_or(Next::End));
        }
        let targets: Vec<&crate::model::EdgeDef> = self.wf.edges.iter().filter(|e| e.from == START).collect();
        Ok(match targets.as_slice() {
            [] => return Err(EngineError::new(Code::Validation, "no edge starts at '__start__'")),
            [one] => Next::Go(one.to.clone()),
            many => Next::Fork(many.iter().map(|e| e.to.clone()).collect(), many.iter().find_map(|e| e.fan_in.clone())),
        })
    }

    /// Follows the route from `next` until the end, or until `stop_at` (a fan-in node) is next.
    fn walk<'s>(&'s self, mut next: Next, mut state: Value, stop_at: Option<&'s str>) -> LocalBoxFuture<'s, Result<Value>> {
        Box::pin(async move {
            loop {
                match next {
                    Next::End => return Ok(state),
                    Next::Go(name) => {
                        if name == END || Some(name.as_str()) == stop_at {
                            return Ok(state);
                        }
                        let node = self
                            .wf
                            .node(&name)
                            .ok_or_else(|| EngineError::new(Code::UnknownNode, format!("route to unknown node '{name}'")))?;
                        let executed = self.execute(node, state).await?;
                        // Routing conditions are templates too: a slice may end before them.
                        self.host.pause().await;
                        let shared = Arc::new(executed);
                        next = self.route(node, &shared)?;
                        state = unshare(shared);
                    }
                    Next::Fork(targets, fan_in) => {
                        let join = fan_in.or_else(|| self.find_join(&targets));
                        let base = state.clone();
                        let branches =
                            targets.iter().map(|t| self.walk(Next::Go(t.clone()), base.clone(), join.as_deref().map(|j| self.intern(j))));
                        let results = join_all(branches).await;
                        let mut done = Vec::with_capacity(results.len());
                        for (target, result) in targets.iter().zip(results) {
                            done.push((target.clone(), result?));
                        }
                        state = merge_branches(&base, &done, self.wf.settings.merge)?;
                        next = match join {
                            Some(j) => Next::Go(j),
                            None => Next::End,
                        };
                    }
                }
            }
        })
    }

    /// A node name with the workflow's lifetime (fan-in names come from the model).
    fn intern(&self, name: &str) -> &'a str {
        self.wf.nodes.iter().find(|n| n.name == name).map(|n| n.name.as_str()).unwrap_or(END)
    }

    /// The first node every branch reaches by unconditional steps: the branches' fan-in.
    fn find_join(&self, targets: &[String]) -> Option<String> {
        let reach = |start: &str| -> Vec<String> {
            let mut order = Vec::new();
            let mut queue = std::collections::VecDeque::from([start.to_string()]);
            while let Some(n) = queue.pop_front() {
                if n == END || order.contains(&n) {
                    continue;
                }
                order.push(n.clone());
                for e in self.wf.edges.iter().filter(|e| e.from == n) {
                    queue.push_back(e.to.clone());
                }
                if let Some(node) = self.wf.node(&n) {
                    queue.extend(node.goto.iter().map(|r| r.to.clone()));
                }
            }
            order
        };
        let all: Vec<Vec<String>> = targets.iter().map(|t| reach(t)).collect();
        let first = all.first()?;
        first.iter().find(|n| !targets.contains(n) && all.iter().all(|r| r.contains(n))).cloned()
    }

    fn route(&self, node: &NodeDef, state: &Arc<Value>) -> Result<Next> {
        let scope = Scope::new(state.clone(), &self.variables);
        for rule in &node.goto {
            let take = match &rule.when {
                None => true,
                Some(cond) => self.templates.condition_in(cond, &scope).map_err(|e| e.in_node(&node.name).at(rule.pos))?,
            };
            if take {
                return Ok(Next::Go(rule.to.clone()));
            }
        }
        if self.wf.edges.is_empty() {
            let idx = self.wf.nodes.iter().position(|n| n.name == node.name).unwrap_or(usize::MAX);
            return Ok(self.wf.nodes.get(idx.wrapping_add(1)).map(|n| Next::Go(n.name.clone())).unwrap_or(Next::End));
        }
        let out: Vec<&crate::model::EdgeDef> = self.wf.edges.iter().filter(|e| e.from == node.name).collect();
        if out.is_empty() {
            return Ok(Next::End);
        }
        let conditional: Vec<_> = out.iter().filter(|e| e.when.is_some()).collect();
        for edge in &conditional {
            let cond = edge.when.as_deref().unwrap_or_default();
            if self.templates.condition_in(cond, &scope).map_err(|e| e.in_node(&node.name).at(edge.when_pos.or(edge.pos)))? {
                return Ok(Next::Go(edge.to.clone()));
            }
        }
        let plain: Vec<_> = out.iter().filter(|e| e.when.is_none()).collect();
        Ok(match plain.as_slice() {
            [] => {
                return Err(EngineError::new(Code::NoRoute, "no edge condition matched and there is no unconditional edge to follow")
                    .in_node(&node.name)
                    .at(conditional.first().and_then(|e| e.pos)))
            }
            [one] => Next::Go(one.to.clone()),
            many => Next::Fork(many.iter().map(|e| e.to.clone()).collect(), many.iter().find_map(|e| e.fan_in.clone())),
        })
    }

    fn check_abort(&self, node: &str) -> Result<()> {
        if self.host.aborted() {
            return Err(EngineError::new(Code::Aborted, "the run was aborted").in_node(node));
        }
        Ok(())
    }

    async fn execute(&self, node: &NodeDef, state: Value) -> Result<Value> {
        let step = self.steps.get() + 1;
        self.steps.set(step);
        self.history.borrow_mut().push(node.name.clone());
        self.host.pause().await;
        if step > self.max_steps {
            return Err(EngineError::new(
                Code::MaxSteps,
                format!("stopped after {} steps (settings.max_steps); the loop is {}", self.max_steps, self.cycle(&node.name)),
            )
            .in_node(&node.name)
            .at(node.pos));
        }
        self.check_abort(&node.name)?;
        self.host.emit(Event::NodeStart { node: node.name.clone(), step });
        match self.execute_inner(node, state).await {
            Ok(state) => {
                self.host.emit(Event::NodeEnd { node: node.name.clone(), step });
                Ok(state)
            }
            Err(e) => {
                let e = e.in_node(&node.name).at(node.pos);
                self.host.emit(Event::Error { node: node.name.clone(), step, code: e.code.as_str(), message: e.message.clone() });
                Err(e)
            }
        }
    }

    async fn execute_inner(&self, node: &NodeDef, state: Value) -> Result<Value> {
        let state = Arc::new(state);
        let params = self.templates.render_value_in(&node.params, &Scope::new(state.clone(), &self.variables))?;
        // Rendering may have used up the slice (a template may run up to its budget).
        self.host.pause().await;
        let action = node.action.as_deref().unwrap_or("passthrough");
        let result = match action {
            "passthrough" => None,
            "return" => Some(params.get("value").cloned().unwrap_or(Value::Null)),
            "llm.call" | "llm.stream" => Some(self.call_llm(action, node, params, &state).await?),
            "llm.embed" => {
                let params = crate::llm::check_request("embed", params)?;
                Some(crate::llm::check_reply("embed", self.host.call("llm.embed", params, &node.name, &state).await?)?)
            }
            other => {
                if !self.host.has_action(other) && !other.starts_with("llm.") {
                    let hint = if other == "lua.eval" || other == "prolog.query" {
                        format!("action '{other}' needs a handler: register one with register_action('{other}', fn)")
                    } else {
                        format!("unknown action '{other}'")
                    };
                    return Err(EngineError::new(Code::UnknownAction, hint));
                }
                Some(self.host.call(other, params, &node.name, &state).await?)
            }
        };
        self.check_abort(&node.name)?;
        let mut state = unshare(state);
        if let Some(value) = result {
            set_path(&mut state, node.output.as_deref().unwrap_or(&node.name), value);
        }
        Ok(state)
    }

    async fn call_llm(&self, action: &str, node: &NodeDef, params: Value, state: &Value) -> Result<Value> {
        let mut p = crate::llm::check_request("call", params)?;
        let streamed = action == "llm.stream";
        if streamed {
            p["stream"] = json!(true);
        }
        let mut reply = crate::llm::check_reply("call", self.host.call("llm.call", p, &node.name, state).await?)?;
        if streamed {
            // As upstream's llm.stream: `streamed` and how many pieces the handler streamed (the
            // host counts its onToken calls into `chunk_count`; a handler that streamed none
            // delivered its reply as one piece).
            let whole = u64::from(!reply["content"].as_str().unwrap_or_default().is_empty());
            let chunks = reply.get("chunk_count").and_then(Value::as_u64).unwrap_or(whole);
            reply["streamed"] = json!(true);
            reply["chunk_count"] = json!(chunks);
        }
        Ok(reply)
    }

    /// The repeating tail of the node history, e.g. `a -> b -> a`.
    fn cycle(&self, current: &str) -> String {
        let history = self.history.borrow();
        let before = &history[..history.len().saturating_sub(1)];
        match before.iter().rposition(|n| n == current) {
            Some(i) => history[i..].join(" -> "),
            None => current.to_string(),
        }
    }
}
