//! The executor: runs nodes, routes as upstream TEA does (goto, edges in written order, implicit
//! chaining), fans out and joins parallel branches, loops, and stops at interrupts.

use crate::error::{Code, EngineError, Result};
use crate::model::{EdgeCond, EdgeDef, NodeDef, NodeKind, Output, Workflow, END, START};
use crate::state::{flow_result, initial_state, merge_branches, set_path};
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

/// Whether an interrupt stops a run before or after its node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    Before,
    After,
}

impl When {
    pub fn as_str(self) -> &'static str {
        match self {
            When::Before => "before",
            When::After => "after",
        }
    }
}

/// Progress events, in the order they happen.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    NodeStart {
        node: String,
        step: usize,
    },
    NodeEnd {
        node: String,
        step: usize,
    },
    Error {
        node: String,
        step: usize,
        code: &'static str,
        message: String,
    },
    /// Something the run did differently from what the YAML may mean, or a retry.
    Warning {
        node: String,
        message: String,
    },
    Interrupt {
        node: String,
        when: When,
    },
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
    /// Waits `ms` milliseconds (retry back-off).
    fn sleep(&self, _ms: f64) -> LocalBoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }
    /// Milliseconds on some clock (branch timings).
    fn now_ms(&self) -> f64 {
        0.0
    }
}

/// Where a resumed run continues: before `node` runs, or after it ran.
#[derive(Clone, Debug)]
pub struct Resume {
    pub node: String,
    pub when: When,
}

/// Per-run options.
#[derive(Default)]
pub struct RunOptions {
    pub max_steps: Option<usize>,
    /// Runtime variables; they override the workflow's `variables`.
    pub variables: Map<String, Value>,
    /// `{{ secrets.NAME }}`.
    pub secrets: Map<String, Value>,
    /// Continue an interrupted run (its checkpoint's node and side).
    pub resume: Option<Resume>,
}

/// How a run ended.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    Done(Value),
    Interrupted { node: String, when: When, state: Value },
}

enum Next {
    End,
    Go(String),
    /// The browser runtime's fan-out: several unconditional edges, merged by strategy.
    Fork(Vec<String>, Option<String>),
    /// Upstream Python's `type: parallel` edges: branches on copies, `parallel_results` at the
    /// fan-in node.
    Parallel(Vec<String>, String),
}

struct Run<'a> {
    wf: &'a Workflow,
    templates: &'a Templates,
    host: &'a dyn Host,
    globals: minijinja::Value,
    max_steps: usize,
    steps: Cell<usize>,
    history: RefCell<Vec<String>>,
    /// The node a resumed run starts at (its `interrupt_before` is not taken again).
    resumed_at: RefCell<Option<String>>,
}

/// Runs a workflow to its end (or to an interrupt).
pub async fn run(wf: &Workflow, templates: &Templates, initial: Value, opts: RunOptions, host: &dyn Host) -> Result<Outcome> {
    let initial = match initial {
        Value::Object(given) if !wf.initial_state.is_empty() => {
            let mut merged = wf.initial_state.clone();
            merged.extend(given);
            Value::Object(merged)
        }
        Value::Null if !wf.initial_state.is_empty() => Value::Object(wf.initial_state.clone()),
        other => other,
    };
    let state = initial_state(&wf.state_schema, initial)?;
    let mut variables = wf.variables.clone();
    variables.extend(opts.variables);
    let run = Run {
        wf,
        templates,
        host,
        globals: Scope::globals(&variables, &opts.secrets),
        max_steps: opts.max_steps.unwrap_or(wf.settings.max_steps),
        steps: Cell::new(0),
        history: RefCell::new(Vec::new()),
        resumed_at: RefCell::new(None),
    };
    // Routing reads the state through templates; share it for that, then take it back.
    let shared = Arc::new(state);
    let first = match opts.resume {
        None => run.route_edges(START, &shared)?,
        Some(r) => {
            let node = wf.node(&r.node).ok_or_else(|| {
                EngineError::new(Code::InvalidArgument, format!("the checkpoint's node '{}' is not in this workflow", r.node))
            })?;
            match r.when {
                When::Before => {
                    *run.resumed_at.borrow_mut() = Some(r.node.clone());
                    Next::Go(r.node)
                }
                When::After => run.route(node, &shared, None)?,
            }
        }
    };
    run.walk(first, unshare(shared), None).await
}

