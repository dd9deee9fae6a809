// `release.mjs pin`: each profile of models.config.json resolved from the Hugging Face Hub's API
// at a revision (a branch, tag or commit; default the profile's `revision`, else `main`) into an
// exact pin: the url at the commit (`.../resolve/<commit>/<file>`), the file's LFS SHA-256 and
// its size. Nothing is downloaded but two small API answers per profile. Every profile must
// resolve, and the sizes fit the release's limits, or nothing is written. Prints what changed;
// writes the config and the README's table of pinned sizes (unless --dry-run or --check;
// --check fails when the pins are not those of the revision).
import { readFileSync, writeFileSync } from 'node:fs';
import { DEFAULT_ENDPOINT, PinError, resolvePin, sizeProblems } from './hub.mjs';
import { pinsTable, readmeTable, withTable } from './size-plan.mjs';

const FIELDS = ['url', 'sha256', 'bytes'];

/** The profile with its pin fields after `url`, in a stable order. */
function withPin(profile, pin) {
  const out = {};
  for (const [k, v] of Object.entries(profile)) if (!FIELDS.includes(k)) out[k] = v;
  return { ...out, url: pin.url, sha256: pin.sha256, bytes: pin.bytes };
}

export async function pin({
  config: configPath,
  readme,
  revision,
  endpoint = process.env.HF_ENDPOINT || DEFAULT_ENDPOINT,
  token = process.env.HF_TOKEN || undefined,
  mode = 'write',
  retry = {},
}) {
  const config = JSON.parse(readFileSync(configPath, 'utf8'));
  const base = endpoint.replace(/\/+$/, '');
  console.log(
    `Pinning ${config.profiles.length} profiles of ${configPath} at ${revision ? `revision ${revision}` : "each profile's revision"} from ${base}${token ? ' (with HF_TOKEN)' : ''}`,
  );
  const problems = [];
  const profiles = [];
  for (const profile of config.profiles) {
    if (profile.file) {
      profiles.push(profile); // a local file (the dry run's test model): pinned by its hash
      continue;
    }
    try {
      const p = await resolvePin(profile, { revision, endpoint: base, token, ...retry });
      if (p.renamedFrom)
        console.log(
          `    ${profile.id}: ${p.renamedFrom} was renamed ${p.repo} (the Hub redirects)`,
        );
      console.log(`    ${profile.id}: ${p.repo}@${p.commit}, ${p.bytes} bytes, sha256 ${p.sha256}`);
      profiles.push(withPin(profile, p));
    } catch (error) {
      if (!(error instanceof PinError)) throw error;
      problems.push(error.message);
    }
  }
  if (!problems.length) problems.push(...sizeProblems(profiles, config.limits));
  if (problems.length)
    throw new PinError(`refusing to pin (nothing written):\n  ${problems.join('\n  ')}`);

  const next = { ...config, profiles };
  const diff = [];
  config.profiles.forEach((before, i) => {
    const after = profiles[i];
    const changed = FIELDS.filter((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f]));
    if (!changed.length) return;
    diff.push(`  ${after.id}`);
    for (const f of changed)
      diff.push(
        `  - ${f}: ${JSON.stringify(before[f] ?? null)}`,
        `  + ${f}: ${JSON.stringify(after[f])}`,
      );
  });
  let readmeText;
  let readmeNext;
  if (readme) {
    readmeText = readFileSync(readme, 'utf8');
    const table = await pinsTable(next);
    if (JSON.stringify(readmeTable(readmeText)) !== JSON.stringify(table)) {
      readmeNext = withTable(readmeText, table);
      diff.push(`  ${readme}: the table of pinned sizes`, ...table.map((l) => `  + ${l}`));
    }
  }
  if (!diff.length) {
    console.log('The pins are up to date: nothing changed.');
    return { changed: false, config: next };
  }
  console.log(`\nChanges:\n${diff.join('\n')}`);
  if (mode === 'check')
    throw new PinError(
      `the pins in ${configPath} are not those of the Hub${revision ? ` at ${revision}` : ''} (above): run the pin workflow (RELEASING.md, step 1) or \`node scripts/release/release.mjs pin\``,
    );
  if (mode === 'dry-run') {
    console.log('\n(dry run: nothing written)');
    return { changed: true, config: next };
  }
  writeFileSync(configPath, `${JSON.stringify(next, null, 2)}\n`);
  console.log(`\nwrote ${configPath}`);
  if (readmeNext) {
    writeFileSync(readme, readmeNext);
    console.log(`wrote ${readme}`);
  }
  return { changed: true, config: next };
}
