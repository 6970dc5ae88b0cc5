#!/usr/bin/env node
/**
 * A stand-in `kubectl` for genrm's tests. It records every call (argv and stdin) as one JSON line
 * in $FAKE_KUBECTL_LOG and replays the cluster described by a scenario directory
 * ($FAKE_KUBECTL_SCENARIO, absolute, or a name under test/fixtures/kube/):
 *
 *   scenario.json      optional: { "context": "...", "noContext": true, "applyError": "immutable-job" | "forbidden",
 *                      "unreachable": true, "diff": "text of a diff", "apiResources": [CRD types served],
 *                      "applyFail": { "kind": "...", "stderr": "kubectl's message ($NAME: the object's name)" } }
 *   cluster.json       a v1 List of the live objects (filtered by the requested types and -l selector)
 *   events.json        a v1 EventList
 *   logs/<container>[.previous].log   what `kubectl logs` prints for that container (any pod)
 *   steps/<n>/...      the same files for the n-th look: the n-th `get` that lists pods reads steps/<n>
 *                      (the last step repeats), so a rollout unfolds one poll at a time
 *
 * $FAKE_KUBECTL_GARBAGE makes it a broken kubectl instead: it prints that garbage (one of
 * GARBAGE's names) on stdout and exits 0 (or $FAKE_KUBECTL_GARBAGE_EXIT) for the verbs in
 * $FAKE_KUBECTL_GARBAGE_VERBS (a comma list such as `get,apply`; default every verb; `get-raw` is
 * `get --raw`).
 *
 * It answers with kubectl's real output shapes and messages, and exits with kubectl's codes.
 */
import { appendFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = resolve(here, '../../fixtures/kube');
const rawArgs = process.argv.slice(2);
const scenarioName = process.env.FAKE_KUBECTL_SCENARIO ?? 'ready';
const scenarioDir = isAbsolute(scenarioName) ? scenarioName : join(fixtures, scenarioName);
const log = process.env.FAKE_KUBECTL_LOG;
const stateFile = process.env.FAKE_KUBECTL_STATE ?? (log ? `${log}.state.json` : undefined);

const stdin = rawArgs.includes('-') ? readFileSync(0, 'utf8') : '';
if (log) appendFileSync(log, `${JSON.stringify({ argv: rawArgs, stdin })}\n`);

const ESC = '\u001b';
const GARBAGE = {
  'truncated-json': '{"items":[{"kind":',
  html: '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body><h1>Bad Gateway</h1></body></html>\n',
  'null-item': '{"apiVersion":"v1","kind":"List","items":[null]}\n',
  'wrong-types': '{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":"all"},"status":{"containerStatuses":"many"}}]}\n',
  escapes: `${ESC}[2J${ESC}]0;pwned${String.fromCharCode(7)}deployment.apps/x serverside-applied ${ESC}[31mred\n`,
};
const garbage = process.env.FAKE_KUBECTL_GARBAGE;
if (garbage !== undefined) {
  const verbs = (process.env.FAKE_KUBECTL_GARBAGE_VERBS ?? '').split(',').filter(Boolean);
  const first = rawArgs.find((a) => !a.startsWith('--'));
  const verbName = first === 'get' && rawArgs.includes('--raw') ? 'get-raw' : first;
  if (verbs.length === 0 || verbs.includes(verbName)) {
    const code = Number(process.env.FAKE_KUBECTL_GARBAGE_EXIT ?? 0);
    // `huge`: 65 MiB, past the most genrm reads from one call.
    if (garbage === 'huge') process.stdout.write(Buffer.alloc(65 * 1024 * 1024, 'a'), () => process.exit(code));
    else {
      process.stdout.write(GARBAGE[garbage] ?? garbage);
      process.exit(code);
    }
  }
}

const scenario = readJson(join(scenarioDir, 'scenario.json')) ?? {};
const flags = {};
const args = [];
for (const a of rawArgs) {
  const m = /^--(context|namespace|request-timeout)=(.*)$/.exec(a);
  if (m) flags[m[1]] = m[2];
  else args.push(a);
}
const namespace = flags.namespace ?? 'default';

function readJson(file) {
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}
function loadState() {
  return (stateFile && readJson(stateFile)) ?? { looks: 0, applies: 0 };
}
function saveState(s) {
  if (stateFile) writeFileSync(stateFile, JSON.stringify(s));
}
function stepFile(file, look) {
  const stepsDir = join(scenarioDir, 'steps');
  if (existsSync(stepsDir)) {
    const steps = readdirSync(stepsDir).map(Number).filter(Number.isFinite).sort((a, b) => a - b);
    const n = steps.filter((s) => s <= Math.max(1, look)).at(-1) ?? steps[0];
    const f = join(stepsDir, String(n), file);
    if (existsSync(f)) return f;
  }
  return join(scenarioDir, file);
}
function fail(message, code = 1) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}
function out(text) {
  process.stdout.write(text);
}
const unreachable = () =>
  fail('The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?');

