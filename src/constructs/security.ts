/** The hardened container security context used by every container of the chart. */
import * as kplus from 'cdk8s-plus-28';

/**
 * No privilege escalation, every capability dropped, the runtime's default seccomp profile.
 * `nonRoot` containers run as uid/gid 1000; the vLLM image needs root (it writes under /root).
 */
export function restrictedSecurityContext({ nonRoot, readOnlyRoot }: { nonRoot: boolean; readOnlyRoot: boolean }): kplus.ContainerSecurityContextProps {
  return {
    ensureNonRoot: nonRoot,
    ...(nonRoot ? { user: 1000, group: 1000 } : { user: 0, group: 0 }),
    privileged: false,
    readOnlyRootFilesystem: readOnlyRoot,
    allowPrivilegeEscalation: false,
    capabilities: { drop: [kplus.Capability.ALL] },
    seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
  };
}
