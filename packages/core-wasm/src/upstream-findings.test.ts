// The nine differences from upstream TEA that fresh cases written from upstream's docs found
// (issue 27), each as upstream's Python engine (fabceolin/the_edge_agent f507cd9) behaves.
import { beforeAll, describe, expect, it } from 'vitest';
import { CoreWasmError, executeYaml, init, renderTemplate, validateYaml } from './index.js';

beforeAll(async () => {
  await init();
});

const rejection = async (work: () => Promise<unknown>) => {
  try {
    await work();
  } catch (e) {
    if (e instanceof CoreWasmError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
};

describe('upstream findings', () => {
  it('1. a block-scalar template keeps its final newline (keep_trailing_newline)', async () => {
    const yaml = [
      'name: f1',
      'nodes:',
      '  - name: p',
      '    uses: llm.call',
      '    with:',
      '      model: scripted',
      '      prompt: |',
      '        Hello {{ state.name }}',
      '        Answer briefly.',
      '    output: reply',
      '',
    ].join('\n');
    let prompt = '';
    const out = await executeYaml(
      yaml,
      { name: 'Ann' },
      {
        llmHandler: (r) => (
          (prompt = r.kind === 'embed' ? '' : (r.prompt ?? '')),
          { content: 'ok' }
        ),
      },
    );
    expect(prompt).toBe('Hello Ann\nAnswer briefly.\n');
    expect(out['reply']).toMatchObject({ content: 'ok' });
    expect(renderTemplate('a\n{{ 1 }}\n\n')).toBe('a\n1\n\n');
  });

  it("2. dict methods on the top-level state: not state.get('is_valid', False)", async () => {
    expect(renderTemplate("{{ not state.get('is_valid', False) }}", {})).toBe(true);
    expect(renderTemplate('{{ state.keys() | list }}|{{ state.items() | list }}', { a: 1 })).toBe(
      "['a']|[('a', 1)]",
    );
    // nodes.md's while_loop example.
    const yaml = [
      'name: f2',
      'nodes:',
      '  - name: refine',
      '    type: while_loop',
      '    condition: "not state.get(\'is_valid\', False)"',
      '    max_iterations: 10',
      '    body:',
      '      - name: step',
      '        uses: return',
      '        with: { value: "{{ state.get(\'n\', 0) + 1 }}" }',
      '        output: n',
      '      - name: check',
      '        uses: return',
      '        with: { value: "{{ state.n >= 3 }}" }',
      '        output: is_valid',
      '',
    ].join('\n');
    expect(await executeYaml(yaml, {})).toMatchObject({ n: 3, is_valid: true });
  });

  it('3. Jinja2 filter arguments: sum(attribute, start), min/max(attribute), round(p, method)', () => {
    const state = {
      rows: [
        { total: 3, name: 'b' },
        { total: 1.5, name: 'a' },
      ],
      lists: [[1], [2, 3]],
    };
    const t = (s: string) => renderTemplate(s, state);
    expect(t("{{ state.rows | sum(attribute='total') }}")).toBe(4.5);
    expect(t('{{ state.lists | sum(start=[]) }}')).toEqual([1, 2, 3]);
    expect(t("{{ (state.rows | min(attribute='total')).name }}")).toBe('a');
    expect(t("{{ (state.rows | max(attribute='name')).total }}")).toBe(3);
    expect(t("{{ 2.5 | round(0, 'floor') }}|{{ 2.1 | round(0, 'ceil') }}|{{ 2.5 | round }}")).toBe(
      '2.0|3.0|2.0',
    );
  });

  it("4. Python %-formatting: '%s-%s' % (a, b), '%05d' % n", () => {
    expect(renderTemplate("{{ '%s-%s' % (state.a, state.b) }}", { a: 'x', b: 2 })).toBe('x-2');
    expect(renderTemplate("{{ '%05d' % state.n }}", { n: 42 })).toBe('00042');
    expect(renderTemplate("{{ '%.2f%%' % 12.345 }}")).toBe('12.35%');
  });

  it('5. wordcount, urlencode, center and the rest of Jinja2’s filters', () => {
    expect(renderTemplate("{{ 'two words' | wordcount }}")).toBe(2);
    expect(renderTemplate("{{ 'a b&c' | urlencode }}|{{ {'q': 'a b'} | urlencode }}")).toBe(
      'a%20b%26c|q=a+b',
    );
    expect(renderTemplate("[{{ 'ab' | center(6) }}]")).toBe('[  ab  ]');
    expect(renderTemplate("{{ 1536 | filesizeformat(true) }}|{{ 'a-b c' | title }}")).toBe(
      '1.5 KiB|A-B C',
    );
  });

  it('6. a fan-in reads `key in result` / `result[key]` from each branch (examples.md, Example 2)', async () => {
    const yaml = [
      'name: f6',
      'nodes:',
      '  - name: prepare',
      '    uses: passthrough',
      '  - name: analyze_sentiment',
      '    uses: return',
      '    with: { value: { type: sentiment, score: 0.75 } }',
      '    output: analysis_a',
      '  - name: analyze_topics',
      '    uses: return',
      '    with: { value: { type: topics } }',
      '    output: analysis_c',
      '  - name: combine_results',
      '    fan_in: true',
      '    uses: return',
      '    with:',
      '      value: >-',
      "        {% set ns = namespace(found=[]) %}{% for result in state.parallel_results %}{% for key in ['analysis_a', 'analysis_b', 'analysis_c'] %}{% if key in result %}{% set ns.found = ns.found + [key ~ '=' ~ result[key].type] %}{% endif %}{% endfor %}{% endfor %}{{ ns.found | join(',') }}",
      '    output: combined',
      'edges:',
      '  - from: __start__',
      '    to: prepare',
      '  - from: prepare',
      '    to: analyze_sentiment',
      '    type: parallel',
      '    fan_in: combine_results',
      '  - from: prepare',
      '    to: analyze_topics',
      '    type: parallel',
      '    fan_in: combine_results',
      '  - { from: analyze_sentiment, to: combine_results }',
      '  - { from: analyze_topics, to: combine_results }',
      '  - from: combine_results',
      '    to: __end__',
      '',
    ].join('\n');
    const out = await executeYaml(yaml, {});
    expect(out['combined']).toBe('analysis_a=sentiment,analysis_c=topics');
  });

  it('7. a failing `type: parallel` branch fails the run; settings.parallel.record_failures keeps going', async () => {
    const yaml = (record: boolean) =>
      [
        'name: f7',
        ...(record ? ['settings:', '  parallel: { record_failures: true }'] : []),
        'nodes:',
        '  - name: ok',
        '    uses: return',
        '    with: { value: 1 }',
        '    output: a',
        '  - name: broken',
        '    uses: return',
        '    with: { value: "{{ state.nope.deeper }}x" }',
        '    output: b',
        '  - name: join',
        '    uses: return',
        '    with: { value: "{{ state.parallel_results | map(attribute=\'success\') | list }}" }',
        '    output: ok_flags',
        'edges:',
        '  - { from: __start__, to: ok, type: parallel, fan_in: join }',
        '  - { from: __start__, to: broken, type: parallel, fan_in: join }',
        '  - { from: ok, to: join }',
        '  - { from: broken, to: join }',
        '  - { from: join, to: __end__ }',
        '',
      ].join('\n');
    const err = await rejection(() => executeYaml(yaml(false), {}));
    expect(err).toMatchObject({ code: 'TEMPLATE', node: 'broken' });
    const out = await executeYaml(yaml(true), {});
    expect(out['ok_flags']).toEqual([true, false]);
  });

  it('8. `fan_in: true` on a node (navigation.md) is accepted, also under settings.strict', () => {
    const yaml = [
      'name: f8',
      'settings: { strict: true }',
      'nodes:',
      '  - name: a',
      '    uses: passthrough',
      '  - name: join',
      '    fan_in: true',
      '    uses: passthrough',
      'edges:',
      '  - { from: __start__, to: a, type: parallel, fan_in: join }',
      '  - { from: join, to: __end__ }',
      '',
    ].join('\n');
    expect(validateYaml(yaml)).toEqual([]);
    expect(validateYaml(yaml.replace('fan_in: true', 'fan_in: merge'))).toMatchObject([
      { code: 'VALIDATION', line: 7 },
    ]);
  });

  it('9. unknown filters and tests, and arguments a filter cannot take, fail when the workflow loads', () => {
    const yaml = (t: string) =>
      [
        'name: f9',
        'nodes:',
        '  - name: a',
        '    uses: return',
        `    with: { value: "${t}" }`,
        '',
      ].join('\n');
    for (const [t, want] of [
      ['{% if false %}{{ x | shout }}{% endif %}', 'no filter named `shout`'],
      ['{{ state.x is nonsense }}', 'no test named `nonsense`'],
      ["{{ state.x | round(1, 'floor', 2) }}", 'at most 2 arguments'],
      ["{{ state.rows | sum(attr='total') }}", 'no argument `attr`'],
    ] as const) {
      const problems = validateYaml(yaml(t));
      expect(problems, t).toMatchObject([
        { code: 'VALIDATION', line: 5, message: expect.stringContaining(want) },
      ]);
      expect(problems[0]!.column, t).toBeGreaterThan(0);
    }
  });
});