const TYPE_KIND = {
  pods: 'Pod', pod: 'Pod', po: 'Pod',
  'deployments.apps': 'Deployment', deployments: 'Deployment',
  'jobs.batch': 'Job', jobs: 'Job',
  persistentvolumeclaims: 'PersistentVolumeClaim', pvc: 'PersistentVolumeClaim',
  services: 'Service', configmaps: 'ConfigMap', serviceaccounts: 'ServiceAccount',
  'networkpolicies.networking.k8s.io': 'NetworkPolicy', 'poddisruptionbudgets.policy': 'PodDisruptionBudget',
  'statefulsets.apps': 'StatefulSet', 'horizontalpodautoscalers.autoscaling': 'HorizontalPodAutoscaler',
  'leaderworkersets.leaderworkerset.x-k8s.io': 'LeaderWorkerSet', 'scaledobjects.keda.sh': 'ScaledObject',
  'podmonitors.monitoring.coreos.com': 'PodMonitor', 'servicemonitors.monitoring.coreos.com': 'ServiceMonitor',
  events: 'Event',
};
/** What `kubectl api-resources -o name` prints: the built-in types, plus scenario.apiResources (CRDs). */
const BUILT_IN_TYPES = [
  'configmaps', 'events', 'persistentvolumeclaims', 'pods', 'secrets', 'serviceaccounts', 'services',
  'deployments.apps', 'replicasets.apps', 'statefulsets.apps', 'horizontalpodautoscalers.autoscaling',
  'jobs.batch', 'networkpolicies.networking.k8s.io', 'poddisruptionbudgets.policy',
];
function refOf(o) {
  const group = o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : '';
  return `${o.kind.toLowerCase()}${group}/${o.metadata.name}`;
}
function matches(selector, labels = {}) {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return labels[k] === v;
  });
}
function option(name) {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  return args[i].includes('=') ? args[i].slice(args[i].indexOf('=') + 1) : args[i + 1];
}

const [verb, ...rest] = args;
const state = loadState();

