/**
 * What the cluster operation tests (apply, scheduling, Pod Security, rollout, delete, library)
 * share on top of cluster-helpers.ts: configs in namespaces of their own (`ops-*`), the server
 * pods and their nodes, log files served by kwok (a `ClusterLogs` object), and a watch of pod
 * events.
 */
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../harness/paths.ts';
import { clusterEnv, eventually, genrm, getJson, kubectl, writeConfig, type Run } from './cluster-helpers.ts';

/**
 * Runs a genrm cluster command with a request timeout of 60 s instead of 10 s: these tests share
 * a 2-core machine with other work, where kubectl alone can take longer than 10 s to answer.
 */
export function ops(args: string[], options?: Parameters<typeof genrm>[1]): Promise<Run> {
  return genrm([...args, '--request-timeout', '60s'], options);
}

/** The labels of genrm's server pods of deployment `name`. */
export const serverSelector = (name = 'genrm') => `app.kubernetes.io/instance=${name},app.kubernetes.io/component=server`;

/** A config file: an example of examples/ (or none: the defaults) with `overrides` laid over its top-level keys. */
export function opsConfig(example: string | undefined, overrides: Record<string, unknown>): string {
  const base = example ? (parse(readFileSync(join(repoRoot, 'examples', example), 'utf8')) as Record<string, unknown>) : {};
  return writeConfig({ ...base, ...overrides });
}

export interface PodInfo {
  name: string;
  node: string | undefined;
  ready: boolean;
  deleting: boolean;
  claims: string[];
}

/** The server pods of a namespace, with their node, readiness and the claims they mount. */
export async function serverPods(namespace: string, name = 'genrm'): Promise<PodInfo[]> {
  const list = await getJson<{ items: any[] }>(['pods', '-n', namespace, '-l', serverSelector(name)]);
  return list.items.map((p) => ({
    name: p.metadata.name,
    node: p.spec.nodeName,
    ready: (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
    deleting: p.metadata.deletionTimestamp !== undefined,
    claims: (p.spec.volumes ?? []).flatMap((v: any) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : [])),
  }));
}

/** A node's labels. */
export async function nodeLabels(node: string): Promise<Record<string, string>> {
  return (await getJson<{ metadata: { labels: Record<string, string> } }>(['node', node])).metadata.labels;
}

/** Waits until the namespace has exactly `count` server pods, all Ready. */
export async function readyServerPods(namespace: string, count: number, timeoutMs = 90_000): Promise<PodInfo[]> {
  return eventually(
    `${count} Ready server pod(s) in ${namespace}`,
    async () => {
      const pods = (await serverPods(namespace)).filter((p) => !p.deleting);
      return pods.length === count && pods.every((p) => p.ready) ? pods : undefined;
    },
    timeoutMs,
  );
}

export interface LogFiles {
  containers: string[];
  text: string;
  previous?: string;
}

/**
 * A log text in the container runtime's (CRI) log file format, which kwok parses as the kubelet
 * does (`<RFC 3339 time> stdout F <line>`, k8s.io/cri-client logs; anything else is refused with
 * "unsupported log format").
 */
export function criLog(text: string): string {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line, i) => `${new Date(Date.UTC(2026, 2, 20, 10, 0, 0, i)).toISOString()} stdout F ${line}\n`).join('');
}

/**
 * Makes kwok serve these texts as the containers' logs (`kubectl logs`, and `--previous` when
 * `previous` is given) for every pod of the namespaces; returns a function that removes it.
 */
export async function serveLogs(name: string, namespaces: string[], logs: LogFiles[]): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'genrm-e2e-logs-'));
  const entries = logs.map((l, i) => {
    const logsFile = join(dir, `${i}.log`);
    writeFileSync(logsFile, criLog(l.text));
    const entry: Record<string, unknown> = { containers: l.containers, logsFile, follow: false };
    if (l.previous !== undefined) {
      entry.previousLogsFile = join(dir, `${i}.previous.log`);
      writeFileSync(entry.previousLogsFile as string, criLog(l.previous));
    }
    return entry;
  });
  const object = {
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'ClusterLogs',
    metadata: { name },
    spec: { selector: { matchNamespaces: namespaces }, logs: entries },
  };
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(object) });
  return async () => {
    await kubectl(['delete', 'clusterlogs.kwok.x-k8s.io', name, '--ignore-not-found'], { reject: false });
  };
}

export interface PodEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  name: string;
  deleting: boolean;
  phase: string;
  node: string;
  claims: string[];
  at: number;
}

/** Watches the pods of a selector (`kubectl get pods -w`) from now on; `stop()` returns every event seen. */
export function watchPods(namespace: string, selector: string): { ready: Promise<void>; stop: () => Promise<PodEvent[]> } {
  const template =
    '{.type}|{.object.metadata.name}|{.object.metadata.deletionTimestamp}|{.object.status.phase}|{.object.spec.nodeName}|{.object.spec.volumes[*].persistentVolumeClaim.claimName}{"\\n"}';
  const child: ResultPromise = execa('kubectl', ['get', 'pods', '-n', namespace, '-l', selector, '-w', '--output-watch-events', '-o', `jsonpath=${template}`], {
    env: clusterEnv(),
    extendEnv: false,
    reject: false,
    buffer: false,
  });
  const events: PodEvent[] = [];
  let pending = '';
  let firstLine: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    firstLine = resolve;
    setTimeout(resolve, 3000); // an empty selector prints nothing until something happens
  });
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines.filter(Boolean)) {
      const [type, name, deletion, phase, node, claims] = line.split('|');
      events.push({ type: type as PodEvent['type'], name, deleting: deletion !== '', phase, node, claims: (claims ?? '').split(' ').filter(Boolean), at: Date.now() });
      firstLine();
    }
  });
  return {
    ready,
    stop: async () => {
      child.kill();
      await child;
      return events;
    },
  };
}

/** The most pods that existed at once during the events (a pod exists from ADDED to DELETED). */
export function mostAtOnce(events: PodEvent[], filter: (e: PodEvent) => boolean = () => true): { most: number; when: string[] } {
  const live = new Map<string, PodEvent>();
  let most = 0;
  let when: string[] = [];
  for (const e of events) {
    if (e.type === 'DELETED') live.delete(e.name);
    else live.set(e.name, e);
    const counted = [...live.values()].filter(filter);
    if (counted.length > most) {
      most = counted.length;
      when = counted.map((p) => `${p.name}${p.deleting ? ' (terminating)' : ''} on ${p.node || '(unscheduled)'}`);
    }
  }
  return { most, when };
}

/** Runs `genrm` under a pseudo-terminal (util-linux `script`), answering `answer` to its prompt. */
export async function genrmOnTerminal(args: string[], answer: string): Promise<{ exitCode: number; output: string }> {
  const command = ['node', join(repoRoot, 'bin/genrm.mjs'), ...args, '--request-timeout', '60s'].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const r = await execa('script', ['-qec', command, '/dev/null'], {
    env: clusterEnv({ NO_COLOR: '1' }),
    extendEnv: false,
    reject: false,
    input: `${answer}\n`,
    cwd: repoRoot,
    timeout: 120_000,
  });
  return { exitCode: r.exitCode ?? -1, output: String(r.stdout) };
}
