//! Native tests of parsing, validation and execution with a scripted host.

use crate::engine::{check, Compiled};
use crate::error::{Code, Severity};
use crate::exec::{Event, Host, Outcome, RunOptions};
use futures::executor::block_on;
use futures::future::LocalBoxFuture;
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::collections::HashSet;

#[derive(Default)]
struct Script {
    events: RefCell<Vec<String>>,
    calls: RefCell<Vec<Value>>,
    abort_after: Cell<Option<usize>>,
}

impl Host for Script {
    fn call<'a>(
        &'a self,
        action: &'a str,
        params: Value,
        node: &'a str,
        _state: &'a Value,
    ) -> LocalBoxFuture<'a, crate::error::Result<Value>> {
        Box::pin(async move {
            self.calls.borrow_mut().push(json!({ "action": action, "node": node, "params": params.clone() }));
            match action {
                "llm.call" => Ok(json!({ "content": format!("echo:{}", params["prompt"].as_str().unwrap_or("")) })),
                "double" => Ok(json!(params["n"].as_i64().unwrap_or(0) * 2)),
                _ => Err(crate::error::EngineError::new(Code::ActionFailed, "boom")),
            }
        })
    }
    fn has_action(&self, name: &str) -> bool {
        name == "double" || name == "fails"
    }
    fn emit(&self, event: Event) {
        let s = match event {
            Event::NodeStart { node, step } => format!("start:{node}:{step}"),
            Event::NodeEnd { node, step } => format!("end:{node}:{step}"),
            Event::Error { node, code, .. } => format!("error:{node}:{code}"),
            Event::Warning { node, .. } => format!("warning:{node}"),
            Event::Interrupt { node, when } => format!("interrupt:{node}:{}", when.as_str()),
        };
        self.events.borrow_mut().push(s);
    }
    fn aborted(&self) -> bool {
        match self.abort_after.get() {
            Some(n) => self.events.borrow().len() >= n,
            None => false,
        }
    }
}

fn actions() -> HashSet<String> {
    ["double".to_string(), "fails".to_string()].into_iter().collect()
}

fn run(yaml: &str, state: Value) -> (crate::error::Result<Value>, Script) {
    let host = Script::default();
    let result = Compiled::parse(yaml, &actions()).and_then(|c| block_on(c.run(state, RunOptions::default(), &host))).map(done);
    (result, host)
}

fn done(o: Outcome) -> Value {
    match o {
        Outcome::Done(s) => s,
        Outcome::Interrupted { node, .. } => panic!("interrupted at {node}"),
    }
}

#[test]
fn simple_chat_sequence_with_dotted_output() {
    let yaml = "name: simple-chat\nnodes:\n  - name: ask\n    uses: llm.call\n    with:\n      prompt: \"{{ state.question }}\"\n    output: answer.reply\nedges:\n  - from: __start__\n    to: ask\n  - from: ask\n    to: __end__\n";
    let (r, host) = run(yaml, json!({ "question": "hi" }));
    let out = r.unwrap();
    assert_eq!(out["answer"]["reply"]["content"], json!("echo:hi"));
    assert_eq!(out["answer"]["reply"]["usage"], json!({}), "as upstream: usage is empty when the handler reports none");
    assert_eq!(out["answer"]["reply"].get("finish_reason"), None);
    assert_eq!(host.calls.borrow()[0]["params"]["max_tokens"], json!(100));
    assert_eq!(*host.events.borrow(), vec!["start:ask:1", "end:ask:1"]);
}

#[test]
fn no_edges_runs_in_order_and_goto_loops_with_typed_templates() {
    let yaml = "name: loop\nstate_schema:\n  counter: { type: int, default: 0 }\nnodes:\n  - name: inc\n    uses: return\n    with:\n      value: \"{{ state.counter + 1 }}\"\n    output: counter\n    goto:\n      - if: \"state.counter < 3\"\n        to: inc\n      - to: done\n  - name: done\n    uses: passthrough\n";
    let (r, host) = run(yaml, json!({}));
    assert_eq!(r.unwrap(), json!({ "counter": 3, "done": { "counter": 3 } }), "passthrough stores a copy of the state");
    let starts: Vec<_> = host.events.borrow().iter().filter(|e| e.starts_with("start")).cloned().collect();
    assert_eq!(starts, vec!["start:inc:1", "start:inc:2", "start:inc:3", "start:done:4"]);
}

