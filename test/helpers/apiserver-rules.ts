/**
 * The rules a real apiserver (and its controllers, the kubelet, the LeaderWorkerSet webhook)
 * applies to objects beyond their OpenAPI schema, written once, independently of the product
 * code, and run over every synthesized object. Each rule cites where Kubernetes enforces it
 * (kubernetes/kubernetes v1.31 and kubernetes/apimachinery v0.31.0 unless stated otherwise).
 *
 * `apiserverProblems(objects)` returns one line per violation: an empty list means a cluster
 * would accept the objects and their selectors would find their pods.
 */

// apimachinery pkg/util/validation/validation.go: dns1123LabelFmt, dns1035LabelFmt,
// dns1123SubdomainFmt (each at most 63 / 63 / 253 characters), qualifiedNameFmt, labelValueFmt.
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
// apimachinery validation.go IsValidPortName: IANA_SVC_NAME, 1-15 characters, a letter among them.
const PORT_NAME = /^[-a-z0-9]{1,15}$/;
// apimachinery pkg/api/resource/quantity.go: <signedNumber><suffix>, suffix binarySI, decimalSI or e<exp>.
const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
const INT32_MAX = 2 ** 31 - 1;
const INT64_MAX = 2 ** 63 - 1;

export const isDns1123Label = (s: string) => s.length <= 63 && DNS1123_LABEL.test(s);
export const isDns1035Label = (s: string) => s.length <= 63 && DNS1035_LABEL.test(s);
export const isDns1123Subdomain = (s: string) => s.length <= 253 && DNS1123_SUBDOMAIN.test(s);

/** apimachinery validation.go IsQualifiedName: [DNS subdomain prefix '/'] name (1-63). */
export function isLabelKey(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const name = parts.at(-1)!;
  if (parts.length === 2 && (parts[0] === '' || !isDns1123Subdomain(parts[0]))) return false;
  return name.length >= 1 && name.length <= 63 && QUALIFIED_NAME.test(name);
}

/** apimachinery validation.go IsValidLabelValue: empty, or 1-63 qualified-name characters. */
export const isLabelValue = (v: string) => v === '' || (v.length <= 63 && QUALIFIED_NAME.test(v));

/** The value of a quantity, or undefined when it does not parse (quantity.go ParseQuantity). */
export function quantityValue(q: string | number): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  const m = QUANTITY.exec(q);
  if (!m) return undefined;
  const n = Number(m[1] + m[2]);
  const suffix = m[3] ?? '';
  const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
  const decimal: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
  const factor = binary[suffix] ?? decimal[suffix] ?? 10 ** Number(suffix.slice(1));
  return n * factor;
}

/**
 * apis/core/validation validateContainerResourceName + helper IsExtendedResourceName: a name
 * without '/' must be a standard resource (cpu, memory, ephemeral-storage, hugepages-*); one with
 * a domain outside kubernetes.io is extended, and `requests.<name>` must be a qualified name;
 * one in kubernetes.io is native and needs only to be a qualified name.
 */
export function isContainerResourceName(name: string): boolean {
  if (!name.includes('/')) return ['cpu', 'memory', 'ephemeral-storage'].includes(name) || name.startsWith('hugepages-');
  // helper.IsNativeResource: a name containing "kubernetes.io/" is native, and validateContainerResourceName
  // (v1.36.3 pkg/apis/core/validation/validation.go) checks a native name with a '/' only as a
  // qualified name (validateResourceName): `kubernetes.io/gpu` is accepted, as the real apiserver showed.
  if (name.includes('kubernetes.io/')) return isLabelKey(name);
  return !name.startsWith('requests.') && isLabelKey(`requests.${name}`);
}

type Json = Record<string, any>;

/** Pod templates of a workload object, with where they are. */
export function podTemplates(o: Json): { where: string; template: Json }[] {
  const spec = o.spec ?? {};
  if (o.kind === 'LeaderWorkerSet') {
    const t = spec.leaderWorkerTemplate ?? {};
    return [
      ...(t.leaderTemplate ? [{ where: 'leaderTemplate', template: t.leaderTemplate }] : []),
      ...(t.workerTemplate ? [{ where: 'workerTemplate', template: t.workerTemplate }] : []),
    ];
  }
  if (['Deployment', 'StatefulSet', 'Job', 'DaemonSet', 'ReplicaSet'].includes(o.kind) && spec.template) return [{ where: 'template', template: spec.template }];
  return [];
}

