/** Which build this is. Apart from metrics.ts so the CLI can print its version without loading prom-client. */
import { readFileSync } from 'node:fs';

export type BuildInfo = {
  version: string;
  /** The git commit the build came from, when known (the Docker image sets VIGIL_BUILD_COMMIT). */
  commit?: string | undefined;
};

/** This build: the version from package.json, the commit from VIGIL_BUILD_COMMIT (set by the image). */
export function buildInfo(env: Record<string, string | undefined> = process.env): BuildInfo {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  const commit = env.VIGIL_BUILD_COMMIT;
  return { version: pkg.version, commit: commit === undefined || commit === '' ? undefined : commit };
}
