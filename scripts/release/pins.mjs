// The model pins of a release, checked before anything is built or downloaded: each profile of
// models.config.json names an exact upstream revision (a 40-hex commit in a Hugging Face
// `resolve/<commit>/` URL, never a branch such as `main`) and the file's SHA-256. A missing or
// moving pin fails in seconds with the command that computes it.

const HF = /^https:\/\/huggingface\.co\/[^/]+\/[^/]+\/resolve\/([^/]+)\/.+$/;

/** The problems of one profile's pins (empty when it is pinned). */
export function pinProblems(profile) {
  const problems = [];
  const id = profile.id ?? '(no id)';
  if (profile.file === undefined) {
    const m = HF.exec(profile.url ?? '');
    if (!m) problems.push(`${id}: url must be a Hugging Face resolve URL, got ${profile.url}`);
    else if (!/^[0-9a-f]{40}$/.test(m[1]))
      problems.push(
        `${id}: url pins the revision "${m[1]}", a moving branch; use the commit: ` +
          `curl -s https://huggingface.co/api/models/${profile.url.split('/')[3]}/${profile.url.split('/')[4]}/revision/${m[1]} | jq -r .sha`,
      );
  }
  if (!/^[0-9a-f]{64}$/.test(profile.sha256 ?? ''))
    problems.push(
      `${id}: sha256 is ${JSON.stringify(profile.sha256 ?? null)}; pin the file's SHA-256: ` +
        (profile.file
          ? `sha256sum ${profile.file}`
          : `curl -sL ${profile.url} | sha256sum   (or the "SHA256" shown on the file's Hugging Face page)`),
    );
  return problems;
}

/** Throws, listing every unpinned profile and how to pin it, unless all are pinned. */
export function checkPins(config, path = 'models.config.json') {
  const problems = (config.profiles ?? []).flatMap(pinProblems);
  if (!config.profiles?.length) problems.push('no profiles');
  if (problems.length)
    throw new Error(
      `${path} is not pinned:\n  ${problems.join('\n  ')}\n` +
        'Pin every profile from the Hub API (no download): run the pin workflow (RELEASING.md, step 1) or `node scripts/release/release.mjs pin`',
    );
  console.log(`all ${config.profiles.length} model pins are exact (commit + sha256)`);
}
