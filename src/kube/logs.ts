/** `kubectl logs`: an excerpt of one container's log, or a followed stream. */
import { terminalSafe } from '../cli/terminal.ts';
import { runKubectl, streamKubectl } from './run.ts';
import type { KubeTarget } from './target.ts';

export interface LogQuery {
  /** A pod name, or `job/<name>`, `deployment/<name>`. Exclusive with `selector`. */
  resource?: string;
  /** A label selector (all matching pods, each line prefixed with its pod). */
  selector?: string;
  container: string;
  /** Lines from the end. @default 200 */
  tail?: number;
  /** The previous (crashed or killed) instance of the container. */
  previous?: boolean;
  /** The most pods to read with a selector. @default 10 */
  maxPods?: number;
}

export function logArgs(query: LogQuery, follow = false): string[] {
  const args = ['logs'];
  if (query.resource !== undefined) args.push(query.resource);
  else if (query.selector !== undefined) args.push(`--selector=${query.selector}`, '--prefix', `--max-log-requests=${query.maxPods ?? 10}`);
  else throw new Error('logArgs: a resource or a selector is required');
  args.push(`--container=${query.container}`, `--tail=${query.tail ?? 200}`);
  if (query.previous) args.push('--previous');
  if (follow) args.push('--follow');
  return args;
}

/** The last lines of a container's log. */
export async function getLogs(target: KubeTarget, query: LogQuery): Promise<string> {
  const { stdout } = await runKubectl(target, logArgs(query), { operation: `read the ${query.container} log`, requests: 3 });
  // Progress bars rewrite a line with `\r`: kept as line breaks, which readers split on anyway.
  return terminalSafe(stdout.replace(/\r\n?/g, '\n'));
}

/** Streams a container's log to stdout until it ends or the user stops it. */
export async function followLogs(target: KubeTarget, query: LogQuery): Promise<number> {
  return streamKubectl(target, logArgs(query, true), { operation: `follow the ${query.container} log` });
}
