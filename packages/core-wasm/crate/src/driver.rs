//! Runs a workflow step by step for a host that owns the event loop (JavaScript). The host starts
//! a run, then polls it: each poll works until every branch waits for an action or an LLM reply,
//! or until the run has worked for `SLICE_MS` (then it asks the host to yield), and reports the
//! events and the requests it produced. The host answers requests with `reply`. No host code is
//! called while the engine works, so a handler cannot re-enter it, a trap always surfaces in the
//! host's own call, and an abort is the host dropping the run.

use crate::engine::Compiled;
use crate::error::{Code, EngineError, Result};
use crate::exec::{Event, Host, Outcome, RunOptions};
use crate::limits::SLICE_MS;
use futures::future::LocalBoxFuture;
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// Something the host must do for the run: call an action or the LLM handler.
#[derive(Debug, PartialEq)]
pub struct Request {
    pub id: u32,
    pub action: String,
    pub node: String,
    pub params: Value,
    /// The state, for registered actions (LLM handlers do not receive it).
    pub state: Option<Value>,
}

/// The host side of a run, as the executor sees it.
pub struct StepHost {
    actions: HashSet<String>,
    clock: fn() -> f64,
    slice_start: Cell<f64>,
    yield_wanted: Cell<bool>,
    next_id: Cell<u32>,
    events: RefCell<Vec<Value>>,
    requests: RefCell<Vec<Request>>,
    replies: RefCell<HashMap<u32, Result<Value>>>,
    /// Called with each node that starts (for the host's trap report).
    on_node: fn(&str),
}

struct Reply<'a> {
    host: &'a StepHost,
    id: u32,
}

impl Future for Reply<'_> {
    type Output = Result<Value>;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        match self.host.replies.borrow_mut().remove(&self.id) {
            Some(r) => Poll::Ready(r),
            None => Poll::Pending,
        }
    }
}

/// Pending once if the current slice of work is used up.
struct Pause<'a> {
    host: &'a StepHost,
    asked: bool,
}

impl Future for Pause<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.asked || (self.host.clock)() - self.host.slice_start.get() < SLICE_MS {
            return Poll::Ready(());
        }
        self.asked = true;
        self.host.yield_wanted.set(true);
        Poll::Pending
    }
}

impl Host for StepHost {
    fn call<'a>(&'a self, action: &'a str, params: Value, node: &'a str, state: &'a Value) -> LocalBoxFuture<'a, Result<Value>> {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        // Registered actions get the state; so does the tool loop, for the actions it calls.
        let state = (!action.starts_with("llm.") || action == "llm.tools").then(|| state.clone());
        self.requests.borrow_mut().push(Request { id, action: action.to_string(), node: node.to_string(), params, state });
        Box::pin(Reply { host: self, id })
    }

    fn has_action(&self, name: &str) -> bool {
        self.actions.contains(name)
    }

    fn emit(&self, event: Event) {
        let v = match event {
            Event::NodeStart { node, step } => {
                (self.on_node)(&node);
                json!({ "type": "node_start", "node": node, "step": step })
            }
            Event::NodeEnd { node, step } => json!({ "type": "node_end", "node": node, "step": step }),
            Event::Warning { node, message } => json!({ "type": "warning", "node": node, "message": message }),
            Event::Interrupt { node, when } => json!({ "type": "interrupt", "node": node, "when": when.as_str() }),
            Event::Error { node, step, code, message } => {
                json!({ "type": "error", "node": node, "step": step, "code": code, "message": message })
            }
        };
        self.events.borrow_mut().push(v);
    }

    fn aborted(&self) -> bool {
        false
    }

    fn pause(&self) -> LocalBoxFuture<'_, ()> {
        Box::pin(Pause { host: self, asked: false })
    }

    /// A `__sleep` request: the host answers it after `ms` (or at once with `ABORTED`).
    fn sleep(&self, ms: f64) -> LocalBoxFuture<'_, Result<()>> {
        let reply = self.call("__sleep", json!({ "ms": ms }), "", &Value::Null);
        Box::pin(async move { reply.await.map(drop) })
    }

    fn now_ms(&self) -> f64 {
        (self.clock)()
    }
}

/// What one poll produced.
pub struct Step {
    /// `Some` when the run finished (its final state, interrupt or error).
    pub done: Option<Result<Outcome>>,
    pub events: Vec<Value>,
    pub requests: Vec<Request>,
    /// The run used up its slice: the host should let its event loop run, then poll again.
    pub yield_now: bool,
}

/// A started run.
pub struct StepRun {
    host: Rc<StepHost>,
    future: Option<Pin<Box<dyn Future<Output = Result<Outcome>>>>>,
}

impl StepRun {
    /// Starts `compiled` on `state`; nothing runs until the first `poll`.
    pub fn start(
        compiled: Rc<Compiled>,
        state: Value,
        opts: RunOptions,
        actions: HashSet<String>,
        clock: fn() -> f64,
        on_node: fn(&str),
    ) -> StepRun {
        let host = Rc::new(StepHost {
            actions,
            clock,
            slice_start: Cell::new(0.0),
            yield_wanted: Cell::new(false),
            next_id: Cell::new(1),
            events: RefCell::new(Vec::new()),
            requests: RefCell::new(Vec::new()),
            replies: RefCell::new(HashMap::new()),
            on_node,
        });
        let h = host.clone();
        let future = Box::pin(async move { compiled.run(state, opts, &*h).await });
        StepRun { host, future: Some(future) }
    }