impl<'a> Run<'a> {
    /// Follows the route from `next` until the end, an interrupt (main path only), or until
    /// `stop_at` (a fan-in node) is next.
    fn walk<'s>(&'s self, mut next: Next, mut state: Value, stop_at: Option<&'s str>) -> LocalBoxFuture<'s, Result<Outcome>> {
        Box::pin(async move {
            loop {
                match next {
                    Next::End => return Ok(Outcome::Done(state)),
                    Next::Go(name) => {
                        if name == END || Some(name.as_str()) == stop_at {
                            return Ok(Outcome::Done(state));
                        }
                        let node = self
                            .wf
                            .node(&name)
                            .ok_or_else(|| EngineError::new(Code::UnknownNode, format!("route to unknown node '{name}'")))?;
                        let main = stop_at.is_none();
                        let resumed = self.resumed_at.take().is_some_and(|n| n == name);
                        if main && !resumed && self.wf.settings.interrupt_before.contains(&name) {
                            return Ok(self.interrupt(name, When::Before, state));
                        }
                        if !main && (self.wf.settings.interrupt_before.contains(&name) || self.wf.settings.interrupt_after.contains(&name))
                        {
                            self.host.emit(Event::Warning {
                                node: name.clone(),
                                message: "interrupts are not taken inside parallel branches; this branch runs on".into(),
                            });
                        }
                        let before = (node.fallback.is_some()).then(|| state.clone());
                        let (executed, result) = match self.execute_with_policy(node, state).await {
                            Ok(done) => done,
                            Err(e) if e.code != Code::Aborted && before.is_some() => {
                                let fallback = node.fallback.clone().unwrap_or_default();
                                self.host.emit(Event::Warning {
                                    node: name.clone(),
                                    message: format!(
                                        "node failed ({}: {}); continuing at its fallback '{fallback}'",
                                        e.code.as_str(),
                                        e.message
                                    ),
                                });
                                state = before.unwrap_or_default();
                                next = Next::Go(fallback);
                                continue;
                            }
                            Err(e) => return Err(e),
                        };
                        if main && self.wf.settings.interrupt_after.contains(&name) {
                            return Ok(self.interrupt(name, When::After, executed));
                        }
                        // Routing conditions are templates too: a slice may end before them.
                        self.host.pause().await;
                        let shared = Arc::new(executed);
                        next = self.route(node, &shared, result)?;
                        state = unshare(shared);
                    }
                    Next::Fork(targets, fan_in) => (state, next) = self.fork(targets, fan_in, state).await?,
                    Next::Parallel(targets, fan_in) => (state, next) = self.parallel(targets, fan_in, state).await?,
                }
            }
        })
    }

    /// The browser runtime's fan-out: each target runs on a copy of the state up to the join
    /// node; the branches' states are merged by the strategy, and the route goes on at the join.
    async fn fork(&self, targets: Vec<String>, fan_in: Option<String>, state: Value) -> Result<(Value, Next)> {
        let join = fan_in.or_else(|| self.find_join(&targets));
        let stop = join.as_deref().map(|j| self.intern(j));
        let branches = targets.iter().map(|t| self.walk(Next::Go(t.clone()), state.clone(), stop));
        let results = join_all(branches).await;
        let mut done = Vec::with_capacity(results.len());
        for (target, result) in targets.iter().zip(results) {
            done.push((target.clone(), done_state(result?)));
        }
        let state = merge_branches(&state, &done, self.wf.settings.merge)?;
        let next = match join {
            Some(j) => Next::Go(j),
            None => Next::End,
        };
        Ok((state, next))
    }

