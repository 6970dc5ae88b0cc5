/**
 * One engine across several nodes, for nodes with fewer GPUs than the model needs: a
 * LeaderWorkerSet whose groups run vLLM as vLLM's LWS guide of the image's release documents it
 * (the recipe is a property of the release: src/vllm/versions.ts):
 * - `ray` (v0.12.0): the leader starts the Ray head (vLLM's `multi-node-serving.sh leader`),
 *   waits for the group, then serves the OpenAI API with tensor parallel within a node and
 *   pipeline parallel across nodes; workers join the head (`multi-node-serving.sh worker`).
 *   The script gives up after `--ray_init_timeout` (300 s by default, on both sides), and a
 *   leader or worker that gives up restarts the whole group (RecreateGroupOnPodRestart): a worker
 *   still pulling its 20 GB image, or waiting for a GPU node, would restart the group again and
 *   again. Both sides therefore wait as long as the startup budget.
 * - `multiprocess` (later releases, whose images have no Ray): every pod runs `vllm serve` with
 *   `--nnodes`, `--node-rank` and `--master-addr` (the leader's address); workers add `--headless`.
 *   Where the release has them, the distributed timeouts get the startup budget too.
 * The judge gate and the Service are on the leader only.
 *
 * The pod templates are built like the single-node server's (same container, probes, GPUs,
 * weights, preflight) by rendering cdk8s-plus workloads in a scratch app, then handed to the
 * LeaderWorkerSet as rendered JSON.
 */
