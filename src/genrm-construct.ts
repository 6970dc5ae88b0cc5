/**
 * `Genrm`: the whole deployment as one construct, for cdk8s apps that compose it into their own
 * chart next to their other objects. Its props are the YAML config's keys, validated by the same
 * schema and rules as `genrm synth`; its objects are the ones `genrm synth` writes.
 */
import { ApiObject } from 'cdk8s';
import type * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { addGenrm } from '../charts/genrm-chart.ts';
import { reportError, UserError } from './cli/errors.ts';
import { validateConfig } from './config/load.ts';
import type { Config, ConfigInput } from './config/schema.ts';
import { assertFits } from './synth.ts';

/**
 * The props of `Genrm`: exactly the keys of the YAML config (see the config reference in
 * docs/configuration.md), every one optional.
 * @default - the model card's deployment: one 8-GPU H100 pod serving
 * nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603 with tensor parallelism 8 (profile `h100-tp8`).
 */
export type GenrmProps = ConfigInput;

/**
 * The reward model's deployment (namespace, weights, vLLM server with its judge gate, Service, and
 * the optional autoscaler, monitoring and network policy) as one construct, placed in any cdk8s
 * Chart. Object names come from the props (`name`, `namespace`), not from the construct path, so
 * the objects equal those `genrm synth` writes for the same config.
 *
 * @throws Error when the props are invalid or the deployment cannot fit its GPUs; the message lists
 * one `path: what is wrong (how to fix)` line per problem, as `genrm synth` prints them, and its
 * `cause` is the underlying error with the lines in `problems`.
 */
export class Genrm extends Construct {
  /** The validated config, every default filled in. */
  public readonly config: Config;
  /** The Service in front of the API pods (OpenAI-compatible API, port `port`). */
  public readonly service: kplus.Service;
  /** The Service's API port. */
  public readonly port: number;
  /** The Service's DNS name inside the cluster: `<service>.<namespace>.svc`. */
  public readonly dnsName: string;
  /** The in-cluster base URL of the OpenAI-compatible API, for trainers: `http://<dnsName>:<port>/v1`. */
  public readonly baseUrl: string;
  /** The labels selecting the pods that serve the API (e.g. for a NetworkPolicy of your own). */
  public readonly selector: Readonly<Record<string, string>>;
  /** The server workload: a Deployment, a StatefulSet (per-replica weights) or a LeaderWorkerSet (multi-node). */
  public readonly workload: ApiObject;
  /**
   * The PersistentVolumeClaim holding the weights, when this construct creates one.
   * @default - undefined with `weights.existingClaim`, `weights.hostPath` or `weights.perReplica`
   */
  public readonly weightsClaim?: kplus.PersistentVolumeClaim;

  constructor(scope: Construct, id: string, props: GenrmProps = {}) {
    super(scope, id);
    this.config = validProps(props, `the config of Genrm '${id}'`);
    const parts = addGenrm(this, this.config);
    this.service = parts.service;
    this.port = this.config.vllm.port;
    this.dnsName = `${parts.service.name}.${this.config.namespace}.svc`;
    this.baseUrl = `http://${this.dnsName}:${this.port}/v1`;
    this.selector = parts.selector;
    this.workload = parts.workload;
    this.weightsClaim = parts.weights.claim;
    this.node.addValidation({ validate: () => collisions(this) });
  }
}

/** An object's identity in a cluster: API group, kind, namespace and name. */
function identity(o: ApiObject): string {
  const namespace = o.metadata.namespace;
  const group = o.apiGroup === 'core' ? '' : `.${o.apiGroup}`;
  return `${o.kind}${group} ${namespace ? `${namespace}/` : ''}${o.name}`;
}

/**
 * The objects of `genrm` that another construct of the app defines too (checked when the app
 * synthesizes, so objects added later count): two `Genrm` with the same `name` and `namespace`,
 * two sharing a namespace (each creates its Namespace, labelled as its own), or a Namespace of the
 * user's own with the name `namespace` names. Applied, one object would silently replace the other.
 */
function collisions(genrm: Genrm): string[] {
  const mine = genrm.node.findAll().filter((c): c is ApiObject => ApiObject.isApiObject(c));
  const ours = new Set<unknown>(mine);
  const byIdentity = new Map(mine.map((o) => [identity(o), o]));
  const problems: string[] = [];
  for (const other of genrm.node.root.node.findAll()) {
    if (!ApiObject.isApiObject(other) || ours.has(other)) continue;
    const id = identity(other);
    if (!byIdentity.has(id)) continue;
    problems.push(
      `${id} is defined both here and by ${other.node.path.replace(/\/Resource$/, '')}: give each Genrm its own name and namespace (a Genrm creates its namespace; do not declare that Namespace yourself)`,
    );
  }
  return problems;
}

/** Validates props like a config file (schema, rules, capacity fit); a problem throws an Error worded as the CLI's. */
function validProps(props: GenrmProps, source: string): Config {
  try {
    const config = validateConfig(props, source);
    assertFits(config);
    return config;
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    let text = '';
    reportError(err, (s) => {
      text += s;
    });
    throw new Error(text.trimEnd(), { cause: err });
  }
}