#[test]
fn conditional_edges_route_like_a_switch_in_written_order() {
    let yaml = "name: route\nnodes:\n  - name: classify\n    uses: passthrough\n  - name: big\n    uses: return\n    with: { value: big }\n    output: kind\n  - name: small\n    uses: return\n    with: { value: small }\n    output: kind\nedges:\n  - from: __start__\n    to: classify\n  - from: classify\n    to: big\n    when: \"state.n > 10\"\n  - from: classify\n    to: small\n    condition: \"state.n > 0\"\n  - from: big\n    to: __end__\n  - from: small\n    to: __end__\n";
    assert_eq!(run(yaml, json!({ "n": 50 })).0.unwrap()["kind"], json!("big"));
    assert_eq!(run(yaml, json!({ "n": 5 })).0.unwrap()["kind"], json!("small"));
    let err = run(yaml, json!({ "n": -1 })).0.unwrap_err();
    assert_eq!(err.code, Code::NoRoute);
    assert_eq!(err.node.as_deref(), Some("classify"));
    // A missing state key is None, and `None > 10` is Python's TypeError: an error naming the
    // condition (upstream's evaluate_condition gets the template's text back, which is true).
    let err = run(yaml, json!({})).0.unwrap_err();
    assert_eq!(err.code, Code::Template);
    assert!(err.message.contains("state.n > 10") && err.message.contains("not supported"), "{}", err.message);
    let failing = yaml.replace("state.n > 10", "state.n + 'a' > 1");
    let err = run(&failing, json!({ "n": 5 })).0.unwrap_err();
    assert_eq!(err.code, Code::Template, "a condition that fails to evaluate is an error, not false");
    assert_eq!(err.pos.map(|p| p.line), Some(18), "the position of the failing condition");
}

const PARALLEL: &str = "name: fan\nsettings:\n  parallel:\n    merge_strategy: STRATEGY\nnodes:\n  - name: split\n    uses: passthrough\n  - name: left\n    uses: return\n    with: { value: L }\n    output: shared\n  - name: right\n    uses: double\n    with: { n: 21 }\n    output: shared\n  - name: join\n    uses: return\n    with:\n      value: \"{{ state.shared }}\"\n    output: joined\nedges:\n  - from: __start__\n    to: split\n  - from: split\n    to: left\n  - from: split\n    to: right\n  - from: left\n    to: join\n  - from: right\n    to: join\n  - from: join\n    to: __end__\n";

#[test]
fn parallel_fan_out_and_fan_in_with_each_merge_strategy() {
    let deep = run(&PARALLEL.replace("STRATEGY", "merge_deep"), json!({})).0.unwrap();
    assert_eq!(deep["shared"], json!(42), "branch order as written: right wins");
    assert_eq!(deep["joined"], json!(42));
    let lww = run(&PARALLEL.replace("STRATEGY", "last_write_wins"), json!({})).0.unwrap();
    assert_eq!(lww["shared"], json!(42));
    let iso = run(&PARALLEL.replace("STRATEGY", "isolated"), json!({ "shared": 0 })).0.unwrap();
    assert_eq!(iso["shared"], json!(0));
    assert_eq!(
        iso["parallel_results"],
        json!([{ "shared": "L", "split": { "shared": 0 } }, { "shared": 42, "split": { "shared": 0 } }]),
        "each branch's final state"
    );
    let err = run(&PARALLEL.replace("STRATEGY", "fail_on_conflict"), json!({})).0.unwrap_err();
    assert_eq!(err.code, Code::MergeConflict);
    let (_, host) = run(&PARALLEL.replace("STRATEGY", "merge_deep"), json!({}));
    let joins = host.events.borrow().iter().filter(|e| e.starts_with("start:join")).count();
    assert_eq!(joins, 1, "the fan-in runs once");
}

#[test]
fn python_style_parallel_edges_with_fan_in() {
    let yaml = "name: py\nnodes:\n  - name: a\n    uses: return\n    with: { value: 1 }\n  - name: b\n    uses: return\n    with: { value: 2 }\n  - name: merge\n    uses: return\n    with:\n      value: \"{{ state.parallel_results[0].state.a + state.parallel_results[1].state.b }}\"\nedges:\n  - from: __start__\n    to: a\n    type: parallel\n    fan_in: merge\n  - from: __start__\n    to: b\n    type: parallel\n    fan_in: merge\n  - from: merge\n    to: __end__\n";
    let out = run(yaml, json!({})).0.unwrap();
    assert_eq!(out["merge"], json!(3));
    assert_eq!(out.get("a"), None, "branch writes stay in parallel_results, as upstream Python");
    assert_eq!(out["parallel_results"][1]["branch"], json!("b"));
}

