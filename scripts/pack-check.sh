#!/usr/bin/env bash
# The package as a user gets it. Packs it, then installs the tarball with --omit=dev into a new folder (the
# `swing` command must work without tsx or any dev dependency) and into a new CDK app that imports the
# construct, type-checks against its declarations and synthesizes offline. It installs from the npm registry
# (the tarball's dependencies, aws-cdk-lib, constructs), so .ci/run runs it after `npm test`, not inside it.
# Run it as `npm run pack-check`, so that Node 24 from the node dev dependency is first on the PATH.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap '[[ -n "${KEEP_PACK_CHECK:-}" ]] || rm -rf "$work"' EXIT
fail() {
  echo "pack-check: $*" >&2
  exit 1
}
install() { npm install --no-audit --no-fund --prefer-offline --loglevel=error "$@" >/dev/null; }

cd "$root"
npm pack --silent --pack-destination "$work" >/dev/null
tarball="$(ls "$work"/*.tgz)"
tar -tzf "$tarball" >"$work/contents"
if grep -vE '^package/(bin/|dist/|statemachine/rollout\.asl\.json$|package\.json$|README\.md$|LICENSE)' "$work/contents"; then
  fail "the tarball holds files beyond the built package (listed above)"
fi
grep -q '^package/dist/handlers/preflight/index.mjs$' "$work/contents" || fail "no handler bundles in the tarball"
echo "pack-check: $(basename "$tarball"): $(wc -l <"$work/contents") files, no tests, no TypeScript source"

# The command, installed alone: no dev dependency, no optional peer.
mkdir "$work/cli" && cd "$work/cli" && npm init -y >/dev/null
install --omit=dev "$tarball"
for absent in tsx esbuild typescript aws-cdk-lib; do
  [[ ! -e "node_modules/$absent" ]] || fail "--omit=dev installed $absent"
done
npx --no-install swing --help | head -1 | grep -q '^Usage: swing ' || fail "swing --help"
npx --no-install swing plan canary | grep -q '^Plan ' || fail "swing plan canary"
npx --no-install swing local --port-base 0 --plan '50:1s,100' --rate 20 >"$work/local.out" 2>&1 ||
  fail "swing local exited $?: $(tail -5 "$work/local.out")"
echo "pack-check: swing --help, plan and local run from the installed package"

# A CDK app of a user: the construct from the tarball, the app's own aws-cdk-lib and constructs.
mkdir "$work/app" && cd "$work/app" && npm init -y >/dev/null && npm pkg set type=module
cdk_lib="$(node -p "require('$root/node_modules/aws-cdk-lib/package.json').version")"
constructs="$(node -p "require('$root/node_modules/constructs/package.json').version")"
node_types="$(node -p "require('$root/node_modules/@types/node/package.json').version")"
install --omit=dev "$tarball" "aws-cdk-lib@$cdk_lib" "constructs@$constructs" "@types/node@$node_types"
cat >app.ts <<'APP'
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { RolloutController, type RolloutControllerProps } from 'swing-rollout';
import { ExitCodes, runSwing } from 'swing-rollout/cli';

const ELB = 'arn:aws:elasticloadbalancing:us-east-1:111111111111';
const props: RolloutControllerProps = {
  listenerArn: `${ELB}:listener/app/migration-alb/0123456789abcdef/fedcba9876543210`,
  sourceTargetGroupArn: `${ELB}:targetgroup/capture-proxy/0123456789abcdef`,
  targetTargetGroupArn: `${ELB}:targetgroup/target-proxy/fedcba9876543210`,
  smoke: { sourceEndpoint: 'https://alb.example.com:9201', targetEndpoint: 'https://alb.example.com:9202' },
};
// The CLI as a function, typed: `swing plan canary` from code, its exit code returned.
const planned: number = await runSwing(['plan', 'canary']);
if (planned !== ExitCodes.Ok) throw new Error(`swing plan canary from code exited ${planned}`);
// @ts-expect-error the declarations make listenerArn required (were they missing, this line would not fail)
const withoutListener: RolloutControllerProps = { ...props, listenerArn: undefined };
void withoutListener;

// As the cdk CLI asks, so the template says which staged asset each function's code is.
const app = new App({ outdir: 'cdk.out', context: { 'aws:cdk:enable-asset-metadata': true } });
new RolloutController(new Stack(app, 'Consumer'), 'Swing', props);
const out = app.synth().directory;
const template = JSON.parse(readFileSync(join(out, 'Consumer.template.json'), 'utf8'));
const functions = Object.values(template.Resources as Record<string, any>).filter(
  (resource) => resource.Type === 'AWS::Lambda::Function',
);
for (const fn of functions)
  if (!existsSync(join(out, fn.Metadata['aws:asset:path'], 'index.mjs'))) throw new Error('a handler has no bundle');
console.log(`${functions.length} functions, each with its prebuilt bundle`);
APP
cat >tsconfig.json <<'TSCONFIG'
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "noEmit": true,
    "skipLibCheck": true,
    "types": ["node"]
  },
  "files": ["app.ts"]
}
TSCONFIG
node "$root/node_modules/typescript/bin/tsc" -p tsconfig.json || fail "the construct's types do not check in a user's app"
# No AWS credentials, no network: the synth needs neither.
synth="$(env -u AWS_PROFILE AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent node app.ts)" ||
  fail "the CDK app did not synthesize"
echo "pack-check: a CDK app that installed the tarball synthesizes offline: $synth"
