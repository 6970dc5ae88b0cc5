import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DASHBOARD_METRICS, dashboardUid, grafanaDashboard, podRegex, type DashboardPanel } from '../src/monitoring/dashboard.ts';

const dashboard = grafanaDashboard({ title: 'GenRM', namespace: 'genrm', instance: 'genrm' });
const queryPanels = dashboard.panels.filter((p) => p.type !== 'row');
const exprs = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

/** Every `{...}` selector in a PromQL expression, as its text. */
function selectors(expr: string): string[] {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g)].map((m) => m[0]);
}

/** Checks that (), {} and [] nest and close, ignoring characters inside string literals. */
function balanced(expr: string): boolean {
  const pairs: Record<string, string> = { ')': '(', '}': '{', ']': '[' };
  const stack: string[] = [];
  let inString = false;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '(' || c === '{' || c === '[') stack.push(c);
    else if (c in pairs && stack.pop() !== pairs[c]) return false;
  }
  return stack.length === 0 && !inString;
}

describe('grafanaDashboard', () => {
  it('is a Grafana JSON model with schemaVersion 39, a UID and a Prometheus data source variable', () => {
    expect(dashboard.schemaVersion).toBe(39);
    expect(dashboard.title).toBe('GenRM');
    // genrm-, then the first 8 hex digits of sha256("genrm/genrm") (`printf genrm/genrm | sha256sum`)
    expect(dashboard.uid).toBe('genrm-31645896');
    expect(dashboard.uid.length).toBeLessThanOrEqual(40);
    expect(dashboard.templating.list).toEqual([expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' })]);
    expect(JSON.parse(JSON.stringify(dashboard))).toEqual(dashboard);
  });

  it('gives every panel a unique id and a gridPos inside the 24-column grid, without overlaps', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      const { x, y, w, h } = p.gridPos;
      expect(Number.isInteger(x) && Number.isInteger(y) && w > 0 && h > 0, p.title).toBe(true);
      expect(x + w, p.title).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          const cell = `${i},${j}`;
          expect(cells.has(cell), `${p.title} overlaps at ${cell}`).toBe(false);
          cells.add(cell);
        }
      }
    }
  });

  it('gives every query panel at least one target with a non-empty expr, a unique refId and the data source', () => {
    expect(queryPanels.length).toBeGreaterThanOrEqual(12);
    for (const p of queryPanels) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      const refIds = p.targets!.map((t) => t.refId);
      expect(new Set(refIds).size, p.title).toBe(refIds.length);
      for (const t of p.targets!) {
        expect(t.expr.trim(), p.title).not.toBe('');
        expect(t.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      }
      expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
  });

  it('queries every vLLM and gate metric it promises', () => {
    const all = exprs.join('\n');
    for (const metric of DASHBOARD_METRICS) expect(all, metric).toContain(`${metric}{`);
    expect(all).toContain('rate(vllm:generation_tokens_total{');
    expect(all).toContain('rate(vllm:prompt_tokens_total{');
    expect(all).toMatch(/sum by \(result\) \(increase\(genrm_gate_check_total\{[^}]*\}\[1h\]\)\)/);
    expect(all).toMatch(/time\(\) - \(genrm_gate_last_success_timestamp_seconds\{[^}]*\} > 0\)/);
  });

  it('shows the gate under load: inconclusive checks, confirmations, engine stalls and drains', () => {
    const panel = (title: string) => queryPanels.find((p) => p.title === title)?.targets?.map((t) => t.expr) ?? [];
    expect(panel('Inconclusive checks per hour')).toEqual([expect.stringMatching(/^sum by \(pod\) \(increase\(genrm_gate_inconclusive_checks_total\{[^}]*\}\[1h\]\)\)$/)]);
    expect(panel('Confirmation checks per hour')).toEqual([expect.stringMatching(/^sum by \(result\) \(increase\(genrm_gate_confirmation_checks_total\{[^}]*\}\[1h\]\)\)$/)]);
    expect(panel('Engine stalls')).toEqual([expect.stringMatching(/^sum by \(pod\) \(increase\(genrm_gate_engine_stalls_total\{[^}]*\}\[1h\]\)\)$/)]);
    expect(panel('Drains')).toEqual([expect.stringMatching(/^sum by \(result\) \(increase\(genrm_gate_drains_total\{[^}]*\}\[1h\]\)\)$/)]);
    expect(dashboard.panels.find((p) => p.type === 'row' && p.title === 'Judge gate under load')).toBeDefined();
  });

  it('queries every metric the gate exports', async () => {
    const { GateMetrics } = await import('../src/gate/metrics.ts');
    const text = new GateMetrics().render(false);
    const families = [...text.matchAll(/^# TYPE (genrm_gate_\w+) (\w+)$/gm)].map(([, name, type]) => (type === 'histogram' ? `${name}_bucket` : name));
    expect(families.length).toBeGreaterThan(8);
    const all = exprs.join('\n');
    const unused = families.filter((f) => !all.includes(`${f}{`) && !['genrm_gate_judging_requests_total', 'genrm_gate_model_polls_total'].includes(f));
    expect(unused).toEqual([]);
  });

  it('reads the KV cache from the gauge vLLM v0.12.0 exports', () => {
    const kv = exprs.find((e) => e.includes('vllm:kv_cache_usage_perc'));
    expect(kv).toMatch(/^max by \(pod\) \(vllm:kv_cache_usage_perc\{[^}]*\}\)$/);
    // vllm:gpu_cache_usage_perc is gone at vLLM v0.12.0 (vllm/v1/metrics/loggers.py).
    expect(exprs.join('\n')).not.toContain('gpu_cache_usage_perc');
  });

  it('computes p50 and p95 for time to first token, end-to-end latency and check duration', () => {
    for (const metric of ['vllm:time_to_first_token_seconds_bucket', 'vllm:e2e_request_latency_seconds_bucket', 'genrm_gate_check_duration_seconds_bucket']) {
      for (const q of ['0.5', '0.95']) {
        expect(exprs.some((e) => e.startsWith(`histogram_quantile(${q}, sum by (le) (rate(${metric}{`)), `${metric} p${q}`).toBe(true);
      }
    }
  });

  it('filters every metric selector by the namespace and the instance pods', () => {
    expect(exprs.length).toBeGreaterThan(0);
    for (const e of exprs) {
      const sels = selectors(e);
      expect(sels.length, e).toBeGreaterThan(0);
      for (const s of sels) {
        expect(s, e).toContain('namespace="genrm"');
        expect(s, e).toContain(`pod=~"${podRegex('genrm')}"`);
      }
      // No bare metric name without a selector.
      const bare = e.replace(/"[^"]*"/g, '""').match(/(vllm:[a-z_:]+|genrm_gate_[a-z_]+)(?!\{)\b/g);
      expect(bare, e).toBeNull();
    }
  });

  it('writes syntactically sane PromQL: balanced brackets outside strings, no empty selectors', () => {
    for (const e of exprs) {
      expect(balanced(e), e).toBe(true);
      expect(e, e).not.toContain('{}');
      expect(e, e).not.toMatch(/,\s*[,}]/);
    }
    expect(balanced('sum(rate(x{a="(" }[1m]))')).toBe(true);
    expect(balanced('sum(rate(x{a="b"}[1m])')).toBe(false);
  });

  it('gives one name in two namespaces two UIDs, each within Grafana\'s 40 characters', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/), fc.stringMatching(/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/), fc.stringMatching(/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/), (instance, a, b) => {
        fc.pre(a !== b);
        const [ua, ub] = [a, b].map((namespace) => grafanaDashboard({ title: 't', namespace, instance }).uid);
        expect(ua).not.toBe(ub);
        expect(ua).toBe(dashboardUid(a, instance));
        expect(ua.length).toBeLessThanOrEqual(40);
        expect(ua.startsWith(instance.slice(0, 31))).toBe(true);
      }),
    );
  });

  it('uses a fixed data source UID and filters vLLM series by model_name when given', () => {
    const d = grafanaDashboard({ title: 'GenRM prod', namespace: 'llm', instance: 'genrm-prod', datasourceUid: 'prom-main', servedModelName: 'nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603' });
    expect(d.templating.list).toEqual([]);
    const panels = d.panels.filter((p): p is DashboardPanel & { targets: NonNullable<DashboardPanel['targets']> } => p.type !== 'row');
    const targets = panels.flatMap((p) => p.targets);
    for (const t of targets) {
      expect(t.datasource).toEqual({ type: 'prometheus', uid: 'prom-main' });
      for (const s of selectors(t.expr)) {
        expect(s).toContain('namespace="llm"');
        expect(s).toContain(`pod=~"${podRegex('genrm-prod')}"`);
        if (s.startsWith('vllm:')) expect(s).toContain('model_name="nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603"');
        else expect(s).not.toContain('model_name');
      }
    }
  });

  it('selects the pods of the instance and not those of a longer-named instance', () => {
    const re = new RegExp(`^(?:${podRegex('genrm')})$`);
    for (const pod of ['genrm-server-7d9f8c6b5-x2k4p', 'genrm-0', 'genrm-3-1']) expect(re.test(pod), pod).toBe(true);
    for (const pod of ['genrm-prod-server-7d9f8c6b5-x2k4p', 'genrm-prod-0', 'genrm-weights-download-abcde', 'other-server-1-2']) expect(re.test(pod), pod).toBe(false);
  });

  it('rejects a namespace or instance that is not a DNS label', () => {
    expect(() => grafanaDashboard({ title: 't', namespace: 'Bad_NS', instance: 'genrm' })).toThrow(/namespace must be a DNS-1123 label, got "Bad_NS"/);
    expect(() => grafanaDashboard({ title: 't', namespace: 'genrm', instance: 'a"b' })).toThrow(/instance must be a DNS-1123 label/);
  });
});