    /// Works until the run waits, finishes or used up its slice.
    pub fn poll(&mut self) -> Step {
        let host = &self.host;
        host.slice_start.set((host.clock)());
        host.yield_wanted.set(false);
        let done = match self.future.as_mut() {
            None => Some(Err(EngineError::new(Code::InvalidArgument, "this run has already finished"))),
            Some(f) => match f.as_mut().poll(&mut Context::from_waker(&futures::task::noop_waker())) {
                Poll::Ready(r) => {
                    self.future = None;
                    Some(r)
                }
                Poll::Pending => None,
            },
        };
        Step { done, events: host.events.take(), requests: host.requests.take(), yield_now: host.yield_wanted.get() }
    }

    /// The host's answer to request `id`.
    pub fn reply(&self, id: u32, result: Result<Value>) {
        if id < self.host.next_id.get() {
            self.host.replies.borrow_mut().insert(id, result);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn clock() -> f64 {
        thread_local!(static T0: Instant = Instant::now());
        T0.with(|t| t.elapsed().as_secs_f64() * 1000.0)
    }

    fn compiled(yaml: &str) -> Rc<Compiled> {
        Rc::new(Compiled::parse(yaml, &HashSet::new()).unwrap())
    }

    /// Drives a run to its end, answering every LLM request with `content: "ok"`.
    fn drive(run: &mut StepRun) -> (Result<Value>, usize, usize) {
        let (mut polls, mut yields) = (0, 0);
        loop {
            let step = run.poll();
            polls += 1;
            if let Some(done) = step.done {
                let done = done.map(|o| match o {
                    Outcome::Done(s) | Outcome::Interrupted { state: s, .. } => s,
                });
                return (done, polls, yields);
            }
            yields += step.yield_now as usize;
            for r in step.requests {
                run.reply(r.id, Ok(json!({ "content": "ok" })));
            }
        }
    }

    #[test]
    fn requests_replies_and_events_round_trip() {
        let yaml = "name: t\nnodes:\n  - name: ask\n    uses: llm.call\n    with: { prompt: \"{{ state.q }}\" }\n    output: a\n";
        let mut run = StepRun::start(compiled(yaml), json!({ "q": "hi" }), RunOptions::default(), HashSet::new(), clock, |_| {});
        let step = run.poll();
        assert!(step.done.is_none());
        assert_eq!(step.events, vec![json!({ "type": "node_start", "node": "ask", "step": 1 })]);
        assert_eq!(step.requests.len(), 1);
        assert_eq!(step.requests[0].params, json!({ "prompt": "hi", "max_tokens": 100 }));
        assert_eq!(step.requests[0].state, None);
        run.reply(step.requests[0].id, Ok(json!({ "content": "yes" })));
        let step = run.poll();
        let Outcome::Done(state) = step.done.unwrap().unwrap() else { panic!("interrupted") };
        assert_eq!(state["a"]["content"], json!("yes"));
        assert_eq!(step.events, vec![json!({ "type": "node_end", "node": "ask", "step": 1 })]);
    }

    #[test]
    fn a_long_compute_loop_asks_to_yield() {
        fn slow_clock() -> f64 {
            // Each reading is 1 ms later: the slice (8 ms) runs out every few nodes.
            thread_local!(static T: Cell<f64> = const { Cell::new(0.0) });
            T.with(|t| {
                t.set(t.get() + 1.0);
                t.get()
            })
        }
        let yaml = "name: l\nstate_schema: { n: { type: int, default: 0 } }\nnodes:\n  - name: inc\n    uses: return\n    with: { value: \"{{ state.n + 1 }}\" }\n    output: n\n    goto:\n      - if: \"state.n < 100\"\n        to: inc\n      - to: __end__\n";
        let mut run = StepRun::start(compiled(yaml), json!({}), RunOptions::default(), HashSet::new(), slow_clock, |_| {});
        let (done, polls, yields) = drive(&mut run);
        assert_eq!(done.unwrap()["n"], json!(100));
        assert!(yields >= 10 && polls == yields + 1, "{polls} polls, {yields} yields");
    }

    #[test]
    #[ignore = "timing: cargo test --release -- --ignored --nocapture"]
    fn per_node_cost() {
        let nodes: String = (0..100)
            .map(|i| {
                format!(
                    "  - name: n{i}\n    uses: llm.call\n    with:\n      prompt: \"step {i} of {{{{ state.topic }}}}\"\n    output: r{}\n",
                    i % 5
                )
            })
            .collect();
        let c = compiled(&format!("name: bench\nnodes:\n{nodes}"));
        let t0 = Instant::now();
        for _ in 0..300 {
            let mut run = StepRun::start(c.clone(), json!({ "topic": "tea" }), RunOptions::default(), HashSet::new(), clock, |_| {});
            drive(&mut run).0.unwrap();
        }
        println!("{:.1} µs per node", t0.elapsed().as_secs_f64() * 1e6 / 30_000.0);
    }
}