    /// Upstream's `type: parallel` edges: each target runs on a copy of the state up to the
    /// fan-in node, which then sees the branches' results as `parallel_results`.
    async fn parallel(&self, targets: Vec<String>, fan_in: String, mut state: Value) -> Result<(Value, Next)> {
        let stop = self.intern(&fan_in);
        let branches = targets.iter().map(|t| {
            let started = self.host.now_ms();
            let walk = self.walk(Next::Go(t.clone()), state.clone(), Some(stop));
            async move { (walk.await, self.host.now_ms() - started) }
        });
        let mut results = Vec::with_capacity(targets.len());
        for (target, (result, ms)) in targets.iter().zip(join_all(branches).await) {
            // As upstream: a failing branch fails the run (the first, in written
            // order), unless `settings.parallel.record_failures`.
            if let Err(e) = &result {
                if !self.wf.settings.record_failures {
                    return Err(e.clone());
                }
            }
            results.push(self.branch_result(target, result.map(done_state), ms)?);
        }
        obj(&mut state).insert("parallel_results".into(), Value::Array(results));
        Ok((state, Next::Go(fan_in)))
    }

    fn interrupt(&self, node: String, when: When, state: Value) -> Outcome {
        self.host.emit(Event::Interrupt { node: node.clone(), when });
        Outcome::Interrupted { node, when, state }
    }

