/** What the weights download Job's log says: its progress, and Hugging Face's refusals. */
import { logLines, trimLine } from './vllm-log.ts';

export type HubRefusal = { status: 401 | 403 | 429; line: string };

/** The download's last progress update, as a short phrase. */
export function downloadProgress(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const lines = logLines(text);
  for (let i = lines.length - 1; i >= 0; i--) {
    const fetching = /Fetching (\d+) files:\s*(\d+)%.*?\|\s*(\d+)\/(\d+)/.exec(lines[i]);
    if (fetching) return `${fetching[2]}% (${fetching[3]}/${fetching[4]} files)`;
    const pct = /(\d{1,3}(?:\.\d+)?)%/.exec(lines[i]);
    if (pct && /download/i.test(lines[i])) return trimLine(lines[i], 80);
  }
  return undefined;
}

const REFUSALS: { status: HubRefusal['status']; re: RegExp }[] = [
  { status: 429, re: /\b429\b.*(Too Many Requests|Client Error|rate)|Too Many Requests|rate limit/i },
  { status: 401, re: /\b401\b.*(Unauthorized|Client Error)|GatedRepoError|Invalid (user )?token|Repository Not Found|RepositoryNotFoundError|must be authenticated/i },
  { status: 403, re: /\b403\b.*(Forbidden|Client Error)|not in the authorized list|Access to model .* is restricted|awaiting a review/i },
];

/** The last Hugging Face refusal (401/403/429) in the log. */
export function hubRefusal(text: string | undefined): HubRefusal | undefined {
  if (text === undefined) return undefined;
  const lines = logLines(text);
  for (let i = lines.length - 1; i >= 0; i--) {
    for (const { status, re } of REFUSALS) {
      if (re.test(lines[i])) return { status, line: trimLine(lines[i]) };
    }
  }
  return undefined;
}

/**
 * The download script's stall watchdog giving up on an attempt
 * (src/constructs/scripts/download-weights.py: "no byte of ... arrived for N s: the transfer is
 * stalled"), with the seconds it waited.
 */
export function downloadStall(text: string | undefined): { seconds: number; line: string } | undefined {
  if (text === undefined) return undefined;
  const lines = logLines(text);
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /no byte of \S+ arrived for (\d+) s: the transfer is stalled/.exec(lines[i]);
    if (m) return { seconds: Number(m[1]), line: trimLine(lines[i]) };
  }
  return undefined;
}
