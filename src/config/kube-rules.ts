/**
 * The rules the Kubernetes apiserver (and the container runtime) apply to values that a config
 * passes through into the manifests, so that a bad value is refused at synth, naming its key,
 * rather than by the cluster. Each rule follows the source that enforces it:
 *
 * - names, label keys and values: k8s.io/apimachinery pkg/util/validation/validation.go (v0.31.0):
 *   `IsDNS1123Label`, `IsDNS1035Label`, `IsDNS1123Subdomain`, `IsQualifiedName`, `IsValidLabelValue`;
 * - extended resource names: kubernetes pkg/apis/core/validation/validation.go
 *   (`validateContainerResourceName`) and pkg/apis/core/helper/helpers.go
 *   (`IsExtendedResourceName`: a domain-prefixed name outside `kubernetes.io`, whose
 *   `requests.<name>` is a qualified name), v1.31;
 * - int32 fields (probe thresholds, periods, replicas, ports): the API types are int32, and the
 *   apiserver refuses a JSON number that does not fit;
 * - image references: github.com/distribution/reference regexp.go (v0.5.0), the grammar the
 *   kubelet and container runtimes parse (an invalid one ends in `InvalidImageName`).
 */
import * as z from 'zod';

/** The largest value of an int32 API field. */
export const INT32_MAX = 2_147_483_647;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Why `value` is not a DNS-1123 label (`IsDNS1123Label`), or undefined. */
export function dns1123LabelProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be at most 63 characters';
  if (!DNS1123_LABEL.test(value)) return 'must be a DNS label: lower-case letters, digits and "-", starting and ending with a letter or digit';
  return undefined;
}

/** Why `value` is not a DNS-1035 label (`IsDNS1035Label`: Service names), or undefined. */
export function dns1035LabelProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be at most 63 characters';
  if (!DNS1035_LABEL.test(value)) return 'must be a DNS-1035 label: lower-case letters, digits and "-", starting with a letter and ending with a letter or digit';
  return undefined;
}

/** Why `value` is not a DNS-1123 subdomain (`IsDNS1123Subdomain`: most object names), or undefined. */
export function dns1123SubdomainProblem(value: string): string | undefined {
  if (value.length > 253) return 'must be at most 253 characters';
  if (!DNS1123_SUBDOMAIN.test(value)) return 'must be a DNS subdomain: lower-case letters, digits, "-" and ".", starting and ending with a letter or digit';
  return undefined;
}

/** Why `key` is not a label key (`IsQualifiedName`: an optional DNS subdomain prefix and '/', then a name), or undefined. */
export function labelKeyProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return `'${key}' is not a label key: at most one '/' (an optional DNS prefix such as example.com/, then a name)`;
  const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0]];
  if (prefix !== undefined) {
    const p = prefix === '' ? 'must not be empty' : dns1123SubdomainProblem(prefix);
    if (p) return `'${key}' is not a label key: its prefix '${prefix}' ${p}`;
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return `'${key}' is not a label key: its name part must be 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

/** Why `value` is not a label value (`IsValidLabelValue`), or undefined. */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63 || (value !== '' && !QUALIFIED_NAME.test(value))) {
    return `'${value}' is not a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

/** Why `name` is not an extended resource name a container may request, or undefined. */
export function extendedResourceProblem(name: string): string | undefined {
  const slash = name.indexOf('/');
  if (slash < 0) return `'${name}' is not an extended resource name: it needs a domain prefix, e.g. nvidia.com/gpu`;
  const domain = name.slice(0, slash);
  if (domain === 'kubernetes.io' || domain.endsWith('.kubernetes.io')) return `'${name}' is in the kubernetes.io domain, reserved for native resources (use the device plugin's name, e.g. nvidia.com/gpu)`;
  if (name.startsWith('requests.')) return `'${name}' must not start with "requests."`;
  return labelKeyProblem(`requests.${name}`) ? `'${name}' is not an extended resource name (a DNS domain, '/', and a name such as gpu)` : undefined;
}

// github.com/distribution/reference regexp.go (v0.5.0).
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const IMAGE_REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`);

/** Why `image` is not an image reference the runtime can pull, or undefined. */
export function imageReferenceProblem(image: string): string | undefined {
  if (image.length > 0 && !IMAGE_REFERENCE.test(image)) {
    const name = image.split('@')[0];
    const upper = /[A-Z]/.test(name.slice(name.indexOf('/') + 1).replace(/:[^/]*$/, ''));
    return `'${image}' is not a valid image reference${upper ? ' (the repository path must be lower case)' : ''} (write [registry/]repository[:tag][@sha256:digest], e.g. vllm/vllm-openai:v0.12.0)`;
  }
  return undefined;
}

/** A zod refinement from a `...Problem` function. */
export function rule<T>(problem: (v: T) => string | undefined) {
  return (v: T, ctx: z.RefinementCtx) => {
    const p = problem(v);
    if (p) ctx.addIssue({ code: 'custom', message: p });
  };
}

/** A whole number that fits an int32 API field. */
export function int32() {
  return z.number().int().max(INT32_MAX, `must be at most ${INT32_MAX} (the API field is a 32-bit integer)`);
}

/** A map of labels (keys and values as the apiserver accepts them). */
export function labelMap() {
  return z.record(z.string(), z.string()).superRefine((labels, ctx) => {
    for (const [k, v] of Object.entries(labels)) {
      const p = labelKeyProblem(k) ?? labelValueProblem(v);
      if (p) ctx.addIssue({ code: 'custom', path: [k], message: p });
    }
  });
}