function matchesLabels(selector: Record<string, string>, labels: Record<string, string> = {}): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** A LabelSelector (matchLabels and In/NotIn/Exists/DoesNotExist expressions) against labels. */
export function selects(selector: Json, labels: Record<string, string> = {}): boolean {
  if (!matchesLabels(selector.matchLabels ?? {}, labels)) return false;
  return (selector.matchExpressions ?? []).every((e: Json) => {
    const has = Object.hasOwn(labels, e.key);
    switch (e.operator) {
      case 'In':
        return has && e.values.includes(labels[e.key]);
      case 'NotIn':
        return !has || !e.values.includes(labels[e.key]);
      case 'Exists':
        return has;
      default:
        return !has;
    }
  });
}

/** The name rule of each kind (what its validation's ValidateNameFunc is). */
function nameProblem(o: Json): string | undefined {
  const name: string = o.metadata?.name ?? '';
  switch (o.kind) {
    // apis/core/validation ValidateServiceName = NameIsDNS1035Label.
    case 'Service':
    // lws pkg/webhooks/leaderworkerset_webhook.go: the name is the headless Service's (NameIsDNS1035Label).
    case 'LeaderWorkerSet':
      return isDns1035Label(name) ? undefined : 'name is not a DNS-1035 label';
    // apis/core/validation ValidateNamespaceName = NameIsDNSLabel.
    case 'Namespace':
      return isDns1123Label(name) ? undefined : 'name is not a DNS-1123 label';
    // apis/batch/validation validateJob: the name becomes the pods' job-name label value.
    case 'Job':
      return isDns1123Subdomain(name) && isLabelValue(name) ? undefined : 'name is not a DNS subdomain of at most 63 characters';
    // apps/v1 StatefulSet pods carry controller-revision-hash=<name>-<10-character hash>: a label value.
    case 'StatefulSet':
      return isDns1123Label(name) && name.length <= 52 ? undefined : 'name is not a DNS-1123 label of at most 52 characters';
    default:
      return isDns1123Subdomain(name) ? undefined : 'name is not a DNS subdomain';
  }
}

function labelProblems(where: string, labels: Record<string, string> | undefined): string[] {
  return Object.entries(labels ?? {}).flatMap(([k, v]) => [
    ...(isLabelKey(k) ? [] : [`${where}: label key '${k}' is not a qualified name`]),
    ...(isLabelValue(String(v)) ? [] : [`${where}: label value '${v}' (key ${k}) is not a valid label value`]),
  ]);
}

/** Fields the API types as int64 (every other integer field of these kinds is int32). */
const INT64_FIELDS = new Set(['terminationGracePeriodSeconds', 'activeDeadlineSeconds', 'runAsUser', 'runAsGroup', 'fsGroup', 'expirationSeconds']);

function numberProblems(where: string, value: unknown, key = ''): string[] {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return [`${where}: ${key} is not finite`];
    if (!Number.isInteger(value)) return [];
    const max = INT64_FIELDS.has(key) ? INT64_MAX : INT32_MAX;
    return Math.abs(value) > max ? [`${where}: ${key} = ${value} overflows its ${max === INT32_MAX ? 'int32' : 'int64'} field`] : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => numberProblems(`${where}[${i}]`, v, key));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => numberProblems(where, v, k));
  return [];
}

/** The handlers a probe may have (apis/core/validation validateHandler: exactly one). */
const PROBE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'];

/**
 * apis/core/validation validateLivenessProbe / validateReadinessProbe / validateStartupProbe /
 * validateProbe: exactly one handler ("must specify a handler type", "may not specify more than
 * 1 handler type"), non-negative delays and timeouts, and successThreshold 1 for liveness and
 * startup probes ("must be 1").
 */
function probeProblems(where: string, c: Json): string[] {
  const out: string[] = [];
  for (const which of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const probe = c[which];
    if (!probe) continue;
    const handlers = PROBE_HANDLERS.filter((h) => probe[h] !== undefined);
    if (handlers.length !== 1) out.push(`${where}: ${which} has ${handlers.length === 0 ? 'no handler' : `${handlers.length} handlers (${handlers.join(', ')})`}; it needs exactly one`);
    for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
      if (typeof probe[f] === 'number' && probe[f] < 0) out.push(`${where}: ${which}.${f} is negative`);
    }
    if (which !== 'readinessProbe' && probe.successThreshold !== undefined && probe.successThreshold !== 1) out.push(`${where}: ${which}.successThreshold must be 1`);
  }
  return out;
}