#[test]
fn max_steps_names_the_cycle() {
    let yaml = "name: forever\nsettings:\n  max_steps: 5\nnodes:\n  - name: a\n    uses: passthrough\n    goto: b\n  - name: b\n    uses: passthrough\n    goto: a\n";
    let err = run(yaml, json!({})).0.unwrap_err();
    assert_eq!(err.code, Code::MaxSteps);
    assert!(err.message.contains("a -> b -> a") || err.message.contains("b -> a -> b"), "{}", err.message);
}

#[test]
fn abort_stops_before_the_next_node() {
    let yaml = "name: two\nnodes:\n  - name: one\n    uses: passthrough\n  - name: two\n    uses: passthrough\n";
    let host = Script::default();
    host.abort_after.set(Some(2));
    let c = Compiled::parse(yaml, &actions()).unwrap();
    let err = block_on(c.run(json!({}), RunOptions::default(), &host)).unwrap_err();
    assert_eq!(err.code, Code::Aborted);
    assert_eq!(err.node.as_deref(), Some("two"));
}

#[test]
fn action_failures_name_the_node_and_emit_an_error_event() {
    let yaml = "name: f\nnodes:\n  - name: bad\n    uses: fails\n";
    let (r, host) = run(yaml, json!({}));
    let err = r.unwrap_err();
    assert_eq!((err.code, err.node.as_deref()), (Code::ActionFailed, Some("bad")));
    assert_eq!(host.events.borrow().last().unwrap(), "error:bad:ACTION_FAILED");
}

#[test]
fn runtime_variables_override_the_workflow_ones() {
    let yaml =
        "name: v\nvariables:\n  who: yaml\nnodes:\n  - name: greet\n    uses: return\n    with:\n      value: \"hi {{ variables.who }}\"\n";
    let host = Script::default();
    let c = Compiled::parse(yaml, &actions()).unwrap();
    assert_eq!(done(block_on(c.run(json!({}), RunOptions::default(), &host)).unwrap())["greet"], json!("hi yaml"));
    let opts = RunOptions { variables: [("who".to_string(), json!("runtime"))].into_iter().collect(), ..Default::default() };
    assert_eq!(done(block_on(c.run(json!({}), opts, &host)).unwrap())["greet"], json!("hi runtime"));
}

#[test]
fn validation_reports_every_problem_with_line_and_column() {
    let yaml = "name: bad\nnodez: 1\nnodes:\n  - name: a\n    uses: llm.cal\n    goto: nowhere\n  - name: a\n    uses: passthrough\n  - name: code\n    run: \"print(1)\"\n  - name: typed\n    uses: llm.call\n    with:\n      prompt: 42\nedges:\n  - from: a\n    to: ghost\n";
    let (_, problems) = check(yaml, &actions());
    let find = |needle: &str| {
        problems.iter().find(|p| p.message.contains(needle)).unwrap_or_else(|| panic!("no problem with {needle}: {problems:#?}"))
    };
    let unknown_key = find("unknown top-level key 'nodez'");
    assert_eq!(unknown_key.severity, Severity::Warning);
    assert!(unknown_key.message.contains("did you mean 'nodes'"));
    assert_eq!(unknown_key.pos.map(|p| (p.line, p.column)), Some((2, 1)));
    let action = find("unknown action 'llm.cal'");
    assert!(action.message.contains("did you mean 'llm.call'"));
    assert_eq!(action.pos.map(|p| p.line), Some(5));
    assert_eq!(find("goto target 'nowhere'").pos.map(|p| p.line), Some(6));
    assert_eq!(find("duplicate node name 'a'").pos.map(|p| p.line), Some(7));
    assert_eq!(find("inline `run:`").pos.map(|p| p.line), Some(10));
    assert_eq!(find("parameter 'prompt'").pos.map(|p| p.line), Some(14));
    assert_eq!(find("edge to unknown node 'ghost'").pos.map(|p| p.line), Some(17));
    let unreached = find("is never reached");
    assert_eq!(unreached.severity, Severity::Warning, "upstream runs workflows with unreached nodes");
}