import { ApiObject, App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { LeaderWorkerSet } from '../crds/index.ts';
import { imageVersion, labelsFor, serverSelector } from './labels.ts';
import { serverDisruptionBudget, serverService, serverServiceAccount } from './server-common.ts';
import { buildServerPod, type ServerPodProps } from './server-pod.ts';
import { vllmRelease } from '../vllm/versions.ts';

/** The leader's and the workers' container commands (and worker args) for the image's release. */
export function multiNodeCommands(image: string, budgetSeconds: number, args: string[]): { leader: string[]; worker: string[]; workerArgs: string[] } {
  const recipe = vllmRelease(image).multiNode;
  if (recipe.kind === 'ray') {
    // multi-node-serving.sh (v0.12.0) polls every 5 s until --ray_init_timeout seconds have passed.
    const timeout = `--ray_init_timeout=${budgetSeconds}`;
    return {
      leader: ['sh', '-c', `bash ${recipe.script} leader --ray_cluster_size=$(LWS_GROUP_SIZE) ${timeout} && exec python3 -m vllm.entrypoints.openai.api_server "$@"`, 'vllm-leader'],
      worker: ['sh', '-c', `exec bash ${recipe.script} worker --ray_address=$(LWS_LEADER_ADDRESS) ${timeout}`],
      workerArgs: [],
    };
  }
  // vLLM's LWS guide (docs/deployment/frameworks/lws.md, main 2026-08): the same engine flags on
  // every pod, the group size as --nnodes, the pod's index as --node-rank.
  const waits = (recipe.timeoutFlags ?? []).map((flag) => ` ${flag} ${budgetSeconds}`).join('');
  const group = `--nnodes $(LWS_GROUP_SIZE) --master-addr $(LWS_LEADER_ADDRESS)${waits}`;
  return {
    leader: ['sh', '-c', `exec vllm serve "$@" ${group} --node-rank 0`, 'vllm-leader'],
    worker: ['sh', '-c', `exec vllm serve "$@" ${group} --node-rank $(LWS_WORKER_INDEX) --headless`, 'vllm-worker'],
    workerArgs: args,
  };
}

export interface MultiNodeServerProps extends ServerPodProps {
  readonly name: string;
  readonly namespace: string;
  /** Engine groups (each `nodes` pods). @default 1 */
  readonly replicas?: number;
  /** Pods per group: the leader and `nodes - 1` workers. */
  readonly nodes: number;
  /** A PodDisruptionBudget over the group's pods (a lost worker stops its group too). @default - none */
  readonly disruptionBudgetMaxUnavailable?: number;
  /** Extra Service ports. @default - none */
  readonly extraServicePorts?: kplus.ServicePort[];
}

/** Renders a pod template the way the single-node server builds it. */
function renderTemplate(props: ServerPodProps, labels: Record<string, string>): { metadata: Record<string, unknown>; spec: any } {
  const scratch = new Chart(new App(), 'scratch');
  const sa = kplus.ServiceAccount.fromServiceAccountName(scratch, 'sa', 'placeholder');
  const pod = buildServerPod(scratch, sa, props);
  const workload = new kplus.Deployment(scratch, 'template', { ...pod.podProps, podMetadata: { labels }, replicas: 1 });
  workload.select(kplus.LabelSelector.of({ labels }));
  props.scheduling.applyTo(workload);
  pod.patch(ApiObject.of(workload));
  const template = (ApiObject.of(workload).toJson() as { spec: { template: { metadata: Record<string, unknown>; spec: any } } }).spec.template;
  return template;
}

export class MultiNodeServer extends Construct {
  public readonly leaderWorkerSet: LeaderWorkerSet;
  public readonly service: kplus.Service;
  public readonly serviceAccount: kplus.ServiceAccount;
  /** The labels selecting the leaders (the pods that serve). */
  public readonly selector: Record<string, string>;
  /** The labels selecting the workers (Ray only, no API). */
  public readonly workerSelector: Record<string, string>;
  /** The label LeaderWorkerSet puts on every pod of the set, leaders and workers. */
  public readonly groupPeer: Record<string, string>;

  constructor(scope: Construct, id: string, props: MultiNodeServerProps) {
    super(scope, id);
    const port = props.port ?? 5000;
    const version = imageVersion(props.image);
    this.selector = serverSelector(props.name);
    this.workerSelector = { ...this.selector, 'app.kubernetes.io/component': 'server-worker' };
    // lws api/leaderworkerset/v1/leaderworkerset_types.go (v0.6.0): SetNameLabelKey.
    this.groupPeer = { 'leaderworkerset.sigs.k8s.io/name': `${props.name}-server` };
    this.serviceAccount = serverServiceAccount(this, props.name, props.namespace);

    const commands = multiNodeCommands(props.image, props.startupTimeoutSeconds ?? 3600, props.args);
    const leader = renderTemplate({ ...props, command: commands.leader }, labelsFor(props.name, 'server', version));
    const worker = renderTemplate(
      {
        ...props,
        serves: false,
        // The leader's drain (its gate's /drain) still needs the workers: the later pipeline
        // stages run there. LeaderWorkerSet deletes a group's pods together (the workers'
        // StatefulSet is owned by the leader pod: lws pkg/controllers/pod_controller.go, v0.6.2,
        // and a group restart or rolling update deletes the leader), so a worker that stopped
        // after a short sleep would fail the judgments the leader is still finishing. A worker
        // waits as long as the leader may drain; it may go earlier, when its engine stops with
        // the leader's: the hook's `sleep` dies with the container's main process.
        preStopSeconds: props.gate?.drainMaxSeconds ?? props.preStopSeconds,
        command: commands.worker,
        args: commands.workerArgs,
        sidecars: [],
      },
      labelsFor(props.name, 'server-worker', version),
    );
    for (const t of [leader, worker]) t.spec.serviceAccountName = this.serviceAccount.name;

    this.leaderWorkerSet = new LeaderWorkerSet(this, 'lws', {
      metadata: { name: `${props.name}-server`, namespace: props.namespace, labels: labelsFor(props.name, 'server', version) },
      replicas: props.replicas ?? 1,
      size: props.nodes,
      leaderTemplate: { rendered: leader },
      workerTemplate: { rendered: worker },
      // A restarted pod means a broken Ray group: restart the whole group.
      restartPolicy: 'RecreateGroupOnPodRestart',
      maxSurge: 0,
      maxUnavailable: 1,
    });

    this.service = serverService(this, { name: props.name, namespace: props.namespace, port, selector: this.selector, extraPorts: props.extraServicePorts });
    if (props.disruptionBudgetMaxUnavailable !== undefined) {
      serverDisruptionBudget(this, {
        name: props.name,
        namespace: props.namespace,
        selector: this.selector,
        maxUnavailable: props.disruptionBudgetMaxUnavailable,
        components: ['server', 'server-worker'],
      });
    }
  }
}
