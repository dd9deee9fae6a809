// Checks the assets as a user would: SHA256SUMS, every manifest with `tea-model verify` (re-hash
// every shard), and models.json against the manifests.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkChecksums } from './checksums.mjs';
import { run, step, TEA_MODEL } from './lib.mjs';

export async function verifyAssets({ dir }) {
  step('Verifying the assets');
  await checkChecksums({ dir });
  const manifests = readdirSync(dir).filter((f) => f.endsWith('.manifest.json'));
  for (const m of manifests) run(process.execPath, [TEA_MODEL, 'verify', join(dir, m)]);
  const { profiles } = JSON.parse(readFileSync(join(dir, 'models.json'), 'utf8'));
  for (const p of profiles) {
    const manifest = JSON.parse(readFileSync(join(dir, p.manifest), 'utf8'));
    if (manifest.model.id !== p.id || manifest.totalBytes !== p.totalBytes)
      throw new Error(`models.json profile ${p.id} does not match ${p.manifest}`);
  }
  if (profiles.length !== manifests.length)
    throw new Error(
      `models.json lists ${profiles.length} profiles, the assets hold ${manifests.length} manifests`,
    );
  console.log(`    ${profiles.length} profiles, every shard verified`);
}