#[test]
fn strict_mode_turns_unknown_keys_into_errors() {
    let yaml = "name: s\nsettings:\n  strict: true\nnodes:\n  - name: a\n    uses: passthrough\n    wiht: {}\n";
    let err = Compiled::parse(yaml, &actions()).err().unwrap();
    assert!(err.message.contains("unknown node key 'wiht'") && err.message.contains("did you mean 'with'"), "{}", err.message);
    assert_eq!(err.pos.map(|p| p.line), Some(7));
}

#[test]
fn handler_actions_say_which_handler_to_register() {
    let yaml = "name: l\nnodes:\n  - name: script\n    uses: lua.eval\n    with: { code: 'return 1' }\n";
    let err = Compiled::parse(yaml, &actions()).err().unwrap();
    assert_eq!(err.code, Code::UnknownAction);
    assert!(err.message.contains("register_action('lua.eval', fn)"), "{}", err.message);
}

#[test]
fn state_schema_types_are_checked() {
    let yaml = "name: t\nstate_schema:\n  question: str\nnodes:\n  - name: a\n    uses: passthrough\n";
    let err = run(yaml, json!({ "question": 3 })).0.unwrap_err();
    assert_eq!(err.code, Code::StateSchema);
    assert!(err.message.contains("'question'"));
}

#[test]
fn validation_reports_template_syntax_errors_with_their_lines() {
    let yaml = "name: t\nnodes:\n  - name: a\n    uses: return\n    with:\n      value: \"{{ state.x + }}\"\n      ok: \"{{ state.y }}\"\n      nested: { deep: [\"{% for %}\"] }\n    goto:\n      - if: \"state.n >\"\n        to: a\n      - to: __end__\n";
    let (_, problems) = check(yaml, &HashSet::new());
    let templates: Vec<(usize, Code)> =
        problems.iter().filter(|p| p.code == Code::Template).map(|p| (p.pos.unwrap().line, p.code)).collect();
    assert_eq!(templates.iter().map(|t| t.0).collect::<Vec<_>>().len(), 3, "{problems:?}");
    let mut lines: Vec<usize> = templates.iter().map(|t| t.0).collect();
    lines.sort();
    assert_eq!(lines, vec![6, 8, 11], "{problems:?}");
}

#[test]
fn retry_then_fallback_with_the_state_from_before_the_failure() {
    let yaml = "name: r\nnodes:\n  - name: risky\n    uses: fails\n    output: out\n    retry: { max_retries: 2, base_delay_ms: 1 }\n    fallback: recover\n  - name: skipped\n    uses: return\n    with: { value: ran }\n  - name: recover\n    uses: return\n    with: { value: \"recovered {{ state.topic }}\" }\n    output: note\n";
    let (r, host) = run(yaml, json!({ "topic": "x" }));
    assert_eq!(r.unwrap(), json!({ "topic": "x", "note": "recovered x" }));
    let calls = host.calls.borrow().iter().filter(|c| c["action"] == "fails").count();
    assert_eq!(calls, 3, "max_retries + 1 attempts");
    assert_eq!(host.events.borrow().iter().filter(|e| e.starts_with("warning:risky")).count(), 3, "two retries and the fallback");
    let no_fallback = yaml.replace("    fallback: recover\n", "");
    assert_eq!(run(&no_fallback, json!({})).0.unwrap_err().code, Code::ActionFailed);
}

#[test]
fn interrupts_stop_the_run_and_resume_continues_it() {
    let yaml = "name: i\nconfig:\n  interrupt_before: [review]\n  interrupt_after: [draft]\nnodes:\n  - name: draft\n    uses: return\n    with: { value: d }\n    output: draft\n  - name: review\n    uses: return\n    with: { value: \"{{ state.approved }}\" }\n    output: review\n";
    let c = Compiled::parse(yaml, &actions()).unwrap();
    let host = Script::default();
    let first = block_on(c.run(json!({}), RunOptions::default(), &host)).unwrap();
    let Outcome::Interrupted { node, when, state } = first else { panic!("{first:?}") };
    assert_eq!((node.as_str(), when.as_str(), &state), ("draft", "after", &json!({ "draft": "d" })));
    let resume = |node: &str, when: crate::exec::When, state: Value| {
        let opts = RunOptions { resume: Some(crate::exec::Resume { node: node.into(), when }), ..Default::default() };
        block_on(c.run(state, opts, &host)).unwrap()
    };
    let second = resume("draft", crate::exec::When::After, state);
    let Outcome::Interrupted { node, when, state } = second else { panic!("{second:?}") };
    assert_eq!((node.as_str(), when.as_str()), ("review", "before"));
    let mut state = state;
    state["approved"] = json!(true);
    assert_eq!(
        resume("review", crate::exec::When::Before, state),
        Outcome::Done(json!({ "draft": "d", "approved": true, "review": true }))
    );
    assert!(host.events.borrow().contains(&"interrupt:review:before".to_string()));
}

