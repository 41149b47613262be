/** A Kubernetes object as Swing writes it: always namespaced and labelled. */
export type KubernetesManifest = Record<string, unknown> & {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Record<string, string>;
  };
};
