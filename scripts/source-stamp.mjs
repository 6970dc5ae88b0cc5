// The stamp of the sources that `npm run build` compiles into lib/: a digest of every source
// file's path, size and modification time (no file is read). The build writes it into lib/ before
// it compiles; bin/genrm.mjs runs the compiled lib/ only while the stamp still matches, so an
// edit, a new or deleted file, or a checkout of other sources runs the sources through tsx instead.
// Plain JavaScript: bin/genrm.mjs imports it before any TypeScript loader exists.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** What lib/ is compiled from, relative to the repository root (tsconfig.build.json). */
export const STAMPED = ['src', 'charts', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.ts', 'scripts/cli-bundle.ts'];
export const STAMP_FILE = 'lib/.sources-stamp';

function list(root, rel, out) {
  let st;
  try {
    st = statSync(join(root, rel));
  } catch {
    out.push(`${rel}\0missing`);
    return;
  }
  if (st.isDirectory()) {
    for (const name of readdirSync(join(root, rel)).sort()) list(root, `${rel}/${name}`, out);
  } else {
    out.push(`${rel}\0${st.size}\0${st.mtimeMs}`);
  }
}

/** The stamp of the sources under `root` as they are now. */
export function sourceStamp(root) {
  const entries = [];
  for (const rel of STAMPED) list(root, rel, entries);
  return createHash('sha256').update(entries.join('\n')).digest('hex');
}

/** Whether `root`'s lib/ was built from the sources as they are now. */
export function libIsFresh(root) {
  let stamp;
  try {
    stamp = readFileSync(join(root, STAMP_FILE), 'utf8').trim();
  } catch {
    return false;
  }
  return stamp === sourceStamp(root);
}
