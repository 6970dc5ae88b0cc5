/**
 * A real Kubernetes control plane on 127.0.0.1, built from upstream modules: etcd,
 * kube-apiserver (TLS, client certificates, RBAC, service-account tokens, the default admission
 * plugins with PodSecurity), kube-controller-manager, kube-scheduler, kwok managing fake GPU nodes,
 * the LeaderWorkerSet controller with its webhooks, and the CRDs genrm's objects need.
 *
 * Everything listens on 127.0.0.1. Processes are started detached with PID files in the state
 * folder, so `down` stops them from any process. Nothing ever dials a pod or Service address: kwok
 * gives pods fake IPs; the only node address is kwok's own server on 127.0.0.1 (it answers the
 * apiserver's log requests).
 */
import { execa } from 'execa';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { crdFiles, moduleDir } from './crds.ts';
import { programPath, toolDir } from './go-tools.ts';
import { HOLD_ENV, KWOK_STORAGE_CLASSES, kwokConfig } from './kwok-stages.ts';
import { DEFAULT_NODES, nodeObjects, parseNodes, type NodeRequest } from './nodes.ts';
import { stateDir } from './paths.ts';
import { makePki, type Pki } from './pki.ts';
import { alive, freePort, startDetached, stopAll, waitFor, type Started } from './processes.ts';
import { KUBERNETES_VERSION, KWOK_VERSION, LWS_VERSION } from './versions.ts';

export { HOLD_ENV };

export interface Cluster {
  /** The admin kubeconfig (`<state>/kubeconfig`). */
  kubeconfig: string;
  /** The apiserver's URL. */
  server: string;
  /** Environment for commands run against the cluster: KUBECONFIG, and PATH with the built kubectl and helm first. */
  env: NodeJS.ProcessEnv;
  /** The cluster's data folder (certificates, etcd, logs). */
  dataDir: string;
}

interface ClusterInfo {
  server: string;
  ports: Record<string, number>;
  nodes: string[];
}

const log0 = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function paths(env: NodeJS.ProcessEnv = process.env) {
  const state = stateDir(env);
  const data = join(state, 'cluster');
  return { state, data, run: join(data, 'run'), pki: join(data, 'pki'), info: join(data, 'cluster.json'), kubeconfig: join(state, 'kubeconfig') };
}

/** Environment for running kubectl, helm and genrm against the cluster of this state folder. */
export function clusterEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const bins = [toolDir('kubernetes', env), toolDir('helm', env)];
  return { ...env, KUBECONFIG: paths(env).kubeconfig, PATH: [...bins, env.PATH ?? ''].join(':') };
}

/** Whether the cluster of this state folder is running (its apiserver process is alive). */
export function isUp(env: NodeJS.ProcessEnv = process.env): boolean {
  const p = paths(env);
  const pidFile = join(p.run, 'kube-apiserver.pid');
  return existsSync(p.info) && existsSync(pidFile) && alive(Number(readFileSync(pidFile, 'utf8')));
}

function kubeconfigFor(server: string, pki: Pki, user: string): string {
  const { cert, key } = pki.certs[user];
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'genrm-e2e', cluster: { server, 'certificate-authority': pki.ca } }],
    users: [{ name: user, user: { 'client-certificate': cert, 'client-key': key } }],
    contexts: [{ name: 'genrm-e2e', context: { cluster: 'genrm-e2e', user, namespace: 'default' } }],
    'current-context': 'genrm-e2e',
  });
}

