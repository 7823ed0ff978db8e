#!/usr/bin/env node
// Completes package-lock.json with the platform packages npm could not resolve when it wrote it.
//
// Why: the registry mirror these machines use does not serve every platform build of packages such as
// @biomejs/biome or @foundry-rs/anvil. `npm install` then leaves those optional packages out of the
// lock file, and `npm ci` refuses the lock as "not in sync" ("Missing: ... from lock file"). An entry
// that names the package's platform (os/cpu/libc) is enough: npm skips it on other platforms and
// fetches it on its own. Run after every `npm install`: `node .ci/complete-lockfile.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;

function platformOf(name) {
  const base = name.split('/').pop();
  const os = ['android', 'darwin', 'linux', 'win32', 'freebsd'].find((o) => base.includes(o));
  if (!os) return undefined;
  const cpu = /arm64/.test(base) ? 'arm64' : /x64|amd64/.test(base) ? 'x64' : /-arm$/.test(base) ? 'arm' : undefined;
  const libc = os === 'linux' ? (/musl/.test(base) ? 'musl' : 'glibc') : undefined;
  return { os, cpu, libc };
}

let added = 0;
for (const [key, entry] of Object.entries(packages)) {
  const optional = Object.keys(entry.optionalDependencies ?? {});
  // Name libc only where the package's own platform builds do (biome's do; anvil's do not).
  const namesLibc = optional.some((n) => packages[`node_modules/${n}`]?.libc);
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const at = `node_modules/${name}`;
    if (packages[at]) continue;
    const platform = platformOf(name);
    if (!platform) throw new Error(`${key}: optional dependency ${name} is missing and names no platform`);
    packages[at] = {
      version,
      ...(platform.cpu ? { cpu: [platform.cpu] } : {}),
      ...(entry.dev ? { dev: true } : {}),
      ...(platform.libc && namesLibc ? { libc: [platform.libc] } : {}),
      optional: true,
      os: [platform.os],
    };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)));
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
process.stdout.write(`complete-lockfile: added ${added} platform entries\n`);
