import type { ImageSpec } from './catalog-types.js';

export const ROOTFS_ARCHIVE = 'rootfs.tar';

/**
 * Renders the Dockerfile of a local image: the planned root filesystem added to `scratch` in one layer,
 * then the upstream image's runtime settings. Needs no base image, so it builds without a registry.
 */
export function renderDockerfile(spec: ImageSpec, labels: Readonly<Record<string, string>>): string {
  const lines = ['FROM scratch', `ADD ${ROOTFS_ARCHIVE} /`];
  for (const [key, value] of Object.entries(spec.env)) lines.push(`ENV ${key}=${JSON.stringify(value)}`);
  if (spec.workdir !== undefined) lines.push(`WORKDIR ${spec.workdir}`);
  if (spec.expose.length > 0) lines.push(`EXPOSE ${spec.expose.join(' ')}`);
  if (spec.volumes.length > 0) lines.push(`VOLUME ${JSON.stringify(spec.volumes)}`);
  if (spec.stopSignal !== undefined) lines.push(`STOPSIGNAL ${spec.stopSignal}`);
  if (spec.user !== undefined) lines.push(`USER ${spec.user}`);
  if (spec.entrypoint !== undefined) lines.push(`ENTRYPOINT ${JSON.stringify(spec.entrypoint)}`);
  if (spec.cmd !== undefined) lines.push(`CMD ${JSON.stringify(spec.cmd)}`);
  const labelArgs = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  if (labelArgs.length > 0) lines.push(`LABEL ${labelArgs.join(' \\\n      ')}`);
  return lines.join('\n') + '\n';
}