#[test]
fn secrets_and_steps() {
    let yaml = "name: s\nnodes:\n  - name: both\n    steps:\n      - uses: return\n        with: { value: \"{{ secrets.token | length }}\" }\n        output: n\n      - uses: double\n        with: { n: \"{{ state.n }}\" }\n        output: twice\n";
    let c = Compiled::parse(yaml, &actions()).unwrap();
    let opts = RunOptions { secrets: [("token".to_string(), json!("abcd"))].into_iter().collect(), ..Default::default() };
    let out = block_on(c.run(json!({}), opts, &Script::default())).unwrap();
    assert_eq!(out, Outcome::Done(json!({ "n": 4, "twice": 8 })));
}

#[test]
fn unknown_settings_and_llm_parameters_are_warnings_with_did_you_mean() {
    let yaml = "name: w\nsettings:\n  max_step: 3\n  checkpoint_dir: /tmp\n  llm:\n    provider: shell\nnodes:\n  - name: ask\n    uses: llm.call\n    with:\n      prompt: hi\n      max_token: 5\n";
    let (_, problems) = check(yaml, &actions());
    let find = |s: &str| problems.iter().find(|p| p.message.contains(s)).unwrap_or_else(|| panic!("{s}: {problems:?}"));
    assert!(find("unknown settings key 'max_step'").message.contains("did you mean 'max_steps'"));
    assert_eq!(find("max_token").pos.map(|p| p.line), Some(12));
    assert!(find("max_token").message.contains("did you mean 'max_tokens'"));
    assert!(find("checkpoint_dir").message.contains("resume"));
    assert!(find("provider 'shell'").severity == Severity::Warning);
    let strict = yaml.replace("settings:\n", "settings:\n  strict: true\n");
    assert!(Compiled::parse(&strict, &actions()).is_err(), "strict turns the warnings into errors");
}

#[test]
fn typed_nodes_cannot_be_steps_or_loop_bodies() {
    let yaml = "name: n\nnodes:\n  - name: loop\n    type: while_loop\n    condition: \"true\"\n    max_iterations: 2\n    body:\n      - name: inner\n        type: dynamic_parallel\n        items: \"{{ [1] }}\"\n        fan_in: loop\n        action: { uses: return }\n";
    let err = Compiled::parse(yaml, &actions()).err().unwrap();
    assert_eq!(err.code, Code::Validation);
    assert!(err.message.contains("cannot be a step or loop body node"), "{}", err.message);
    assert_eq!(err.pos.map(|p| p.line), Some(9));
}

#[test]
fn provider_parameters_reach_the_handler_and_keys_never_do() {
    let yaml = "name: w\nnodes:\n  - name: ask\n    uses: llm.call\n    with:\n      prompt: hi\n      provider: ollama\n      api_base: http://127.0.0.1:11434/v1\n      model: llama3.2\n      api_key: sk-123\n";
    let (_, problems) = check(yaml, &actions());
    let key = problems.iter().find(|p| p.message.contains("'api_key' is not read from YAML")).expect("api_key warns");
    assert_eq!((key.severity, key.pos.map(|p| p.line)), (Severity::Warning, Some(10)));
    assert_eq!(problems.len(), 1, "provider, api_base and model are known: {problems:?}");
    let req = crate::llm::check_request("call", json!({ "prompt": "hi", "provider": "ollama", "api_key": "sk-123" })).unwrap();
    assert_eq!(req.get("api_key"), None, "the key is dropped before the handler");
    assert_eq!(req["provider"], "ollama");
    for (from, to, want) in [
        ("provider: ollama", "provider: openia", "did you mean 'openai'"),
        ("api_base: http://127.0.0.1:11434/v1", "api_base: localhost:8080", "http(s) URL"),
    ] {
        let (_, problems) = check(&yaml.replace(from, to), &actions());
        assert!(problems.iter().any(|p| p.severity == Severity::Error && p.message.contains(want)), "{to}: {problems:?}");
    }
    let err = crate::llm::check_request("call", json!({ "prompt": "hi", "provider": "{{x}}" })).unwrap_err();
    assert!(err.message.contains("'provider' must be one of"), "{}", err.message);
}
