import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where each CLI test file leaves the IAM actions its commands sent, for this run only (test/cli/harness.ts). */
    sentActionsDir: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'swing-sent-actions-'));
  project.provide('sentActionsDir', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