function httpsOk(url: string, pki: Pki, user = 'admin'): Promise<boolean> {
  return new Promise((resolveOk) => {
    const req = request(
      url,
      { ca: readFileSync(pki.ca), cert: readFileSync(pki.certs[user].cert), key: readFileSync(pki.certs[user].key), timeout: 5_000 },
      (res) => {
        res.resume();
        resolveOk(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolveOk(false));
    req.end();
  });
}

async function kubectl(kubeconfig: string, args: string[], input?: string): Promise<string> {
  const { stdout } = await execa(programPath('kubectl'), ['--kubeconfig', kubeconfig, ...args], { input, timeout: 120_000 });
  return stdout;
}

/** The LeaderWorkerSet webhook configurations of the module, pointed at the controller on 127.0.0.1. */
function lwsWebhooks(lwsDir: string, port: number, caBundle: string): string {
  const docs = parseAllDocuments(readFileSync(join(lwsDir, 'config/webhook/manifests.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, any>);
  // config/webhook/kustomization.yaml applies these JSON patches (op replace /webhooks/1): the pod
  // webhooks only see pods labelled leaderworkerset.sigs.k8s.io/name.
  const patches: Record<string, string> = {
    MutatingWebhookConfiguration: 'config/webhook/mutating-patch.yaml',
    ValidatingWebhookConfiguration: 'config/webhook/validating-patch.yaml',
  };
  const out: Record<string, any>[] = [];
  for (const doc of docs) {
    if (!doc) continue;
    const patchFile = patches[doc.kind];
    if (patchFile) {
      for (const op of parseAllDocuments(readFileSync(join(lwsDir, patchFile), 'utf8'))[0].toJS() as { op: string; path: string; value: unknown }[]) {
        const match = /^\/webhooks\/(\d+)$/.exec(op.path);
        if (op.op !== 'replace' || !match) throw new Error(`unexpected patch ${op.op} ${op.path} in ${patchFile}`);
        doc.webhooks[Number(match[1])] = op.value;
      }
    }
    doc.metadata.name = `lws-${doc.metadata.name}`;
    for (const webhook of doc.webhooks) {
      webhook.clientConfig = { url: `https://127.0.0.1:${port}${webhook.clientConfig.service.path}`, caBundle };
    }
    out.push(doc);
  }
  return out.map((d) => stringify(d)).join('---\n');
}

export interface UpOptions {
  /** e.g. `h100:1,h200:1,cpu:1` (the default). */
  nodes?: string | NodeRequest[];
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** Starts the cluster of this state folder and returns once the apiserver, controllers, kwok, LWS and the nodes are ready. */
export async function up(options: UpOptions = {}): Promise<Cluster> {
  const env = options.env ?? process.env;
  const log = options.log ?? log0;
  const p = paths(env);
  if (isUp(env)) throw new Error(`a test cluster is already running (state in ${p.state}); run \`npm run e2e:cluster -- down\` first`);
  const nodes = typeof options.nodes === 'string' || options.nodes === undefined ? parseNodes(options.nodes ?? DEFAULT_NODES) : options.nodes;
  await stopAll(p.run);
  rmSync(p.data, { recursive: true, force: true });
  for (const dir of [p.data, p.run, p.pki]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const started = Date.now();
  try {
    return await start(p, nodes, env, log, started);
  } catch (error) {
    await stopAll(p.run);
    throw error;
  }
}

async function start(p: ReturnType<typeof paths>, nodes: NodeRequest[], env: NodeJS.ProcessEnv, log: (line: string) => void, t0: number): Promise<Cluster> {
  const pki = await makePki(p.pki);
  const ports = {
    etcdClient: await freePort(),
    etcdPeer: await freePort(),
    apiserver: await freePort(),
    kwok: await freePort(),
    lwsWebhook: await freePort(),
    lwsHealth: await freePort(),
  };
  const server = `https://127.0.0.1:${ports.apiserver}`;
  const bin = (name: string): string => programPath(name, env);
  const run = (name: string, command: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Started =>
    startDetached({ dir: p.run, name, command, args, env: { PATH: env.PATH, HOME: env.HOME, ...extraEnv } });

  // etcd: no fsync (a throwaway store), loopback only.
  const etcdUrl = `http://127.0.0.1:${ports.etcdClient}`;
  const etcd = run('etcd', bin('etcd'), [
    '--name=genrm-e2e',
    `--data-dir=${join(p.data, 'etcd')}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
    `--initial-cluster=genrm-e2e=http://127.0.0.1:${ports.etcdPeer}`,
    '--listen-metrics-urls=',
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ]);
  await waitFor('etcd', async () => (await fetch(`${etcdUrl}/health`)).ok, { timeoutMs: 60_000, started: etcd });

  // kube-apiserver: the flags envtest uses (controller-runtime pkg/internal/testing/controlplane/
  // apiserver.go and auth.go), plus the node client certificate (for logs through kwok) and
  // --endpoint-reconciler-type=none (a loopback advertise address breaks the `kubernetes`
  // Endpoints reconciler: kubernetes issue 121942). The default admission plugins stay on:
  // PodSecurity among them (k8s.io/kubernetes pkg/kubeapiserver/options/plugins.go).
  const apiserver = run('kube-apiserver', bin('kube-apiserver'), [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${ports.apiserver}`,
    `--cert-dir=${join(p.data, 'apiserver-certs')}`,
    `--tls-cert-file=${pki.certs.apiserver.cert}`,
    `--tls-private-key-file=${pki.certs.apiserver.key}`,
    `--client-ca-file=${pki.ca}`,
    '--authorization-mode=RBAC',
    '--allow-privileged=true',
    '--service-cluster-ip-range=10.0.0.0/24',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    `--kubelet-client-certificate=${pki.certs['apiserver-kubelet-client'].cert}`,
    `--kubelet-client-key=${pki.certs['apiserver-kubelet-client'].key}`,
    '--kubelet-preferred-address-types=InternalIP',
    '--endpoint-reconciler-type=none',
    '--profiling=false',
  ]);
  await waitFor('kube-apiserver', () => httpsOk(`${server}/readyz`, pki), { timeoutMs: 180_000, started: apiserver });
  log(`e2e: kube-apiserver ${KUBERNETES_VERSION} ready at ${server} (${Math.round((Date.now() - t0) / 1000)} s)`);

  const kubeconfigs: Record<string, string> = {};
  for (const user of ['admin', 'controller-manager', 'scheduler', 'kwok', 'lws']) {
    kubeconfigs[user] = join(p.data, `${user}.kubeconfig`);
    writeFileSync(kubeconfigs[user], kubeconfigFor(server, pki, user), { mode: 0o600 });
  }
  const admin = kubeconfigs.admin;

  // CRDs: genrm's (from their modules), and kwok's ClusterLogs and Logs (logs served by kwok).
  const kwokDir = await moduleDir('sigs.k8s.io/kwok', KWOK_VERSION);
  const lwsDir = await moduleDir('sigs.k8s.io/lws', LWS_VERSION);
  const crds = [
    ...(await crdFiles()),
    join(kwokDir, 'kustomize/crd/bases/kwok.x-k8s.io_clusterlogs.yaml'),
    join(kwokDir, 'kustomize/crd/bases/kwok.x-k8s.io_logs.yaml'),
  ];
  // The LWS CRD is larger than client-side apply's annotation allows: apply server-side.
  await kubectl(admin, ['apply', '--server-side', '--field-manager=genrm-e2e', ...crds.flatMap((f) => ['-f', f])]);
  // A CRD just created may have no conditions yet, and `kubectl wait` then fails at once
  // ("accessor error: <nil>"): poll.
  await waitFor('CRDs established', async () => {
    await kubectl(admin, ['wait', '--for=condition=Established', '--timeout=10s', 'crd', '--all']);
    return true;
  }, { timeoutMs: 60_000, started: apiserver });

  const storageClasses = KWOK_STORAGE_CLASSES.map((name) =>
    stringify({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name, annotations: name === 'kwok-volume' ? { 'storageclass.kubernetes.io/is-default-class': 'true' } : {} },
      provisioner: 'kwok.x-k8s.io/volume',
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'Immediate',
      allowVolumeExpansion: true,
    }),
  ).join('---\n');
  await kubectl(admin, ['apply', '--server-side', '--field-manager=genrm-e2e', '-f', '-'], storageClasses);

  const controllerManager = run('kube-controller-manager', bin('kube-controller-manager'), [
    `--kubeconfig=${kubeconfigs['controller-manager']}`,
    `--authentication-kubeconfig=${kubeconfigs['controller-manager']}`,
    `--authorization-kubeconfig=${kubeconfigs['controller-manager']}`,
    '--bind-address=127.0.0.1',
    '--secure-port=0',
    '--leader-elect=false',
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${pki.serviceAccountKey}`,
    `--root-ca-file=${pki.ca}`,
    `--cluster-signing-cert-file=${pki.ca}`,
    `--cluster-signing-key-file=${pki.caKey}`,
    '--profiling=false',
  ]);
  const scheduler = run('kube-scheduler', bin('kube-scheduler'), [
    `--kubeconfig=${kubeconfigs.scheduler}`,
    `--authentication-kubeconfig=${kubeconfigs.scheduler}`,
    `--authorization-kubeconfig=${kubeconfigs.scheduler}`,
    '--bind-address=127.0.0.1',
    '--secure-port=0',
    '--leader-elect=false',
    '--profiling=false',
  ]);

  const kwokConfigFile = join(p.data, 'kwok.yaml');
  writeFileSync(
    kwokConfigFile,
    kwokConfig(kwokDir),
  );
  const kwok = run('kwok', bin('kwok'), [
    `--kubeconfig=${kubeconfigs.kwok}`,
    `--config=${kwokConfigFile}`,
    '--cidr=10.244.0.1/16',
    '--node-ip=127.0.0.1',
    `--node-port=${ports.kwok}`,
    `--server-address=127.0.0.1:${ports.kwok}`,
    `--tls-cert-file=${pki.certs['kwok-serving'].cert}`,
    `--tls-private-key-file=${pki.certs['kwok-serving'].key}`,
    '--manage-all-nodes=false',
    '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
    '--enable-crds=ClusterLogs,Logs',
    // Node leases: without them (kwok's flag defaults to none when no KwokConfiguration is
    // given) the only heartbeat is the stage's, every 10 to 20 minutes; the node lifecycle
    // controller then marks every node Unknown (not-ready and unreachable taints) after its 50 s
    // grace period (k8s.io/kubernetes pkg/controller/nodelifecycle/node_lifecycle_controller.go,
    // tryUpdateNodeHealth), kwok's node-initialize stage sets them Ready again, and every other
    // time it drops the node's InternalIP: `kubectl logs` then fails ("no preferred addresses
    // found") and the scheduler sees untolerated taints for a few seconds each minute.
    '--node-lease-duration-seconds=40',
  ]);

  // The LWS controller, with the module's own webhook configurations pointed at it on 127.0.0.1
  // (as envtest serves webhooks): certificates are ours (internalCertManagement off), leader
  // election and the metrics server off.
  const lwsCerts = join(p.data, 'lws-certs');
  mkdirSync(lwsCerts, { recursive: true });
  writeFileSync(join(lwsCerts, 'tls.crt'), readFileSync(pki.certs['lws-webhook'].cert));
  writeFileSync(join(lwsCerts, 'tls.key'), readFileSync(pki.certs['lws-webhook'].key));
  const lwsConfig = join(p.data, 'lws.yaml');
  writeFileSync(
    lwsConfig,
    stringify({
      apiVersion: 'config.lws.x-k8s.io/v1alpha1',
      kind: 'Configuration',
      leaderElection: { leaderElect: false },
      internalCertManagement: { enable: false },
      webhook: { port: ports.lwsWebhook, host: '127.0.0.1', certDir: lwsCerts },
      metrics: { bindAddress: '0' },
      health: { healthProbeBindAddress: `127.0.0.1:${ports.lwsHealth}` },
    }),
  );
  const lws = run('lws-controller', bin('lws-controller'), [`--config=${lwsConfig}`], { KUBECONFIG: kubeconfigs.lws });
  await waitFor(
    'LeaderWorkerSet controller',
    async () => (await fetch(`http://127.0.0.1:${ports.lwsHealth}/readyz`)).ok,
    { timeoutMs: 120_000, started: lws },
  );
  const caBundle = readFileSync(pki.ca).toString('base64');
  await kubectl(admin, ['apply', '--server-side', '--field-manager=genrm-e2e', '-f', '-'], lwsWebhooks(lwsDir, ports.lwsWebhook, caBundle));

  // The nodes; kwok marks them Ready.
  const nodeDocs = nodeObjects(nodes);
  if (nodeDocs.length > 0) {
    await kubectl(admin, ['apply', '--server-side', '--field-manager=genrm-e2e', '-f', '-'], nodeDocs.map((n) => stringify(n)).join('---\n'));
    await waitFor('kwok nodes', async () => {
      const out = await kubectl(admin, ['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']);
      const states = out.split('\n').filter(Boolean);
      return states.length === nodeDocs.length && states.every((s) => s === 'True');
    }, { timeoutMs: 120_000, started: kwok });
  }
  // The controller-manager works once it has made the default namespace's ServiceAccount.
  await waitFor('kube-controller-manager', async () => {
    await kubectl(admin, ['get', 'serviceaccount', 'default', '-n', 'default']);
    return true;
  }, { timeoutMs: 120_000, started: controllerManager });
  if (!alive(scheduler.pid)) throw new Error(`kube-scheduler exited; see ${scheduler.log}`);

  const info: ClusterInfo = { server, ports, nodes: nodeDocs.map((n) => (n.metadata as { name: string }).name) };
  writeFileSync(p.info, `${JSON.stringify(info, null, 2)}\n`);
  writeFileSync(p.kubeconfig, kubeconfigFor(server, pki, 'admin'), { mode: 0o600 });
  log(`e2e: cluster up in ${Math.round((Date.now() - t0) / 1000)} s: ${info.nodes.join(', ') || 'no nodes'}; KUBECONFIG=${p.kubeconfig}`);
  return { kubeconfig: p.kubeconfig, server, env: clusterEnv(env), dataDir: p.data };
}

/** Stops what `up` started (by PID) and removes the cluster's data and kubeconfig. */
export async function down(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const p = paths(env);
  const stopped = await stopAll(p.run);
  rmSync(p.data, { recursive: true, force: true });
  rmSync(p.kubeconfig, { force: true });
  return stopped;
}

/** The cluster of this state folder, when it is up. */
export function current(env: NodeJS.ProcessEnv = process.env): Cluster | undefined {
  if (!isUp(env)) return undefined;
  const p = paths(env);
  const info = JSON.parse(readFileSync(p.info, 'utf8')) as ClusterInfo;
  return { kubeconfig: p.kubeconfig, server: info.server, env: clusterEnv(env), dataDir: p.data };
}
