import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { parseSwingConfig } from '../../infra/config.ts';
import type { FrontDoorConfig } from '../../infra/front-door-config.ts';
import {
  type FrontDoorBindingTargets,
  frontDoorManifests,
  type KubernetesManifest,
  manifestFiles,
} from '../../infra/front-door-manifests.ts';
import { exampleConfigInput, REPO_ROOT } from './stacks.ts';

type Json = Record<string, unknown>;

const BOUND: FrontDoorBindingTargets = {
  sourceTargetGroupArn:
    'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/Swing-FrontD-Source/0123456789abcdef',
  targetTargetGroupArn:
    'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/Swing-FrontD-Target/fedcba9876543210',
  loadBalancerSecurityGroupId: 'sg-0fd00fd00fd00fd00',
};

/** The example's front door without its reverse capture: the target proxy then captures nothing. */
function frontDoor(patch: (door: Json) => void = () => {}): FrontDoorConfig {
  const config = parseSwingConfig(
    exampleConfigInput('example-eks.config.json', (raw) => {
      delete ((raw.frontDoor as Json).kubernetes as Json).reverseCapture;
      patch(raw.frontDoor as Json);
    }),
  );
  return config.frontDoor!;
}

/**
 * The CRD's openAPIV3Schema for a version, closed: the API server prunes a field the schema does not know
 * (a misspelt `targetGroupArn` would vanish without a word), so here an unknown field is an error.
 */
function bindingValidator(version: string): ValidateFunction {
  const crd = parseYaml(
    readFileSync(`${REPO_ROOT}test/fixtures/kubernetes/elbv2.k8s.aws_targetgroupbindings.yaml`, 'utf8'),
  ) as { spec: { versions: { name: string; schema: { openAPIV3Schema: Json } }[] } };
  const schema = crd.spec.versions.find((candidate) => candidate.name === version)!.schema.openAPIV3Schema;
  const close = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(close);
    if (node === null || typeof node !== 'object') return node;
    const object = Object.fromEntries(
      Object.entries(node).map(([key, value]) => [key, close(value)]),
    ) as Json;
    if (
      object.properties &&
      !object['x-kubernetes-preserve-unknown-fields'] &&
      object.additionalProperties === undefined
    )
      object.additionalProperties = false;
    // int-or-string: the schema says so by this extension rather than by a type.
    if (object['x-kubernetes-int-or-string']) object.anyOf = [{ type: 'integer' }, { type: 'string' }];
    return object;
  };
  const ajv = new Ajv({ allErrors: true, strict: true, validateFormats: false });
  for (const keyword of [
    'x-kubernetes-int-or-string',
    'x-kubernetes-list-type',
    'x-kubernetes-map-type',
    'x-kubernetes-preserve-unknown-fields',
  ])
    ajv.addKeyword(keyword);
  // The metadata schema is `type: object`: the API server checks it; here, what a name must be.
  return ajv.compile(close(schema) as Json);
}

const v1beta1 = bindingValidator('v1beta1');
const errorsOf = (validate: ValidateFunction, manifest: unknown) =>
  validate(manifest) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);

const byKind = (manifests: readonly KubernetesManifest[], kind: string) =>
  manifests.filter((manifest) => manifest.kind === kind);