function podProblems(where: string, template: Json): string[] {
  const out: string[] = [...labelProblems(`${where}.metadata.labels`, template.metadata?.labels)];
  const spec = template.spec ?? {};
  const containers: Json[] = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  const names = new Set<string>();
  const ports = new Map<number, string>();
  for (const c of containers) {
    // apis/core/validation validateContainers: names are unique DNS-1123 labels.
    if (!isDns1123Label(c.name)) out.push(`${where}: container name '${c.name}' is not a DNS-1123 label`);
    if (names.has(c.name)) out.push(`${where}: container name '${c.name}' is not unique`);
    names.add(c.name);
    for (const p of c.ports ?? []) {
      if (p.name !== undefined && !(PORT_NAME.test(p.name) && /[a-z]/.test(p.name) && !p.name.includes('--'))) out.push(`${where}: port name '${p.name}' is not an IANA_SVC_NAME`);
      // validateContainerPorts: containerPort is required (not 0) and IsValidPortNum (1-65535).
      if (!(Number.isInteger(p.containerPort) && p.containerPort >= 1 && p.containerPort <= 65535)) out.push(`${where}: container ${c.name}: containerPort ${p.containerPort} is not a port number (1-65535)`);
      // Containers share the pod's network: two listening on one port cannot both start.
      const other = ports.get(p.containerPort);
      if (other !== undefined) out.push(`${where}: containers ${other} and ${c.name} both listen on port ${p.containerPort}`);
      ports.set(p.containerPort, c.name);
    }
    for (const kind of ['requests', 'limits'] as const) {
      for (const [r, q] of Object.entries<string | number>(c.resources?.[kind] ?? {})) {
        if (!isContainerResourceName(r)) out.push(`${where}: container ${c.name}: resource name '${r}' is neither standard nor an extended resource name`);
        const v = quantityValue(q);
        // quantity.go: "no quantity may represent a number greater than 2^63-1"; the scheduler sums milli-values.
        if (v === undefined || v < 0) out.push(`${where}: container ${c.name}: ${kind}.${r} '${q}' is not a quantity`);
        else if ((r === 'cpu' ? v * 1000 : v) > INT64_MAX) out.push(`${where}: container ${c.name}: ${kind}.${r} '${q}' is out of range`);
        // ValidateResourceQuantityValue: an integer resource (every extended resource, helper
        // IsIntegerResourceName) must be a whole number ("must be an integer").
        else if (r.includes('/') && !Number.isInteger(v)) out.push(`${where}: container ${c.name}: ${kind}.${r} '${q}' is not a whole number`);
      }
    }
    // validateResourceRequirements: an extended resource needs equal requests and limits (whole numbers).
    for (const r of Object.keys(c.resources?.limits ?? {}).filter((x) => x.includes('/'))) {
      if (String(c.resources.limits[r]) !== String(c.resources.requests?.[r] ?? c.resources.limits[r])) out.push(`${where}: container ${c.name}: ${r} requests differ from limits`);
    }
  }
  for (const c of containers) out.push(...probeProblems(`${where}: container ${c.name}`, c));
  for (const v of spec.volumes ?? []) if (!isDns1123Label(v.name)) out.push(`${where}: volume name '${v.name}' is not a DNS-1123 label`);
  out.push(...labelProblems(`${where}.spec.nodeSelector`, spec.nodeSelector));
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) {
    for (const e of t.matchExpressions ?? []) {
      // ValidateNodeSelectorRequirement: the key is a label name; node labels are label values, so
      // a requirement value that is not one can never match a node.
      if (!isLabelKey(e.key)) out.push(`${where}: node affinity key '${e.key}' is not a label key`);
      for (const v of e.values ?? []) if (!isLabelValue(v)) out.push(`${where}: node affinity value '${v}' can never match a node label`);
    }
  }
  for (const t of spec.tolerations ?? []) {
    // validateTolerations: the key is a label name.
    if (t.key !== undefined && !isLabelKey(t.key)) out.push(`${where}: toleration key '${t.key}' is not a label key`);
  }
  if (spec.priorityClassName !== undefined && !isDns1123Subdomain(spec.priorityClassName)) out.push(`${where}: priorityClassName is not a DNS subdomain`);
  return out;
}

/**
 * The LeaderWorkerSet validating webhook (sigs.k8s.io/lws v0.8.0
 * pkg/webhooks/leaderworkerset_webhook.go, generalValidate): replicas >= 0, size >= 1, maxSurge
 * and maxUnavailable integers or percentages of at most 100%, not both 0.
 */
