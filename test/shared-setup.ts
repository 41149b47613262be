import { createRequire } from 'node:module';
import { afterAll } from 'vitest';

// Files of the `shared` project run one after another in one process (vitest.config.ts). `mockClient(SomeClient)`
// stubs the class's prototype in sinon's default sandbox, the one aws-sdk-client-mock requires: restoring it
// after each file keeps a client mocked in one file from answering for the real client in the next.
const sinon = createRequire(createRequire(import.meta.url).resolve('aws-sdk-client-mock'))('sinon') as {
  restore(): void;
};
afterAll(() => sinon.restore());
