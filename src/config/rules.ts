/**
 * Cross-field rules of the config, each reported as `path: what is wrong (how to fix)`.
 * Single-field rules live in the schema.
 */
import { planFromConfig, startupBudgetSeconds } from '../plan/compute.ts';
import { longCaseRoomProblem } from '../genrm/suite.ts';
import { managedFlagUses } from './engine-args.ts';
import { configSchema, MANAGED_ENV, MAX_STARTUP_SECONDS, type Config } from './schema.ts';
import { downloadsInServerPod } from '../constructs/download-placement.ts';
import { RECIPE_PORTS, vllmRelease } from '../vllm/versions.ts';

export interface Problem {
  path: string;
  message: string;
}

export function checkRules(c: Config): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });

  if (c.topology === 'single-node') {
    const engineGpus = c.vllm.tensorParallelSize * c.vllm.dataParallelSize;
    if (engineGpus !== c.gpus.perPod) {
      add(
        'vllm.tensorParallelSize',
        `is ${c.vllm.tensorParallelSize} with vllm.dataParallelSize ${c.vllm.dataParallelSize}, which uses ${engineGpus} GPUs, but gpus.perPod is ${c.gpus.perPod} (make tensorParallelSize x dataParallelSize equal gpus.perPod: 8 x 1 for the card's layout)`,
      );
    }
  } else {
    const m = c.multiNode;
    const groupGpus = c.gpus.perPod * m.nodes;
    const engineGpus = c.vllm.tensorParallelSize * m.pipelineParallelSize;
    if (groupGpus !== engineGpus) {
      add(
        'multiNode.pipelineParallelSize',
        `gpus.perPod (${c.gpus.perPod}) x multiNode.nodes (${m.nodes}) = ${groupGpus} GPUs, but vllm.tensorParallelSize (${c.vllm.tensorParallelSize}) x multiNode.pipelineParallelSize (${m.pipelineParallelSize}) = ${engineGpus} (make them equal, e.g. 4 GPUs x 2 nodes = tensor parallel 4 x pipeline parallel 2)`,
      );
    }
    if (c.vllm.tensorParallelSize > c.gpus.perPod) {
      add('vllm.tensorParallelSize', `is ${c.vllm.tensorParallelSize}, more than the ${c.gpus.perPod} GPUs of one node (keep tensor parallel within a node; span nodes with multiNode.pipelineParallelSize)`);
    }
    if (c.vllm.dataParallelSize !== 1) {
      add('vllm.dataParallelSize', 'must be 1 with topology multi-node (scale engines with replicas instead)');
    }
    if (c.weights.perReplica) {
      add('weights.perReplica', 'is not supported with topology multi-node (every pod of a group reads the same weights: use ReadWriteMany storage or staged weights)');
    } else if (c.weights.source === 'download' && c.weights.accessMode !== 'ReadWriteMany') {
      add('weights.accessMode', `is ${c.weights.accessMode} but a multi-node group spans ${m.nodes} nodes that all read the weights (use ReadWriteMany storage, or staged weights)`);
    }
  }

  for (const use of managedFlagUses(c.vllm.extraArgs)) {
    const spelled = use.arg.split('=')[0] === use.flag ? `'${use.flag}'` : `'${use.arg.split('=')[0]}' (vLLM reads it as ${use.flag})`;
    add(`vllm.extraArgs[${use.index}]`, `${spelled} is managed by genrm-deploy (set ${use.key} instead)`);
  }
  for (const name of Object.keys(c.vllm.env)) {
    if (Object.hasOwn(MANAGED_ENV, name)) add(`vllm.env.${name}`, `is managed by genrm-deploy (set ${MANAGED_ENV[name]} instead)`);
  }

  // The gate's first check judges the whole suite; its long-context case needs room in the window.
  const room = c.gate.suite === 'full' ? longCaseRoomProblem(c.vllm.maxModelLen, c.gate.maxTokens) : null;
  if (room) {
    add(
      'gate.maxTokens',
      `is ${c.gate.maxTokens} with vllm.maxModelLen ${c.vllm.maxModelLen}: the gate's first check could never pass (${room.replace(/: raise.*$/, '')}) (lower gate.maxTokens, raise vllm.maxModelLen, or set gate.suite: card)`,
    );
  }

  // The kubelet runs the preStop hook (the gate's drain) inside the grace period, then SIGTERM.
  const needed = c.drain.maxSeconds + 30;
  if (c.drain.terminationGracePeriodSeconds < needed) {
    add(
      'drain.terminationGracePeriodSeconds',
      `is ${c.drain.terminationGracePeriodSeconds} s but the drain may take drain.maxSeconds = ${c.drain.maxSeconds} s and vLLM needs ~30 s to stop after it (set it to at least ${needed}, or lower drain.maxSeconds)`,
    );
  }

  if (c.shm.sizeGiB > c.resources.memoryGiB) {
    add('shm.sizeGiB', `is ${c.shm.sizeGiB} GiB, more than resources.memoryGiB (${c.resources.memoryGiB} GiB) (a memory-backed /dev/shm larger than the process memory is a mistake: lower shm.sizeGiB)`);
  }
  if (c.gpus.perPod >= 4 && c.shm.sizeGiB < 8) {
    add('shm.sizeGiB', `is ${c.shm.sizeGiB} GiB, too small for ${c.gpus.perPod} tensor-parallel workers (NCCL fails; use at least 16)`);
  }

  const w = c.weights;
  if (w.source === 'existingClaim' && !w.existingClaim) {
    add('weights.existingClaim', 'is required when weights.source is existingClaim (name the PVC that holds the weights)');
  }
  if (w.source === 'hostPath' && !w.hostPath) {
    add('weights.hostPath', 'is required when weights.source is hostPath (give the node directory that holds the weights)');
  }
  if (w.hostPath !== undefined && !w.hostPath.startsWith('/')) {
    add('weights.hostPath', `'${w.hostPath}' is not an absolute path (start it with /)`);
  }
  if (w.source !== 'existingClaim' && w.existingClaim !== undefined) {
    add('weights.existingClaim', `is set but weights.source is ${w.source} (set weights.source: existingClaim, or remove it)`);
  }
  if (w.source !== 'hostPath' && w.hostPath !== undefined) {
    add('weights.hostPath', `is set but weights.source is ${w.source} (set weights.source: hostPath, or remove it)`);
  }
  if (w.source === 'download' && w.path !== undefined) {
    add('weights.path', 'only applies to staged weights (existingClaim or hostPath); a download is served from its Hugging Face cache');
  }
  if (w.path !== undefined && (w.path.startsWith('/') || w.path.split('/').includes('..'))) {
    add('weights.path', `'${w.path}' must be a relative path inside the volume, without '..'`);
  }
  const a = c.autoscaling;
  const mostReplicas = a.enabled ? Math.max(a.maxReplicas, c.replicas) : c.replicas;
  if (c.topology === 'single-node' && mostReplicas > 1 && w.source === 'download' && !w.perReplica && w.accessMode !== 'ReadWriteMany') {
    add(
      'weights.accessMode',
      `is ${w.accessMode} but up to ${mostReplicas} server pods share the weights volume (pods on different nodes cannot share a ${w.accessMode} volume: use ReadWriteMany storage, weights.perReplica: true, or staged weights)`,
    );
  }
  if (w.downloadHighPerformance && w.downloadDisableXet) {
    add('weights.downloadHighPerformance', 'is an hf-xet mode but weights.downloadDisableXet turns hf-xet off (set one of them)');
  }
  if (w.perReplica && w.source !== 'download') {
    add('weights.perReplica', `only applies to downloaded weights (weights.source is ${w.source})`);
  }
  if (a.enabled) {
    if (a.minReplicas > a.maxReplicas) {
      add('autoscaling.minReplicas', `is ${a.minReplicas}, more than autoscaling.maxReplicas (${a.maxReplicas}) (lower it or raise maxReplicas)`);
    }
    if (!c.monitoring.enabled) {
      add(
        'autoscaling.enabled',
        `scales on vllm:num_requests_waiting, which Prometheus (${a.prometheusAddress}) only has when it scrapes the server pods: set monitoring.enabled: true (and monitoring.labels for your Prometheus's monitor selector)`,
      );
    }
    if (c.replicas < a.minReplicas || c.replicas > a.maxReplicas) {
      add('replicas', `is ${c.replicas}, outside autoscaling's ${a.minReplicas}..${a.maxReplicas} (set it within the range: it is the starting size)`);
    }
  }
  if (c.disruptionBudget.enabled && c.disruptionBudget.maxUnavailable >= mostReplicas && mostReplicas > 1) {
    add('disruptionBudget.maxUnavailable', `is ${c.disruptionBudget.maxUnavailable}, which lets a drain take all ${mostReplicas} server pods (lower it)`);
  }
  if (w.perReplica && c.topology === 'single-node' && c.rollout.strategy === 'Recreate') {
    add('rollout.strategy', 'is Recreate, but weights.perReplica runs a StatefulSet, which has no Recreate (it would wait for someone to delete each pod): remove rollout.strategy (a rolling update, one pod at a time)');
  }
  if (c.rollout.spareNodes > 0 && w.source === 'download' && !w.perReplica && w.accessMode !== 'ReadWriteMany') {
    add(
      'rollout.spareNodes',
      `is ${c.rollout.spareNodes}, but the weights volume is ${w.accessMode}: a surge pod on a spare node cannot attach it while the running pod holds it, and the running pod stays until the new one is Ready (use ReadWriteMany storage or weights.perReplica, or set spareNodes to 0)`,
    );
  }
  // A RollingUpdate scales the new ReplicaSet up as soon as the old one is scaled down, while the
  // old pod still terminates (its drain takes up to drain.terminationGracePeriodSeconds):
  // k8s.io/kubernetes pkg/controller/deployment/rolling.go; only Recreate waits for old pods to be
  // gone (recreate.go, oldPodsRunning). A ReadWriteOncePod claim holds the new pod in the
  // scheduler instead; a ReadWriteOnce one would be mounted by both pods.
  if (
    c.rollout.strategy === 'RollingUpdate' &&
    c.rollout.spareNodes === 0 &&
    c.topology === 'single-node' &&
    w.source === 'download' &&
    !w.perReplica &&
    w.accessMode === 'ReadWriteOnce'
  ) {
    add(
      'rollout.strategy',
      'is RollingUpdate, but the weights volume is ReadWriteOnce: the Deployment controller starts the new pod while the old one still drains and terminates, so two pods (on two nodes: the old one holds its node\'s GPUs) would claim the volume at once (remove rollout.strategy: Recreate waits for the old pod to be gone; or use ReadWriteMany storage or weights.perReplica)',
    );
  }
  if (c.rollout.spareNodes > 0 && c.rollout.strategy === 'Recreate') {
    add('rollout.spareNodes', 'is set but rollout.strategy is Recreate (spare nodes only help a RollingUpdate: remove one of them)');
  }

  if (c.vllm.port === c.gate.port) {
    add('gate.port', `is ${c.gate.port}, the same as vllm.port: the gate and vLLM share the pod's network, so they need different ports`);
  }
  // The download's egress policy selects the download Job's pods. A download that runs in the
  // server pod (ReadWriteOnce or per-replica weights) is not restricted by it: the server pods'
  // policy isolates ingress only, so custom CIDRs would silently do nothing there.
  const defaultCidrs = configSchema.parse({}).networkPolicy.downloadEgressCidrs;
  if (
    c.networkPolicy.enabled &&
    downloadsInServerPod(c.weights) &&
    c.networkPolicy.downloadEgressCidrs.join(',') !== defaultCidrs.join(',')
  ) {
    add(
      'networkPolicy.downloadEgressCidrs',
      `restricts only a separate download Job, but with weights.accessMode ${c.weights.accessMode}${c.weights.perReplica ? ' and weights.perReplica' : ''} the download runs in the server pod, whose egress genrm does not restrict (use ReadWriteMany weights for a download Job, or remove the setting and restrict the namespace's egress with your own policy)`,
    );
  }

  if (c.topology === 'multi-node') {
    const recipe = vllmRelease(c.vllm.image).multiNode.kind;
    for (const [path, port] of [['vllm.port', c.vllm.port], ['gate.port', c.gate.port]] as const) {
      const taken = RECIPE_PORTS[recipe].find((p) => p.port === port);
      if (taken) {
        add(
          path,
          `is ${port}, a port ${taken.what} binds in the leader's pod with ${c.vllm.image} (the ${recipe} multi-node recipe), so one of them would fail to start (choose another port; the recipe takes ${RECIPE_PORTS[recipe].map((p) => p.port).join(', ')})`,
        );
      }
    }
  }

  const budget = c.probes.startupTimeoutSeconds;
  const derived = startupBudgetSeconds(planFromConfig(c), budget);
  if (budget === undefined && derived > MAX_STARTUP_SECONDS) {
    add(
      'weights.readMiBps',
      `is ${w.readMiBps} MiB/s, so loading the weights is estimated at ${Math.round(derived / 2)} s and the startup budget at ${derived} s, beyond the ${MAX_STARTUP_SECONDS} s (7 days) allowed (give the real read throughput of the storage)`,
    );
  }
  if (budget !== undefined && budget < c.probes.startupPeriodSeconds) {
    add('probes.startupPeriodSeconds', `is longer than probes.startupTimeoutSeconds (make it shorter)`);
  }
  return problems;
}