    /// A branch's entry of `parallel_results`; an abort is not recorded but stops the run.
    fn branch_result(&self, branch: &str, result: Result<Value>, ms: f64) -> Result<Value> {
        match result {
            Err(e) if e.code == Code::Aborted => Err(e),
            other => Ok(flow_result(branch, other, ms)),
        }
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

    /// Where to go after `node`: its `goto` (which takes precedence), a dynamic_parallel node's
    /// fan-in, its edges, else the next node in the list.
    fn route(&self, node: &NodeDef, state: &Arc<Value>, result: Option<Value>) -> Result<Next> {
        if node.has_goto {
            let scope = Scope::with_result(state.clone(), &self.globals, result.unwrap_or_else(|| Value::Object(Map::new())));
            for rule in &node.goto {
                let take = match &rule.when {
                    None => true,
                    Some(cond) => match self.templates.goto_condition_in(cond, &scope) {
                        Ok(b) => b,
                        Err(e) => {
                            self.host.emit(Event::Warning {
                                node: node.name.clone(),
                                message: format!("goto condition `{cond}` failed and counts as false (as upstream): {}", e.message),
                            });
                            false
                        }
                    },
                };
                if take {
                    return Ok(Next::Go(rule.to.clone()));
                }
            }
            return Err(EngineError::new(
                Code::NoRoute,
                "no goto rule matched and the node has no fallback rule (`- to: <node>`); a node with goto does not continue to the next node",
            )
            .in_node(&node.name)
            .at(node.goto.first().and_then(|r| r.pos)));
        }
        if let NodeKind::DynamicParallel { fan_in, .. } = &node.kind {
            return Ok(Next::Go(fan_in.clone()));
        }
        self.route_edges(&node.name, state)
    }

    /// Edges from `from` (`__start__` or a node), tried in written order; without edges, the
    /// first node (from `__start__`) or the next node in the list.
    fn route_edges(&self, from: &str, state: &Arc<Value>) -> Result<Next> {
        let out: Vec<&EdgeDef> = self.wf.edges.iter().filter(|e| e.from == from).collect();
        if out.is_empty() {
            let next = if from == START {
                self.wf.nodes.first()
            } else {
                let idx = self.wf.nodes.iter().position(|n| n.name == from).unwrap_or(usize::MAX);
                self.wf.nodes.get(idx.wrapping_add(1))
            };
            return Ok(next.map(|n| Next::Go(n.name.clone())).unwrap_or(Next::End));
        }
        let parallel: Vec<&&EdgeDef> = out.iter().filter(|e| e.parallel).collect();
        if let Some(first) = parallel.first() {
            return Ok(Next::Parallel(parallel.iter().map(|e| e.to.clone()).collect(), first.fan_in.clone().unwrap_or_default()));
        }
        let unconditional: Vec<&&EdgeDef> = out.iter().filter(|e| e.cond == EdgeCond::Always).collect();
        let scope = Scope::new(state.clone(), &self.globals);
        let node = (from != START).then_some(from);
        for edge in &out {
            let at = |e: EngineError| {
                let e = e.at(edge.when_pos.or(edge.pos));
                match node {
                    Some(n) => e.in_node(n),
                    None => e,
                }
            };
            let take = match &edge.cond {
                EdgeCond::Always => true,
                EdgeCond::Const(b) => *b,
                EdgeCond::Truthy(c) => self.templates.condition_in(c, &scope).map_err(at)?,
                EdgeCond::Equals(c, want) => {
                    let got = self.templates.condition_in(c, &scope).map_err(at)?;
                    match want {
                        Value::Bool(w) => *w == got,
                        Value::Number(n) => n.as_f64() == Some(if got { 1.0 } else { 0.0 }),
                        _ => false,
                    }
                }
            };
            if !take {
                continue;
            }
            if edge.cond == EdgeCond::Always && unconditional.len() > 1 {
                return Ok(Next::Fork(
                    unconditional.iter().map(|e| e.to.clone()).collect(),
                    unconditional.iter().find_map(|e| e.fan_in.clone()),
                ));
            }
            return Ok(Next::Go(edge.to.clone()));
        }
        let e = EngineError::new(Code::NoRoute, "no edge condition matched and there is no unconditional edge to follow").at(out[0].pos);
        Err(match node {
            Some(n) => e.in_node(n),
            None => e,
        })
    }

    fn check_abort(&self, node: &str) -> Result<()> {
        if self.host.aborted() {
            return Err(EngineError::new(Code::Aborted, "the run was aborted").in_node(node));
        }
        Ok(())
    }

    /// `execute`, retried as the node's `retry:` says (upstream Rust engine).
    async fn execute_with_policy(&self, node: &NodeDef, state: Value) -> Result<(Value, Option<Value>)> {
        let Some(retry) = &node.retry else { return self.execute(node, state).await };
        let mut attempt = 0u32;
        loop {
            match self.execute(node, state.clone()).await {
                Err(e) if e.code != Code::Aborted && attempt < retry.max_retries => {
                    attempt += 1;
                    let delay = (retry.base_delay_ms * retry.multiplier.powi(attempt as i32 - 1)).min(retry.max_delay_ms);
                    self.host.emit(Event::Warning {
                        node: node.name.clone(),
                        message: format!("attempt {attempt} failed ({}); retrying in {delay} ms", e.message),
                    });
                    self.host.sleep(delay).await?;
                }
                other => return other,
            }
        }
    }

    /// Runs one node (events, step count, abort check); returns the new state and, for a node with
    /// `goto`, the action's result (its conditions read `result`).
    fn execute<'s>(&'s self, node: &'s NodeDef, state: Value) -> LocalBoxFuture<'s, Result<(Value, Option<Value>)>> {
        Box::pin(async move {
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
            let done = match &node.kind {
                NodeKind::Plain if !node.steps.is_empty() => self.run_steps(&node.steps, state).await.map(|s| (s, None)),
                NodeKind::Plain if node.action.is_none() => Ok((state, None)),
                NodeKind::Plain => self.execute_action(node, state).await,
                NodeKind::WhileLoop { condition, max_iterations, body } => {
                    self.run_while(condition, *max_iterations, body, state).await.map(|s| (s, None))
                }
                NodeKind::DynamicParallel { .. } => self.run_dynamic(node, state).await.map(|s| (s, None)),
            };
            match done {
                Ok(done) => {
                    self.host.emit(Event::NodeEnd { node: node.name.clone(), step });
                    Ok(done)
                }
                Err(e) => {
                    let e = e.in_node(&node.name).at(node.pos);
                    self.host.emit(Event::Error { node: node.name.clone(), step, code: e.code.as_str(), message: e.message.clone() });
                    Err(e)
                }
            }
        })
    }

    /// Steps (or a loop body): each runs on the state the previous one left.
    async fn run_steps(&self, steps: &[NodeDef], mut state: Value) -> Result<Value> {
        for step in steps {
            state = self.execute(step, state).await?.0;
        }
        Ok(state)
    }

    /// `type: while_loop`, as upstream Python: the condition is checked before each iteration;
    /// at `max_iterations` the loop ends and the run goes on.
    async fn run_while(&self, condition: &str, max: u64, body: &[NodeDef], mut state: Value) -> Result<Value> {
        for _ in 0..max {
            let shared = Arc::new(state);
            let go = self.templates.condition_in(condition, &Scope::new(shared.clone(), &self.globals))?;
            state = unshare(shared);
            if !go {
                break;
            }
            state = self.run_steps(body, state).await?;
        }
        Ok(state)
    }

    /// `type: dynamic_parallel`: one branch per item (the item and its index in the branch's
    /// state), results in `parallel_results` in item order; a failed branch is recorded there.
    async fn run_dynamic(&self, node: &NodeDef, mut state: Value) -> Result<Value> {
        let NodeKind::DynamicParallel { items, item_var, index_var, action_mode, .. } = &node.kind else { return Ok(state) };
        let shared = Arc::new(state);
        let list = self.templates.render_str_in(items, &Scope::new(shared.clone(), &self.globals))?;
        state = unshare(shared);
        let list = match list {
            Value::Null => Vec::new(),
            Value::Array(xs) if xs.len() > crate::limits::MAX_PARALLEL_BRANCHES => {
                return Err(EngineError::new(
                    Code::TooLarge,
                    format!(
                        "dynamic_parallel `items` gives {} items; the limit is {} branches (split the list, or loop over it)",
                        xs.len(),
                        crate::limits::MAX_PARALLEL_BRANCHES
                    ),
                ))
            }
            Value::Array(xs) => xs,
            other => {
                return Err(EngineError::new(
                    Code::Validation,
                    format!("dynamic_parallel `items` must give a list, got {}", crate::state::kind(&other)),
                ))
            }
        };
        let branches = list.into_iter().enumerate().map(|(i, item)| {
            let mut branch = state.clone();
            obj(&mut branch).insert(item_var.clone(), item.clone());
            obj(&mut branch).insert(index_var.clone(), json!(i));
            let started = self.host.now_ms();
            async move {
                let done = if *action_mode {
                    // Action mode: the branch's result is the action's output plus item and index.
                    match node.steps.first() {
                        Some(step) => self.execute(step, branch.clone()).await.map(|(after, _)| changed(&branch, &after)),
                        None => Ok(Value::Object(Map::new())),
                    }
                } else {
                    self.run_steps(&node.steps, branch).await
                };
                let done = done.map(|mut s| {
                    obj(&mut s).insert(item_var.clone(), item.clone());
                    obj(&mut s).insert(index_var.clone(), json!(i));
                    s
                });
                let failed_state = json!({ item_var.clone(): item, index_var.clone(): i });
                (format!("{}[{i}]", node.name), done, self.host.now_ms() - started, failed_state)
            }
        });
        let mut results = Vec::new();
        for (branch, done, ms, failed_state) in join_all(branches).await {
            let mut r = self.branch_result(&branch, done, ms)?;
            if r["success"] == json!(false) {
                r["state"] = failed_state;
            }
            results.push(r);
        }
        obj(&mut state).insert("parallel_results".into(), Value::Array(results));
        Ok(state)
    }

    /// Runs a node's action and stores its result (see `store`).
    async fn execute_action(&self, node: &NodeDef, state: Value) -> Result<(Value, Option<Value>)> {
        let state = Arc::new(state);
        let params = self.templates.render_value_in(&node.params, &Scope::new(state.clone(), &self.globals))?;
        // Rendering may have used up the slice (a template may run up to its budget).
        self.host.pause().await;
        let action = node.action.as_deref().unwrap_or_default();
        let result = match action {
            "passthrough" => (*state).clone(),
            "return" => match params {
                Value::Object(mut m) if m.contains_key("value") => m.remove("value").unwrap_or_default(),
                other => other,
            },
            "llm.call" | "llm.stream" | "llm.retry" => self.call_llm(action, node, params, &state).await?,
            // The tool loop runs on the host, which holds the registered actions and the LLM
            // handler; the engine checked the tools when the workflow loaded.
            "llm.tools" => {
                let mut params = self.llm_params(params, &state)?;
                // A tool that names a node runs that node's action with its `with:` (rendered
                // now, over this state) under the model's arguments.
                if let Some(Value::Array(tools)) = params.get_mut("tools") {
                    for tool in tools.iter_mut() {
                        let Some(name) = tool.get("node").and_then(Value::as_str).map(str::to_string) else { continue };
                        let target = self.wf.node(&name).ok_or_else(|| {
                            EngineError::new(Code::UnknownNode, format!("tool node '{name}' is not a node of this workflow"))
                        })?;
                        let with = self.templates.render_value_in(&target.params, &Scope::new(state.clone(), &self.globals))?;
                        tool["action"] = json!(target.action.clone().unwrap_or_default());
                        tool["with"] = with;
                    }
                }
                let params = Value::Object(params);
                crate::llm::check_reply("call", self.host.call("llm.tools", params, &node.name, &state).await?)?
            }
            "llm.embed" => {
                let params = crate::llm::check_request("embed", params)?;
                crate::llm::check_reply("embed", self.host.call("llm.embed", params, &node.name, &state).await?)?
            }
            other => {
                if !self.host.has_action(other) {
                    let hint = if other == "lua.eval" || other == "prolog.query" {
                        format!("action '{other}' needs a handler: register one with register_action('{other}', fn)")
                    } else {
                        format!("unknown action '{other}'")
                    };
                    return Err(EngineError::new(Code::UnknownAction, hint));
                }
                self.host.call(other, params, &node.name, &state).await?
            }
        };
        self.check_abort(&node.name)?;
        // Only `goto` conditions read the result after it is stored.
        let kept = node.has_goto.then(|| result.clone());
        Ok((self.store(node, state, result)?, kept))
    }

    /// Stores an action's result. `output: key` sets the key (dotted keys nest); `output:` as a
    /// mapping renders each template with `result` in scope; without `output:`, `return` and
    /// `passthrough` (the browser runtime's actions) store under the node's name, and every other
    /// action merges a mapping result into the state (anything else goes to `result`), as
    /// upstream Python does.
    fn store(&self, node: &NodeDef, state: Arc<Value>, result: Value) -> Result<Value> {
        match &node.output {
            Some(Output::Key(key)) => {
                let mut state = unshare(state);
                set_path(&mut state, key, result);
                Ok(state)
            }
            Some(Output::Map(map)) => {
                let scope = Scope::with_result(state.clone(), &self.globals, result);
                let mut values = Vec::with_capacity(map.len());
                for (k, t) in map {
                    let v = match t {
                        Value::String(s) => match self.templates.render_str_in(s, &scope)? {
                            Value::Null => Value::String(String::new()),
                            v => v,
                        },
                        other => other.clone(),
                    };
                    values.push((k.clone(), v));
                }
                drop(scope);
                let mut state = unshare(state);
                obj(&mut state).extend(values);
                Ok(state)
            }
            None => {
                let mut state = unshare(state);
                match (node.action.as_deref(), result) {
                    (Some("return" | "passthrough"), result) => set_path(&mut state, &node.name, result),
                    (_, Value::Object(m)) => obj(&mut state).extend(m),
                    (_, result) => {
                        obj(&mut state).insert("result".into(), result);
                    }
                }
                Ok(state)
            }
        }
    }

    /// `llm.call` / `llm.stream` / `llm.retry`: `settings.llm` defaults, retries with
    /// exponential back-off (`max_retries`, `base_delay`, `max_delay` in seconds, as upstream).
    async fn call_llm(&self, action: &str, node: &NodeDef, params: Value, state: &Arc<Value>) -> Result<Value> {
        let mut p = self.llm_params(params, state)?;
        let seconds = |p: &mut Map<String, Value>, k: &str, d: f64| -> Result<f64> {
            match p.remove(k) {
                None | Some(Value::Null) => Ok(d),
                Some(v) => v
                    .as_f64()
                    .filter(|x| *x >= 0.0)
                    .ok_or_else(|| EngineError::new(Code::Validation, format!("llm parameter '{k}' must be a number of seconds >= 0"))),
            }
        };
        let retry_default = if action == "llm.retry" { 3.0 } else { 0.0 };
        let max_retries = seconds(&mut p, "max_retries", retry_default)?;
        if max_retries > crate::limits::MAX_RETRIES as f64 || max_retries.fract() != 0.0 {
            return Err(EngineError::new(
                Code::Validation,
                format!("llm parameter 'max_retries' must be a whole number from 0 to {}", crate::limits::MAX_RETRIES),
            ));
        }
        let max_retries = max_retries as u32;
        let base_delay = seconds(&mut p, "base_delay", 1.0)?;
        let max_delay = seconds(&mut p, "max_delay", 60.0)?;
        let mut p = crate::llm::check_request("call", Value::Object(p))?;
        let streamed = action == "llm.stream";
        if streamed {
            p["stream"] = json!(true);
        }
        let (mut attempts, mut total_delay) = (0u32, 0.0f64);
        let reply = if max_retries == 0 {
            self.host.call("llm.call", p, &node.name, state).await?
        } else {
            loop {
                match self.host.call("llm.call", p.clone(), &node.name, state).await {
                    Ok(r) => break r,
                    Err(e) if e.code == Code::Aborted || attempts >= max_retries => return Err(e),
                    Err(e) => {
                        attempts += 1;
                        let delay = (base_delay * 2f64.powi(attempts as i32 - 1)).min(max_delay);
                        total_delay += delay;
                        self.host.emit(Event::Warning {
                            node: node.name.clone(),
                            message: format!("LLM call attempt {attempts} failed ({}); retrying in {delay} s", e.message),
                        });
                        self.host.sleep(delay * 1000.0).await?;
                        self.check_abort(&node.name)?;
                    }
                }
            }
        };
        let mut reply = crate::llm::check_reply("call", reply)?;
        if max_retries > 0 {
            reply["attempts"] = json!(attempts + 1);
            reply["total_delay"] = json!(total_delay);
        }
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

    /// An `llm.*` node's parameters as a mapping, with the `settings.llm` defaults it leaves out
    /// (string values are templates).
    fn llm_params(&self, params: Value, state: &Arc<Value>) -> Result<Map<String, Value>> {
        let mut p = match params {
            Value::Object(m) => m,
            Value::Null => Map::new(),
            other => {
                return Err(EngineError::new(
                    Code::Validation,
                    format!("llm parameters must be a mapping, got {}", crate::state::kind(&other)),
                ))
            }
        };
        if self.wf.settings.llm.is_empty() {
            return Ok(p);
        }
        let scope = Scope::new(state.clone(), &self.globals);
        for (k, v) in &self.wf.settings.llm {
            if !p.contains_key(k) {
                let v = match v {
                    Value::String(s) => self.templates.render_str_in(s, &scope)?,
                    other => other.clone(),
                };
                p.insert(k.clone(), v);
            }
        }
        Ok(p)
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

fn done_state(outcome: Outcome) -> Value {
    match outcome {
        Outcome::Done(s) | Outcome::Interrupted { state: s, .. } => s,
    }
}

fn obj(s: &mut Value) -> &mut Map<String, Value> {
    if !s.is_object() {
        *s = Value::Object(Map::new());
    }
    s.as_object_mut().expect("object")
}

/// The top-level keys of `after` that are new or differ from `before`.
fn changed(before: &Value, after: &Value) -> Value {
    Value::Object(crate::state::changes(before, after))
}