function leaderWorkerSetProblems(where: string, o: Json): string[] {
  const out: string[] = [];
  const spec = o.spec ?? {};
  if (typeof spec.replicas === 'number' && spec.replicas < 0) out.push(`${where}: replicas must be equal or greater than 0`);
  const size = spec.leaderWorkerTemplate?.size;
  if (typeof size === 'number' && size < 1) out.push(`${where}: leaderWorkerTemplate.size must be equal or greater than 1`);
  const rolling = spec.rolloutStrategy?.rollingUpdateConfiguration ?? {};
  const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
  // intstr.GetScaledValueFromIntOrPercent: maxUnavailable rounds down, maxSurge up; the CRD
  // defaults are maxUnavailable 1, maxSurge 0.
  const scaled = (f: string, fallback: number, roundUp: boolean): number | undefined => {
    const v = rolling[f] ?? fallback;
    if (typeof v === 'number') {
      if (v < 0) out.push(`${where}: rollingUpdateConfiguration.${f} must be greater than or equal to 0`);
      return v;
    }
    const percent = /^(\d+)%$/.exec(String(v));
    if (!percent) {
      out.push(`${where}: rollingUpdateConfiguration.${f} '${v}' is not an integer or percentage`);
      return undefined;
    }
    if (Number(percent[1]) > 100) out.push(`${where}: rollingUpdateConfiguration.${f} must not be greater than 100%`);
    const x = (Number(percent[1]) * replicas) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  };
  const unavailable = scaled('maxUnavailable', 1, false);
  const surge = scaled('maxSurge', 0, true);
  if (unavailable === 0 && surge === 0 && replicas !== 0) out.push(`${where}: rollingUpdateConfiguration.maxUnavailable must not be 0 when maxSurge is 0`);
  return out;
}

/** Every rule, over a set of objects that are applied together. */
export function apiserverProblems(objects: readonly Json[]): string[] {
  const out: string[] = [];
  const workloads = objects.flatMap((o) => podTemplates(o).map((t) => ({ o, ...t })));
  const podLabelSets = workloads.map((w) => (w.template.metadata?.labels ?? {}) as Record<string, string>);
  for (const o of objects) {
    const where = `${o.kind}/${o.metadata?.name}`;
    const n = nameProblem(o);
    if (n) out.push(`${where}: ${n}`);
    if (o.metadata?.namespace !== undefined && !isDns1123Label(o.metadata.namespace)) out.push(`${where}: namespace is not a DNS-1123 label`);
    out.push(...labelProblems(`${where}.metadata.labels`, o.metadata?.labels));
    for (const k of Object.keys(o.metadata?.annotations ?? {})) if (!isLabelKey(k)) out.push(`${where}: annotation key '${k}' is not a qualified name`);
    out.push(...numberProblems(where, o.spec));
    for (const t of podTemplates(o)) {
      out.push(...podProblems(`${where} ${t.where}`, t.template));
      // apps validation ValidateDeploymentSpec/StatefulSet: the selector must match the template's labels.
      if (o.spec.selector && !selects(o.spec.selector, t.template.metadata?.labels)) out.push(`${where}: selector does not match its ${t.where} labels`);
    }
    if (o.kind === 'LeaderWorkerSet') out.push(...leaderWorkerSetProblems(where, o));
    if (o.kind === 'Service') {
      const seen = new Set<string>();
      for (const p of o.spec?.ports ?? []) {
        // validateServicePort / ValidateService: (port, protocol) pairs and names are unique.
        const key = `${p.port}/${p.protocol ?? 'TCP'}`;
        if (seen.has(key)) out.push(`${where}: port ${key} is duplicated`);
        seen.add(key);
      }
      const selector = o.spec?.selector as Record<string, string> | undefined;
      if (selector && !podLabelSets.some((l) => matchesLabels(selector, l))) out.push(`${where}: selector ${JSON.stringify(selector)} matches no pod template`);
    }
    const podSelector = o.kind === 'PodDisruptionBudget' ? o.spec?.selector : o.kind === 'NetworkPolicy' ? o.spec?.podSelector : o.kind === 'PodMonitor' ? o.spec?.selector : undefined;
    if (podSelector && !podLabelSets.some((l) => selects(podSelector, l))) out.push(`${where}: pod selector matches no pod template`);
    if (o.kind === 'ServiceMonitor') {
      const services = objects.filter((s) => s.kind === 'Service' && selects(o.spec.selector, s.metadata.labels));
      if (services.length === 0) out.push(`${where}: selector matches no Service`);
    }
    const target = o.kind === 'ScaledObject' || o.kind === 'HorizontalPodAutoscaler' ? o.spec.scaleTargetRef : undefined;
    if (target && !objects.some((w) => w.kind === (target.kind ?? 'Deployment') && w.metadata.name === target.name)) out.push(`${where}: scale target ${target.kind}/${target.name} is not among the objects`);
  }
  return out;
}
