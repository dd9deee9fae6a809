import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { sdkPage } from './sdk-page.js';

// Structured output in a workflow, end to end in Chromium: the sdk's handle (the tiny
// random-weight model, whose free text is noise) answers an llm.call with response_format, and
// the node's result carries the JSON text and its parsed, schema-checked value.

const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, '.site-structured');

test.beforeAll(() => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'index.html'),
    sdkPage(`
      import { createTea } from '@the-edge-agent/sdk';
      const yaml = \`
name: extract
nodes:
  - name: extract
    uses: llm.call
    with:
      prompt: "Extract the trip: {{ state.text }}"
      max_tokens: 96
      temperature: 0
      response_format:
        type: json_schema
        json_schema:
          name: trip
          schema:
            type: object
            properties:
              city: { type: string, maxLength: 10 }
              days: { type: integer }
              mode: { enum: [train, plane, bike] }
            required: [city, days, mode]
            additionalProperties: false
    output: trip
  - name: summary
    uses: return
    with:
      value: "{{ state.trip.json.mode }}"
    output: mode
\`;
      window.run = async () => {
        const tea = await createTea({ manifestUrl: '/apps/demo/public/models/tiny-test-model/manifest.json', webgpu: 'off', useCache: false });
        try {
          const state = await tea.run(yaml, { text: 'Lisbon by train for 3 days' });
          return { trip: state.trip, mode: state.mode };
        } catch (e) {
          return { code: e.code, message: e.message };
        } finally {
          await tea.dispose();
        }
      };
      window.ready = true;
    `),
  );
});

test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a workflow gets schema-valid JSON from the model and reads it as state', async ({ page }) => {
  await page.goto('/packages/sdk/e2e/.site-structured/index.html');
  await page.waitForFunction(() => (window as { ready?: boolean }).ready === true);
  const r = await page.evaluate(() =>
    (window as unknown as { run(): Promise<Record<string, unknown>> }).run(),
  );
  expect(r['code'], String(r['message'])).toBeUndefined();
  const trip = r['trip'] as { content: string; json: { city: string; days: number; mode: string } };
  expect(JSON.parse(trip.content)).toEqual(trip.json);
  expect(Object.keys(trip.json)).toEqual(['city', 'days', 'mode']);
  expect(trip.json.city.length).toBeLessThanOrEqual(10);
  expect(Number.isInteger(trip.json.days)).toBe(true);
  expect(['train', 'plane', 'bike']).toContain(trip.json.mode);
  expect(r['mode']).toBe(trip.json.mode);
});
