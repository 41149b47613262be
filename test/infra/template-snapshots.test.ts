import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exampleConfig, REPO_ROOT, synthSwing } from './stacks.ts';

/**
 * The deployed resources do not move: each example config's synthesized template equals the one committed in
 * test/infra/templates/, asset hashes aside. A logical id that changes makes CloudFormation replace the
 * resource on update: the retained table (the lock and the history left behind) or the state machine under a
 * running rollout. A refactoring of infra/ must leave these files as they are.
 *
 * When a resource change is intended, rewrite them and review the diff like code:
 *   npx vitest run test/infra/template-snapshots.test.ts -u
 * (CI never writes them: a missing file fails there.)
 */
const EXAMPLES = readdirSync(`${REPO_ROOT}infra`).filter((file) => /^example.*\.config\.json$/.test(file));

/** An asset's content hash (S3 key, asset parameter): it moves with any handler or ASL edit, never with ids. */
const ASSET_HASH = /[0-9a-f]{64}/g;

/**
 * Asset hashes replaced, and object keys sorted: CloudFormation reads no order into a template's objects, so a
 * construct created earlier or later changes nothing. Arrays (policy statements, substitutions) keep theirs.
 */
function normalizedTemplate(template: unknown): string {
  const normalize = (value: unknown): unknown => {
    if (typeof value === 'string') return value.replace(ASSET_HASH, '<asset-hash>');
    if (Array.isArray(value)) return value.map(normalize);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, normalize((value as Record<string, unknown>)[key])]),
    );
  };
  return `${JSON.stringify(normalize(template), null, 2)}\n`;
}

describe('Template snapshots: the example configs synthesize the committed templates (asset hashes aside)', () => {
  it('covers every example config', () => {
    expect(EXAMPLES).toEqual(
      expect.arrayContaining([
        'example.config.json',
        'example-create.config.json',
        'example-eks.config.json',
      ]),
    );
  });

  it.each(EXAMPLES)(
    '%s',
    async (file) => {
      const { template } = synthSwing(exampleConfig(file));
      // Named apart as well, so that a careless `-u` cannot move them: what a replacement would lose.
      expect(Object.keys(template.findResources('AWS::DynamoDB::Table'))).toEqual([
        'ControllerTable4B4ABDED',
      ]);
      expect(Object.keys(template.findResources('AWS::StepFunctions::StateMachine'))).toEqual([
        'ControllerStateMachine0A1D2014',
      ]);
      await expect(normalizedTemplate(template.toJSON())).toMatchFileSnapshot(
        `templates/${file.replace(/\.config\.json$/, '.template.json')}`,
      );
    },
    120_000,
  );
});