switch (verb) {
  case 'config': {
    if (scenario.noContext) fail('error: current-context is not set');
    const context = scenario.context ?? 'fake-cluster';
    if (rest[0] === 'current-context') out(`${context}\n`);
    else if (rest[0] === 'get-contexts') out(`${context}\nother-cluster\n`);
    else fail(`error: unknown command "${rest[0]}" for "kubectl config"`);
    break;
  }
  case 'get': {
    if (scenario.unreachable) unreachable();
    if (rest[0] === '--raw') {
      out('{"major":"1","minor":"31","gitVersion":"v1.31.2","platform":"linux/amd64"}');
      break;
    }
    if (rest[0].includes('/')) {
      // One object by reference: `get deployment.apps/x --ignore-not-found -o jsonpath={.spec.replicas}`.
      const cluster = readJson(stepFile('cluster.json', state.looks)) ?? { items: [] };
      const found = cluster.items.find((o) => refOf(o) === rest[0] && (o.metadata.namespace ?? namespace) === namespace);
      if (!found) {
        if (args.includes('--ignore-not-found')) break;
        fail(`Error from server (NotFound): ${rest[0].split('/')[0]} "${rest[0].split('/')[1]}" not found`);
      }
      const path = option('-o');
      if (path === 'jsonpath={.spec.replicas}') out(found.spec?.replicas === undefined ? '' : String(found.spec.replicas));
      else out(`${JSON.stringify(found, null, 4)}\n`);
      break;
    }
    const types = rest[0].split(',');
    if (types.includes('pods')) {
      state.looks += 1;
      saveState(state);
    }
    if (types.includes('events')) {
      out(readFileSync(stepFile('events.json', state.looks), 'utf8'));
      break;
    }
    if (scenario.forbidList) {
      fail(`Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:ci:deployer" cannot list resource "pods" in API group "" in the namespace "${namespace}"`);
    }
    const kinds = new Set(types.map((t) => TYPE_KIND[t]).filter(Boolean));
    const cluster = readJson(stepFile('cluster.json', state.looks)) ?? { items: [] };
    const items = cluster.items.filter((o) => kinds.has(o.kind) && (o.metadata.namespace ?? namespace) === namespace && matches(option('-l'), o.metadata.labels));
    out(`${JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items }, null, 4)}\n`);
    break;
  }
  case 'logs': {
    if (scenario.unreachable) unreachable();
    const container = option('--container') ?? option('-c');
    const previous = args.includes('--previous') || args.includes('-p');
    const pod = rest.find((a) => !a.startsWith('-')) ?? 'pod';
    const file = stepFile(join('logs', `${container}${previous ? '.previous' : ''}.log`), state.looks);
    if (!existsSync(file)) {
      if (previous) fail(`Error from server (BadRequest): previous terminated container "${container}" in pod "${pod}" not found`);
      fail(`Error from server (BadRequest): container "${container}" in pod "${pod}" is waiting to start: PodInitializing`);
    }
    const lines = readFileSync(file, 'utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    const tail = Number(option('--tail') ?? -1);
    out(`${(tail >= 0 ? lines.slice(-tail || lines.length) : lines).join('\n')}\n`);
    break;
  }
  case 'apply': {
    if (scenario.unreachable) unreachable();
    state.applies += 1;
    saveState(state);
    const objects = parseAllDocuments(stdin).map((d) => d.toJS()).filter(Boolean);
    const applyingJob = objects.find((o) => o.kind === 'Job');
    if (scenario.applyError === 'immutable-job' && applyingJob && state.applies === 2) {
      for (const o of objects.filter((x) => x !== applyingJob)) out(`${refOf(o)} serverside-applied\n`);
      fail(
        `The Job "${applyingJob.metadata.name}" is invalid: spec.template: Invalid value: core.PodTemplateSpec{ObjectMeta:v1.ObjectMeta{Name:"", Labels:map[string]string{"batch.kubernetes.io/job-name":"${applyingJob.metadata.name}"}}, Spec:core.PodSpec{Containers:[]core.Container{core.Container{Name:"download", Env:[]core.EnvVar{core.EnvVar{Name:"HF_TOKEN", Value:"hf_SECRETVALUEDONOTPRINT"}}}}}}: field is immutable`,
      );
    }
    const refusal = scenario.applyFail && objects.find((o) => o.kind === scenario.applyFail.kind);
    if (refusal) fail(scenario.applyFail.stderr.replaceAll('$NAME', refusal.metadata.name));
    if (scenario.applyError === 'forbidden' && objects.some((o) => o.kind === 'Deployment')) {
      fail(`Error from server (Forbidden): deployments.apps "${objects.find((o) => o.kind === 'Deployment').metadata.name}" is forbidden: User "alice@example.com" cannot patch resource "deployments" in API group "apps" in the namespace "${namespace}"`);
    }
    for (const o of objects) out(`${refOf(o)} serverside-applied\n`);
    break;
  }
  case 'api-resources': {
    if (scenario.unreachable) unreachable();
    out(`${[...BUILT_IN_TYPES, ...(scenario.apiResources ?? [])].join('\n')}\n`);
    break;
  }
  case 'delete': {
    if (scenario.unreachable) unreachable();
    for (const ref of rest.filter((a) => !a.startsWith('-'))) {
      const [type, name] = ref.split('/');
      // kubectl 1.36 names the namespace (seen on the e2e tier's real apiserver).
      out(`${type} "${name}" deleted from ${namespace} namespace\n`);
    }
    break;
  }
  case 'diff': {
    if (scenario.unreachable) unreachable();
    if (scenario.diff) {
      out(scenario.diff);
      process.exit(1);
    }
    break;
  }
  default:
    fail(`error: unknown command "${verb}" for "kubectl"\nRun 'kubectl --help' for usage.`);
}