describe('Front door manifests: the target proxy and the TargetGroupBindings (no reverse capture)', () => {
  const door = frontDoor();
  const manifests = frontDoorManifests(door, BOUND);

  it('are a Deployment and a Service of the target proxy and two TargetGroupBindings, all in the namespace', () => {
    expect(manifests.map((manifest) => `${manifest.kind}/${manifest.metadata.name}`)).toEqual([
      'Deployment/swing-target-proxy',
      'Service/swing-target-proxy',
      'TargetGroupBinding/swing-front-door-source',
      'TargetGroupBinding/swing-front-door-target',
    ]);
    for (const manifest of manifests) expect(manifest.metadata.namespace).toBe('ma');
  });

  it('validate against the Kubernetes schemas (Deployment, Service)', () => {
    const [deployment] = byKind(manifests, 'Deployment');
    const [service] = byKind(manifests, 'Service');
    expect(() => new Deployment(deployment as never).validate()).not.toThrow();
    expect(() => new Service(service as never).validate()).not.toThrow();
    // The validators catch a wrong shape: they are not a formality.
    const broken = structuredClone(service) as Json;
    ((broken.spec as Json).ports as Json[])[0]!.port = 'proxy';
    expect(() => new Service(broken as never).validate()).toThrow(/port must be integer/);
  });

  it('run the capture-proxy image with --noCapture and --destinationUri, behind a ClusterIP Service on its port', () => {
    const [deployment] = byKind(manifests, 'Deployment') as Json[];
    const spec = deployment!.spec as Json;
    expect(spec.replicas).toBe(2);
    const pod = (spec.template as Json).spec as Json;
    const [container] = pod.containers as Json[];
    expect(container).toMatchObject({
      image: 'public.ecr.aws/opensearchproject/opensearch-migrations-traffic-capture-proxy:3.0.0',
      args: [
        '--noCapture',
        '--listenPort',
        '9200',
        '--destinationUri',
        'https://vpc-target-abc123.us-east-1.es.amazonaws.com:443',
      ],
      ports: [{ name: 'proxy', containerPort: 9200, protocol: 'TCP' }],
    });
    const [service] = byKind(manifests, 'Service') as Json[];
    expect(service!.spec).toEqual({
      type: 'ClusterIP',
      selector: (spec.selector as Json).matchLabels,
      ports: [{ name: 'proxy', port: 9200, targetPort: 'proxy', protocol: 'TCP' }],
    });
    expect((pod.topologySpreadConstraints as Json[])[0]).toMatchObject({
      topologyKey: 'topology.kubernetes.io/zone',
    });
  });

  it("bind the capture proxy's Service and the target proxy's to the stack's target groups, opening the pods to the ALB only", () => {
    const [source, target] = byKind(manifests, 'TargetGroupBinding');
    expect(source).toMatchObject({
      apiVersion: 'eks.amazonaws.com/v1',
      spec: {
        serviceRef: { name: 'capture-proxy', port: 9201 },
        targetGroupARN: BOUND.sourceTargetGroupArn,
        targetType: 'ip',
        networking: {
          ingress: [
            {
              from: [{ securityGroup: { groupID: BOUND.loadBalancerSecurityGroupId } }],
              ports: [{ port: 9201, protocol: 'TCP' }],
            },
          ],
        },
      },
    });
    expect(target).toMatchObject({
      spec: {
        serviceRef: { name: 'swing-target-proxy', port: 9200 },
        targetGroupARN: BOUND.targetTargetGroupArn,
        networking: { ingress: [{ ports: [{ port: 9200, protocol: 'TCP' }] }] },
      },
    });
  });

  it("validate against the CRD's openAPIV3Schema (v1beta1), in either API group", () => {
    for (const binding of byKind(manifests, 'TargetGroupBinding')) {
      expect(errorsOf(v1beta1, binding)).toEqual([]);
    }
    const controller = frontDoorManifests(
      frontDoor((door) => {
        (door.kubernetes as Json).targetGroupBindingApi = 'elbv2.k8s.aws/v1beta1';
      }),
      BOUND,
    );
    for (const binding of byKind(controller, 'TargetGroupBinding')) {
      expect(binding.apiVersion).toBe('elbv2.k8s.aws/v1beta1');
      expect(errorsOf(v1beta1, binding)).toEqual([]);
    }
  });

  it('the CRD schema check catches a misspelt field and a wrong target type (the API server would prune or refuse them)', () => {
    const [binding] = byKind(manifests, 'TargetGroupBinding');
    const misspelt = structuredClone(binding) as Json;
    const spec = misspelt.spec as Json;
    spec.targetGroupArn = spec.targetGroupARN;
    delete spec.targetGroupARN;
    expect(errorsOf(v1beta1, misspelt)).toEqual(['/spec must NOT have additional properties']);
    const wrongType = structuredClone(binding) as Json;
    (wrongType.spec as Json).targetType = 'pod';
    expect(errorsOf(v1beta1, wrongType)).toEqual([
      '/spec/targetType must be equal to one of the allowed values',
    ]);
  });

  it('mount the TLS Secret and pass the certificate flags when the target proxy listens with TLS, and set the Authorization header from a Secret', () => {
    const tls = frontDoorManifests(
      frontDoor((door) => {
        door.target = { protocol: 'HTTPS', port: 9443 };
        Object.assign((door.kubernetes as Json).targetProxy as Json, {
          tlsSecretName: 'swing-target-proxy-tls',
          authorizationSecret: { name: 'target-basic-auth', key: 'header' },
        });
      }),
      BOUND,
    );
    const [deployment] = byKind(tls, 'Deployment') as Json[];
    expect(() => new Deployment(deployment as never).validate()).not.toThrow();
    const pod = ((deployment!.spec as Json).template as Json).spec as Json;
    const [container] = pod.containers as Json[];
    expect(container!.args).toEqual([
      '--noCapture',
      '--listenPort',
      '9443',
      '--destinationUri',
      'https://vpc-target-abc123.us-east-1.es.amazonaws.com:443',
      '--sslCertChainFile',
      '/etc/swing-target-proxy-tls/tls.crt',
      '--sslKeyFile',
      '/etc/swing-target-proxy-tls/tls.key',
      '--setHeader',
      'Authorization',
      '$(SWING_TARGET_AUTHORIZATION)',
    ]);
    expect(container!.env).toEqual([
      {
        name: 'SWING_TARGET_AUTHORIZATION',
        valueFrom: { secretKeyRef: { name: 'target-basic-auth', key: 'header' } },
      },
    ]);
    expect(pod.volumes).toEqual([{ name: 'tls', secret: { secretName: 'swing-target-proxy-tls' } }]);
    for (const binding of byKind(tls, 'TargetGroupBinding')) expect(errorsOf(v1beta1, binding)).toEqual([]);
  });

  it('leave the bindings out until the stack exists, and write one YAML file per object that parses back the same', () => {
    expect(frontDoorManifests(door).map((manifest) => manifest.kind)).toEqual(['Deployment', 'Service']);
    const files = manifestFiles(manifests);
    expect(files.map((file) => file.name)).toEqual([
      'swing-target-proxy.deployment.yaml',
      'swing-target-proxy.service.yaml',
      'swing-front-door-source.targetgroupbinding.yaml',
      'swing-front-door-target.targetgroupbinding.yaml',
    ]);
    for (const [index, file] of files.entries()) {
      const documents = parseAllDocuments(file.text);
      expect(documents).toHaveLength(1);
      expect(documents[0]!.toJS()).toEqual(manifests[index]);
    }
  });
});
